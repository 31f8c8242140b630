/**
 * The stage-2 window tasks as a standalone actor on the real cluster (architecture.md, "Windows across members"):
 * `topics create` makes a random group's `<group>-pv-repartition` and `<group>-pv-state` with R = 2; stage-1 records of
 * two clickstream partitions (windows/stage1Counts.ts, sent by a plain producer) feed the window stage; DuckDB reads
 * `clickstream_agg`. A first instance commits part of the windows and is stopped as a kill would (no flush, an
 * uncommitted tmp file of its own left in the lake); a second instance takes both tasks over from Kafka (fence, stable
 * offset, snapshot from the state topic) and every (minute, url) is in the lake exactly once with its exact count, and
 * no tmp file is left.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  spawnWindowStage,
  type WindowStageMetrics,
  type WindowStageMsg,
  type WindowStageStartReply,
} from '../../../src/actors/windowStage.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { fetchStableOffsets } from '../../../src/kafka/wire/offsetFetch.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { aggTaskFilePath, tmpPathFor } from '../../../src/lake/layout.js';
import { query, startSystem, stop, type Ref, type SystemRef } from '../../../src/system/nact.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { repartitionTopicName } from '../../../src/windows/repartitionRecords.js';
import { Stage1Counts } from '../../../src/windows/stage1Counts.js';
import { TEST_URLS } from '../helpers/etlTestEvents.js';
import { endOffsets, TestProducer, withAdmin } from '../helpers/kafkaTestData.js';
import { openLake, tmpFiles } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 5, 23, 57, 0); // three minutes before midnight: the windows span two dts
const MINUTES = 6;
const SOURCES = 2;
const R = 2;
const Q_MS = 30_000;

const config = loadTestConfig({ etl: { window_partitions: R, checkpoint_interval: '1h', encoder_threads: 0 } });
const logger = testLogger();
const group = config.etl.consumer_group;
const topic = repartitionTopicName(group);
const lakeRoot = mkdtempSync(join(tmpdir(), 'sdp-window-stage-'));
const instances: Array<{ system: SystemRef; ref: Ref<WindowStageMsg> }> = [];

/** Page views per `${minute}|${url}`, summed over every count produced. */
const expected = new Map<string, number>();

/** Stage 1 of each source partition, and the clickstream offset each has read to. */
const stage1 = Array.from({ length: SOURCES }, () => new Stage1Counts({ sizeMs: MIN, winFloor: null }));
const read = Array.from({ length: SOURCES }, () => 0);
const random = mulberry32(42);

/** One commit of source `sp`: counts for `minutes`, then its records to every repartition partition. */
function commitOf(sp: number, minutes: number[], watermarkMs: number, idle = false) {
  const counts = [];
  for (const m of minutes)
    for (const url of TEST_URLS) {
      const count = Math.floor(random() * 4);
      if (count === 0) continue;
      counts.push({ windowStartMs: T0 + m * MIN, url, count });
      const key = `${T0 + m * MIN}|${url}`;
      expected.set(key, (expected.get(key) ?? 0) + count);
    }
  read[sp]! += 50;
  stage1[sp]!.add({ lastOffset: String(read[sp]), maxEventTimeMs: watermarkMs, counts, lateCount: 0 });
  const { records } = stage1[sp]!.drain({
    watermarkMs,
    idle,
    partitionCount: SOURCES,
    repartitions: R,
    sourcePartition: sp,
    lastOffset: String(read[sp]),
  });
  return records.map((r) => ({ partition: r.partition, key: r.key, value: r.value }));
}

async function produce(records: Array<{ partition: number; key: string; value: string }>): Promise<void> {
  const producer = new TestProducer(config, logger);
  await producer.connect();
  try {
    await producer.send(topic, records);
  } finally {
    await producer.disconnect();
  }
}

interface Instance {
  system: SystemRef;
  ref: Ref<WindowStageMsg>;
  ask<T>(msg: WindowStageMsg): Promise<T>;
  metrics(): Promise<WindowStageMetrics>;
}

async function startInstance(writerId: string): Promise<Instance> {
  const system = startSystem(randomName('window-stage'));
  const encoderPool = createEncoderPool({ threads: 0 });
  const ref = spawnWindowStage(system, { config, logger, lakeRoot, encoderPool, writerId });
  instances.push({ system, ref });
  const ask = <T>(msg: WindowStageMsg) => query<WindowStageMsg, T>(ref, () => msg, Q_MS);
  expect(await ask<WindowStageStartReply>({ type: 'start' })).toEqual({ ok: true, partitions: R });
  return { system, ref, ask, metrics: () => ask<WindowStageMetrics>({ type: 'metrics' }) };
}

/** Until both tasks run and have read to the end of their partitions. */
async function readToEnd(instance: Instance): Promise<WindowStageMetrics> {
  const ends = await endOffsets(config, logger, topic);
  let last: WindowStageMetrics | undefined;
  await waitFor(
    async () => {
      last = await instance.metrics();
      return [...ends].every(([p, end]) => {
        const task = last!.tasks.find((t) => t.partition === p);
        return task?.phase === 'running' && task.position === end.toString();
      });
    },
    60_000,
    'both tasks read to the end',
    200,
  );
  return last!;
}

