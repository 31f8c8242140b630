/**
 * `data windows --json` reads the windows' committed state where `etl.windows` keeps it (architecture.md, "Windows
 * across members"): in members mode the latest snapshot of every stage-2 task in `<group>-pv-state` on the real
 * cluster (snapshots written here as a task commits them, an older one first), in process mode the aggregator state
 * of the checkpoint store. An unreachable Kafka in members mode is an error naming it, within
 * kafka.unreachable_timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCheckpoint, emptyCheckpointState } from '../../../src/checkpoint/checkpointState.js';
import { rewriteStoreKeepingOffsets } from '../../../src/checkpoint/storeRewrite.js';
import type { WindowStateReport } from '../../../src/commands/dataWindows.js';
import type { Config } from '../../../src/config/schema.js';
import { fetchTopicRanges } from '../../../src/kafka/admin/topicEnds.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { windowTopicNames } from '../../../src/kafka/admin/windowTopics.js';
import { CHECKPOINT_FILE } from '../../../src/platform/supervisor.js';
import type { PageViewWindowsSnapshot } from '../../../src/windows/pageViewWindows.js';
import { repartitionOfUrl } from '../../../src/windows/repartitionRecords.js';
import { stateKey, type Stage2Snapshot } from '../../../src/windows/stage2Windows.js';
import { TestProducer } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 6, 10, 0, 0);

/** `data windows --json` with `env`; fails on a non-zero exit. */
async function dataWindows(env: Record<string, string>): Promise<WindowStateReport> {
  const result = await runCli(['data', 'windows', '--json'], env, 120_000);
  if (result.code !== 0) throw new Error(`data windows exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as WindowStateReport;
}

/** A url that task r of R owns. */
function urlOf(r: number, partitions: number): string {
  for (let i = 0; ; i++) {
    const url = `https://shop.example.com/p/${i}`;
    if (repartitionOfUrl(url, partitions) === r) return url;
  }
}

/** Task r's snapshot: `late` late events, emitted up to `frontierMs`, watermark `watermarkMs`, one open window. */
function taskSnapshot(r: number, partitions: number, late: number, frontierMs: number, watermarkMs: number) {
  const snapshot: Stage2Snapshot = {
    version: 1,
    partition: r,
    partitions,
    sizeMs: MIN,
    offset: String(10 + r),
    sourcePartitions: 1,
    watermarkMs,
    emittedFrontierMs: frontierMs,
    lateEventsTotal: late,
    duplicateRecords: 0,
    sources: [{ partition: 0, watermarkMs, idle: false, throughOffset: '99' }],
    openWindows: [[frontierMs, [[urlOf(r, partitions), 2]]]],
    lateWindows: [],
  };
  return { partition: r, key: stateKey(r), value: JSON.stringify(snapshot) };
}

describe('data windows with etl.windows: members', () => {
  const logger = testLogger();
  let config: Config;
  let env: Record<string, string>;
  let tasks: number;

  beforeAll(async () => {
    config = loadTestConfig({ etl: { windows: 'members' } });
    env = {
      SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
      SDP_TOPICS__IOT: config.topics.iot,
      SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
      SDP_ETL__WINDOWS: 'members',
    };
    await createTopics(config, logger);
    const names = windowTopicNames(config.etl.consumer_group);
    tasks = (await fetchTopicRanges(config, logger, [names.repartition])).get(names.repartition)!.size;
  }, 120_000);

  afterAll(async () => {
    if (config) await deleteTopics(config, platformTopicNames(config));
  });

  it('finds no state, and says so, while the state topic holds no snapshot; or when the topics do not exist', async () => {
    const empty = await dataWindows(env);
    expect(empty).toMatchObject({ mode: 'members', source: 'pv_state_topic', found: false, tasks });
    expect(empty.location).toBe(`${config.etl.consumer_group}-pv-state`);
    expect(empty.note).toBe(`no stage-2 task has committed a snapshot to ${empty.location} yet`);
    const none = await dataWindows({ ...env, SDP_ETL__CONSUMER_GROUP: `${config.etl.consumer_group}-none` });
    expect(none).toMatchObject({ found: false, late_events_total: null });
    expect(none.note).toMatch(/-none-pv-repartition and .*-none-pv-state do not exist/);
  });

  it("sums every task's latest snapshot: late events, the lowest frontier and watermark, the open windows", async () => {
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      const state = windowTopicNames(config.etl.consumer_group).state;
      // An older snapshot of every task first: only the latest of each counts.
      await producer.send(
        state,
        Array.from({ length: tasks }, (_, r) => taskSnapshot(r, tasks, 100, T0 - 5 * MIN, T0 - 5 * MIN)),
      );
      await producer.send(
        state,
        Array.from({ length: tasks }, (_, r) => taskSnapshot(r, tasks, r + 1, T0 + r * MIN, T0 + r * MIN + 1_000)),
      );
    } finally {
      await producer.disconnect();
    }
    const report = await dataWindows(env);
    expect(report).toEqual({
      mode: 'members',
      source: 'pv_state_topic',
      location: `${config.etl.consumer_group}-pv-state`,
      found: true,
      late_events_total: (tasks * (tasks + 1)) / 2,
      emitted_frontier_ms: T0,
      global_watermark_ms: T0 + 1_000,
      // Each task's open window starts at its own frontier: one window per task.
      open_windows: tasks,
      checkpoint_seq: null,
      task_snapshots: tasks,
      tasks,
      note: null,
    });
    const text = await runCli(['data', 'windows'], env, 120_000);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `state from the pv-state topic ${report.location} (${tasks} of ${tasks} task snapshots)`,
    );
    expect(text.stdout).toMatch(new RegExp(`^late events total\\s+${report.late_events_total}$`, 'm'));
  });

  it('reports an unreachable Kafka as an error naming it, within kafka.unreachable_timeout', async () => {
    const result = await runCli(
      ['data', 'windows', '--json'],
      { ...env, SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1', SDP_KAFKA__UNREACHABLE_TIMEOUT: '3s' },
      60_000,
    );
    expect(result.code).toBe(1);
    expect(result.elapsedMs).toBeLessThan(20_000);
    expect(result.stderr).toMatch(/error SDP_ERR_KAFKA_UNREACHABLE: Kafka is unreachable at 127\.0\.0\.1:1/);
    expect(result.stdout).toBe('');
  });
});

describe('data windows with etl.windows: process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-data-windows-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the aggregator's latest window checkpoint from the store, without asking Kafka", async () => {
    const aggState: PageViewWindowsSnapshot = {
      version: 1,
      sizeMs: MIN,
      lateEventsTotal: 4,
      emittedFrontierMs: T0,
      watermarks: { globalWatermarkMs: T0 + 20_000, partitions: [] },
      offsets: [{ partition: 0, lastOffset: '9' }],
      openWindows: [{ startMs: T0, counts: [{ url: '/a', count: 3 }] }],
    };
    const state = applyCheckpoint(emptyCheckpointState(), {
      type: 'agg',
      sink: 'agg:clicks-w',
      topic: 'clicks-w',
      seq: 5,
      offsets: { '0': '9' },
      state: aggState,
      renames: [],
      rows: 0,
    });
    const file = join(dir, CHECKPOINT_FILE);
    await rewriteStoreKeepingOffsets(file, state);
    // Kafka unreachable: process mode never asks it.
    const report = await dataWindows({
      SDP_ETL__WINDOWS: 'process',
      SDP_TOPICS__CLICKSTREAM: 'clicks-w',
      SDP_STORAGE__CHECKPOINT_ROOT: dir,
      SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1',
    });
    expect(report).toEqual({
      mode: 'process',
      source: 'checkpoint_store',
      location: file,
      found: true,
      late_events_total: 4,
      emitted_frontier_ms: T0,
      global_watermark_ms: T0 + 20_000,
      open_windows: 1,
      checkpoint_seq: 5,
      task_snapshots: null,
      tasks: null,
      note: null,
    });
  });
});