async function lakeRows(): Promise<Array<{ key: string; pv: number; copies: number }>> {
  const lake = await openLake(lakeRoot);
  try {
    const rows = await lake.rows(
      `SELECT epoch_ms(minute_start) AS ms, url, sum(pv) AS pv, count(*) AS copies,
         min(epoch_ms(minute_end) - epoch_ms(minute_start)) AS size,
         min(strftime(minute_start, '%Y-%m-%d') = dt::VARCHAR) AS right_dt
       FROM ${lake.table('clickstream_agg')} GROUP BY ALL ORDER BY ms, url`,
    );
    for (const row of rows) expect([Number(row.size), row.right_dt]).toEqual([MIN, true]);
    return rows.map((row) => ({
      key: `${Number(row.ms)}|${String(row.url)}`,
      pv: Number(row.pv),
      copies: Number(row.copies),
    }));
  } finally {
    lake.close();
  }
}

describe('window stage on the real cluster', () => {
  afterAll(async () => {
    for (const { system, ref } of instances) {
      stop(ref); // its afterStop leaves the group (a system stop would not run it)
      stop(system);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    await withAdmin(config, logger, async (admin) => {
      await admin.deleteTopics({ topics: platformTopicNames(config) }).catch(() => undefined);
      await admin.deleteGroups([group]).catch(() => undefined);
    });
    rmSync(lakeRoot, { recursive: true, force: true });
  });

  it('emits every window once with exact counts across a kill and a takeover, leaving no tmp file', async () => {
    await createTopics(config, logger);

    // Minutes 0 and 1 from both sources; their watermarks close minute 0 only.
    await produce([
      ...commitOf(0, [0, 1], T0 + MIN + 20_000),
      ...commitOf(1, [0], T0 + MIN + 5_000),
      ...commitOf(1, [1], T0 + MIN + 30_000),
    ]);
    const first = await startInstance('aaaa1111');
    await readToEnd(first);
    await first.ask({ type: 'flush' });
    const afterFirst = await lakeRows();
    expect(afterFirst.map((r) => r.key.split('|')[0])).toEqual(
      afterFirst.map(() => String(T0)), // minute 0 only
    );
    expect(afterFirst.every((r) => r.copies === 1 && r.pv === expected.get(r.key))).toBe(true);
    expect(afterFirst.length).toBeGreaterThan(0);

    // More counts reach the first instance, which applies them and is killed before it commits them.
    await produce([...commitOf(0, [1, 2, 3], T0 + 3 * MIN + 10_000), ...commitOf(1, [2, 3], T0 + 2 * MIN)]);
    await readToEnd(first);
    const stray = tmpPathFor(aggTaskFilePath(lakeRoot, '2026-12-05', 0, 7, 9), 'aaaa1111');
    mkdirSync(dirname(stray), { recursive: true });
    writeFileSync(stray, 'a roll cut short by the kill');
    const committedBefore = await fetchStableOffsets(config, group, topic, [0, 1]);
    // As a kill: no flush, no close. Its actor is stopped, not its system: nact 7's system stop stops no child (its
    // afterStop, which disconnects the consumer, would never run).
    stop(first.ref);

    // The rest, then every source idle with its watermark past the last minute: every window closes.
    await produce([
      ...commitOf(1, [3, 4, 5], T0 + 5 * MIN + 10_000),
      ...commitOf(0, [4, 5], T0 + 6 * MIN, true),
      ...commitOf(1, [], T0 + 6 * MIN, true),
    ]);
    const second = await startInstance('bbbb2222');
    const metrics = await readToEnd(second);
    expect(metrics.takeovers).toBe(R);
    expect(metrics.tasks.map((t) => t.committedOffset)).toEqual(
      [0, 1].map((p) => committedBefore.get(p)!.offset.toString()),
    );
    await second.ask({ type: 'flush' });

    const rows = await lakeRows();
    expect(rows.filter((r) => r.copies > 1)).toEqual([]);
    expect(new Map(rows.map((r) => [r.key, r.pv]))).toEqual(expected);
    expect(new Set(rows.map((r) => Number(r.key.split('|')[0]))).size).toBe(MINUTES);
    expect(tmpFiles(lakeRoot)).toEqual([]);
    const done = await second.metrics();
    expect(done).toMatchObject({ lateEventsTotal: 0, windowsOpen: 0, failedTasks: 0, globalWatermarkMs: T0 + 6 * MIN });
    // Kafka holds the end of both partitions as their committed offsets.
    const ends = await endOffsets(config, logger, topic);
    const committed = await fetchStableOffsets(config, group, topic, [0, 1]);
    expect([...committed].map(([p, c]) => [p, c.offset])).toEqual([...ends].sort(([a], [b]) => a - b));
    await second.ask({ type: 'close' });
  });
});
