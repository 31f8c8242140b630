import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  spawnWindowStage,
  type Stage2CompactionSettings,
  type WindowStageFlushReply,
  type WindowStageMetrics,
  type WindowStageMsg,
} from '../../../src/actors/windowStage.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { ErrorCodes, type SdpError } from '../../../src/errors.js';
import type { ConsumedBatch } from '../../../src/kafka/topicConsumer.js';
import type { RetentionSettings } from '../../../src/etl/ownerExpiry.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { aggFilePath, aggTaskFilePath } from '../../../src/lake/layout.js';
import { aggRows as aggFixtureRows, batchOf } from '../lake/fixtures.js';
import { dispatch, query, stop, type Ref } from '../../../src/system/nact.js';
import {
  encodeRepartitionRecord,
  type RepartitionMessage,
  repartitionOfUrl,
} from '../../../src/windows/repartitionRecords.js';
import { repartitionPurgeTotals } from '../../../src/windows/repartitionPurgeTotals.js';
import { decodeStage2CommitMetadata, encodeStage2CommitMetadata } from '../../../src/windows/stage2CommitMetadata.js';
import { prepareOwnerMerge } from '../../../src/etl/ownerCompaction.js';
import { restore } from '../../../src/windows/stage2Windows.js';
import { fakeConsumerFactory, type FakeConsumer } from './fakes/fakeConsumer.js';
import { FakeWindowKafka, TOPIC_ID } from './fakes/fakeWindowKafka.js';
import { listFiles, openReader, type Reader } from './fakes/lakeFiles.js';
import { sqlPath } from '../lake/duckdb.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, tempDir, waitFor } from './fakes/testKit.js';

let reader: Reader;
beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
afterEach(cleanUp);

const Q_MS = 5_000;
const R = 2;
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const URLS = ['/home', '/cart', '/search', '/product/1', '/product/2', '/checkout', '/about', '/help', '/blog'];
/** Two urls routed to each repartition partition. */
const urlsOf = (r: number): [string, string] => {
  const urls = URLS.filter((u) => repartitionOfUrl(u, R) === r);
  if (urls.length < 2) throw new Error(`not two urls of partition ${r}`);
  return [urls[0]!, urls[1]!];
};
const pad = (n: number | bigint): string => String(n).padStart(20, '0');

function testConfig(etl: Partial<Config['etl']> = {}): Config {
  const file = join(import.meta.dirname, '../../../config.yml');
  const { config } = parseConfig(readFileSync(file, 'utf8'), file, {});
  // Commits only when a test flushes, unless it says otherwise.
  return {
    ...config,
    etl: { ...config.etl, parquet_encoder: 'hyparquet-writer', checkpoint_interval: 3_600_000, ...etl },
  };
}

interface RecordSpec {
  /** Source (clickstream) partition, of 2. */
  sp: number;
  through: number;
  /** Watermark of the source; omitted: -Infinity. */
  wm?: number;
  idle?: boolean;
  windows?: Array<[number, Array<[string, number]>]>;
}

/** A stage-1 record for repartition partition r. */
function rec(r: number, spec: RecordSpec): RepartitionMessage {
  return encodeRepartitionRecord({
    sourcePartition: spec.sp,
    sourcePartitions: 2,
    partition: r,
    partitions: R,
    windowSizeMs: MIN,
    throughOffset: String(spec.through),
    watermarkMs: spec.wm ?? -Infinity,
    idle: spec.idle ?? false,
    windows: (spec.windows ?? []).map(([startMs, counts]) => ({
      startMs,
      counts: counts.map(([url, count]) => ({ url, count })).sort((a, b) => (a.url < b.url ? -1 : 1)),
    })),
  });
}

/** The messages as the batch of partition r read from offset `first` (consecutive offsets). */
function batch(r: number, first: number, messages: ReadonlyArray<RepartitionMessage | { key: string; value: string }>) {
  const last = first + messages.length - 1;
  return {
    topic: 'sdp-etl-pv-repartition',
    partition: r,
    fetchedOffset: String(first),
    lastOffset: String(last),
    highWatermark: String(last + 1),
    caughtUp: true,
    messages: messages.map((m, i) => ({
      offset: String(first + i),
      key: Buffer.from(m.key),
      value: Buffer.from(m.value),
      timestampMs: T0,
    })),
  } satisfies ConsumedBatch;
}

interface Harness {
  ref: Ref<WindowStageMsg>;
  system: ReturnType<typeof newSystem>;
  lakeRoot: string;
  consumer: FakeConsumer;
  ask<T>(msg: WindowStageMsg): Promise<T>;
  metrics(): Promise<WindowStageMetrics>;
  flush(): Promise<WindowStageFlushReply>;
  assign(assigned: number[], revoked?: number[]): Map<number, string>;
  deliver(b: ConsumedBatch): Promise<void>;
  /** Waits until every task of `partitions` runs. */
  running(...partitions: number[]): Promise<WindowStageMetrics>;
  failed: Array<[number, SdpError]>;
  /** The partitions of the commits the stage told of (onCommitted), in order. */
  told: number[];
}

async function startStage(
  kafka: FakeWindowKafka,
  options: {
    lakeRoot?: string;
    writerId?: string;
    etl?: Partial<Config['etl']>;
    retention?: RetentionSettings;
    compaction?: Stage2CompactionSettings;
  } = {},
): Promise<Harness> {
  const system = newSystem();
  const config = testConfig(options.etl);
  const lakeRoot = options.lakeRoot ?? join(tempDir('sdp-window-stage-'), 'lake');
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  const consumers = fakeConsumerFactory({
    ends: new Map([
      [0, '0'],
      [1, '0'],
    ]),
  });
  const failed: Array<[number, SdpError]> = [];
  const told: number[] = [];
  const ref = spawnWindowStage(system, {
    config,
    logger: silentLogger,
    lakeRoot,
    encoderPool,
    writerId: options.writerId ?? 'aa',
    kafka: kafka.kafka(),
    createConsumer: consumers.createConsumer,
    onTaskFailed: (partition, error) => failed.push([partition, error]),
    onCommitted: (partition) => told.push(partition),
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.compaction ? { compaction: options.compaction } : {}),
  });
  // The actor itself, before its system: a system stop in nact 7 stops no child, so no afterStop would run.
  onCleanUp(() => stop(ref));
  const ask = <T>(msg: WindowStageMsg): Promise<T> => query<WindowStageMsg, T>(ref, () => msg, Q_MS);
  expect(await ask({ type: 'start' })).toEqual({ ok: true, partitions: 2 });
  const consumer = consumers.consumer();
  const metrics = () => ask<WindowStageMetrics>({ type: 'metrics' });
  return {
    ref,
    system,
    lakeRoot,
    consumer,
    ask,
    metrics,
    flush: () => ask<WindowStageFlushReply>({ type: 'flush' }),
    assign: (assigned, revoked = []) => consumer.handlers().onAssignment(assigned, revoked),
    deliver: (b) => consumer.handlers().onBatch(b),
    running: (...partitions) =>
      waitFor(
        async () => {
          const m = await metrics();
          const ok = partitions.every((p) => m.tasks.find((t) => t.partition === p)?.phase === 'running');
          return ok ? m : undefined;
        },
        `tasks ${partitions.join(', ')} running`,
      ),
    failed,
    told,
  };
}

/** Every `clickstream_agg` row as [minute start, url, pv], sorted. */
async function aggRows(lakeRoot: string): Promise<Array<[number, string, number]>> {
  const files = (await listFiles(lakeRoot)).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) return [];
  const rows = await reader.rows(
    `SELECT epoch_ms(minute_start) AS ms, epoch_ms(minute_end) - epoch_ms(minute_start) AS size, url, pv ` +
      `FROM read_parquet(${sqlPath(join(lakeRoot, 'tables/clickstream_agg/**/*.parquet'))}) ORDER BY ms, url`,
  );
  for (const row of rows) expect(Number(row.size)).toBe(MIN);
  return rows.map((row) => [Number(row.ms), String(row.url), Number(row.pv)]);
}

async function tmpFiles(lakeRoot: string): Promise<string[]> {
  return (await listFiles(lakeRoot)).filter((f) => f.endsWith('.tmp'));
}

describe('window stage (stage-2 tasks)', () => {
  it('takes its partitions over, applies their records and commits closed windows, named by offsets', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0, 1]);
    await h.running(0, 1);
    // Paused until taken over, then seeked to the start (nothing committed yet) and resumed.
    const calls = h.consumer.calls.filter((c) => c.call !== 'seek');
    expect(calls.slice(0, 2)).toEqual([
      { call: 'pause', partition: 0 },
      { call: 'pause', partition: 1 },
    ]);
    // The two takeovers run side by side: either may end first.
    expect(
      calls.slice(2).sort((x, y) => ('partition' in x && 'partition' in y ? x.partition - y.partition : 0)),
    ).toEqual([
      { call: 'resume', partition: 0 },
      { call: 'resume', partition: 1 },
    ]);
    expect(h.consumer.seeks().sort()).toEqual([
      [0, '0'],
      [1, '0'],
    ]);

    const [a, b] = urlsOf(0);
    await h.deliver(
      batch(0, 0, [
        rec(0, {
          sp: 0,
          through: 10,
          wm: T0,
          windows: [
            [
              T0,
              [
                [a, 3],
                [b, 1],
              ],
            ],
          ],
        }),
        rec(0, {
          sp: 1,
          through: 20,
          wm: T0,
          windows: [
            [T0, [[a, 2]]],
            [T0 + MIN, [[b, 5]]],
          ],
        }),
        // Both sources past the end of the first minute: it closes; the second stays open.
        rec(0, { sp: 0, through: 11, wm: T0 + MIN }),
        rec(0, { sp: 1, through: 21, wm: T0 + MIN + 1 }),
      ]),
    );
    await h.flush();
    expect(await aggRows(h.lakeRoot)).toEqual([
      [T0, a, 5],
      [T0, b, 1],
    ]);
    expect(await listFiles(h.lakeRoot)).toEqual([
      `tables/clickstream_agg/dt=2026-12-05/r0/part-0-${pad(0)}-${pad(3)}.parquet`,
    ]);
    // One transaction: the snapshot of partition 0 and its next offset with metadata naming the file.
    expect(kafka.commits).toHaveLength(1);
    const [commit] = kafka.commits;
    expect(commit!.transactionalId).toBe('sdp-etl-sdp-etl-pv-repartition-0');
    expect(commit!.records.map((r) => [r.topic, r.partition, r.key])).toEqual([['sdp-etl-pv-state', 0, '0']]);
    expect(commit!.offsets.map((o) => [o.topic, o.partition, o.offset])).toEqual([['sdp-etl-pv-repartition', 0, 4n]]);
    expect(decodeStage2CommitMetadata(commit!.offsets[0]!.metadata)).toEqual({
      v: 1,
      topicId: TOPIC_ID,
      writer: 'aa',
      files: { first: '0', last: '3', dts: ['2026-12-05'] },
    });
    const state = restore(kafka.states.get(0)!, { partition: 0, partitions: R, sizeMs: MIN });
    expect(state.offset).toBe(3n);
    expect([...state.open.keys()]).toEqual([T0 + MIN]);

    // A late count for the emitted minute: counted, never emitted; the metrics say where the windows stand.
    await h.deliver(batch(0, 4, [rec(0, { sp: 0, through: 12, wm: T0 + MIN, windows: [[T0, [[a, 4]]]] })]));
    await h.flush();
    expect(await aggRows(h.lakeRoot)).toEqual([
      [T0, a, 5],
      [T0, b, 1],
    ]);
    const m = await h.metrics();
    expect(m).toMatchObject({
      partitions: 2,
      lateEventsTotal: 4,
      windowsOpen: 1,
      rowsEmittedTotal: 2,
      windowsEmittedTotal: 1,
      commits: 2,
      commitsRefused: 0,
      takeovers: 2,
      failedTasks: 0,
      // Task 1 has heard from no source yet: the member's watermark is unknown.
      globalWatermarkMs: null,
    });
    // What each source's marks told this member's tasks: the highest watermark of each.
    expect([...m.sourceWatermarks].sort()).toEqual([
      [0, T0 + MIN],
      [1, T0 + MIN + 1],
    ]);
    expect(m.tasks.map((t) => [t.partition, t.phase, t.position, t.watermarkMs, t.openEntries])).toEqual([
      [0, 'running', '5', T0 + MIN, 1],
      [1, 'running', '0', null, 0],
    ]);
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
  });

  it('a second instance resumes from the committed snapshot and offset: every window once, counts exact', async () => {
    const kafka = new FakeWindowKafka();
    const first = await startStage(kafka, { writerId: 'aa' });
    first.assign([0, 1]);
    await first.running(0, 1);
    const [a, b] = urlsOf(1);
    const records = [
      rec(1, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] }),
      rec(1, {
        sp: 1,
        through: 1,
        wm: T0,
        windows: [
          [
            T0,
            [
              [a, 2],
              [b, 7],
            ],
          ],
        ],
      }),
      rec(1, { sp: 0, through: 2, wm: T0 + 30_000, windows: [[T0, [[b, 1]]]] }),
      rec(1, { sp: 1, through: 2, wm: T0 + MIN, windows: [[T0 + MIN, [[a, 4]]]] }),
      rec(1, {
        sp: 0,
        through: 3,
        wm: T0 + 2 * MIN,
        windows: [
          [
            T0 + MIN,
            [
              [a, 1],
              [b, 1],
            ],
          ],
        ],
      }),
      rec(1, { sp: 1, through: 3, wm: T0 + 2 * MIN }),
    ];
    await first.deliver(batch(1, 0, records.slice(0, 2)));
    await first.flush(); // offsets 0..1 committed, nothing closed yet
    await first.deliver(batch(1, 2, records.slice(2, 4))); // applied, never committed
    expect(kafka.committed.get(1)?.offset).toBe(2n);
    stop(first.ref); // as a kill: no flush

    const second = await startStage(kafka, { writerId: 'bb', lakeRoot: first.lakeRoot });
    second.assign([1]);
    await second.running(1);
    expect(second.consumer.seeks()).toEqual([[1, '2']]);
    // The consumer delivers from the committed offset again, the tail too.
    await second.deliver(batch(1, 2, records.slice(2)));
    await second.flush();
    expect(await aggRows(first.lakeRoot)).toEqual([
      [T0, a, 3],
      [T0, b, 8],
      [T0 + MIN, a, 5],
      [T0 + MIN, b, 1],
    ]);
    expect(await listFiles(first.lakeRoot)).toEqual([
      `tables/clickstream_agg/dt=2026-12-05/r1/part-1-${pad(2)}-${pad(5)}.parquet`,
    ]);
    // The first instance's producer of task 1 was fenced by the second's takeover.
    const firstTx = kafka.instances.filter((i) => i.transactionalId.endsWith('-1'));
    expect(firstTx.map((i) => i.takeOvers)).toEqual([1, 1]);
    expect(kafka.takeOvers(1)).toBe(2);
  });

  it('a fenced commit renames nothing, deletes its tmp files and takes the task over again', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    const closing = [
      rec(0, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[a, 2]]]] }),
      rec(0, { sp: 1, through: 1, wm: T0 + MIN }),
    ];
    await h.deliver(batch(0, 0, closing));
    kafka.failNextCommits('fenced');
    await h.flush();
    expect(await listFiles(h.lakeRoot)).toEqual([]); // no final, no tmp
    expect(kafka.committed.size).toBe(0);
    expect(h.told).toEqual([]); // a refused commit is no checkpoint
    // Taken over again after the back-off (the group still assigns it here), from the last commit: none.
    const m = await waitFor(async () => {
      const now = await h.metrics();
      return now.takeovers === 2 && now.tasks[0]?.phase === 'running' ? now : undefined;
    }, 'the second takeover');
    expect(m.commitsRefused).toBe(1);
    expect(h.consumer.seeks()).toEqual([
      [0, '0'],
      [0, '0'],
    ]);
    await h.deliver(batch(0, 0, closing));
    await h.flush();
    expect(await aggRows(h.lakeRoot)).toEqual([[T0, a, 2]]);
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
    expect(h.told).toEqual([0]);
  });

  it('a commit whose answer was lost is finished by the next takeover, from its metadata', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    await h.deliver(
      batch(0, 0, [
        rec(0, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[a, 2]]]] }),
        rec(0, { sp: 1, through: 1, wm: T0 + MIN }),
      ]),
    );
    kafka.failNextCommits('lost');
    await h.flush();
    // Committed in Kafka, not renamed: the tmp file waits for the takeover.
    expect(kafka.committed.get(0)?.offset).toBe(2n);
    expect(await tmpFiles(h.lakeRoot)).toEqual([
      `tables/clickstream_agg/dt=2026-12-05/.part-0-${pad(0)}-${pad(1)}.parquet.aa.tmp`,
    ]);
    await waitFor(async () => (await h.metrics()).takeovers === 2, 'the second takeover');
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
    expect(await aggRows(h.lakeRoot)).toEqual([[T0, a, 2]]);
    expect(h.consumer.seeks().at(-1)).toEqual([0, '2']);
  });

  it('a refused commit leaves its tmp files to the takeover, which deletes them and starts over', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    const closing = [
      rec(0, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[a, 2]]]] }),
      rec(0, { sp: 1, through: 1, wm: T0 + MIN }),
    ];
    await h.deliver(batch(0, 0, closing));
    kafka.failNextCommits('failed');
    await h.flush();
    expect(await tmpFiles(h.lakeRoot)).toHaveLength(1);
    await waitFor(async () => (await h.metrics()).takeovers === 2, 'the second takeover');
    expect(await listFiles(h.lakeRoot)).toEqual([]);
    await h.deliver(batch(0, 0, closing));
    await h.flush();
    expect(await aggRows(h.lakeRoot)).toEqual([[T0, a, 2]]);
  });

  it('a record it cannot read stops its task, with the offset and why; the other task goes on', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0, 1]);
    await h.running(0, 1);
    const [a] = urlsOf(0);
    const [c] = urlsOf(1);
    await h.deliver(
      batch(0, 0, [
        rec(0, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[a, 1]]]] }),
        { key: '0', value: '{"hello":"world"}' },
        rec(0, { sp: 1, through: 1, wm: T0 + MIN }),
      ]),
    );
    await h.deliver(
      batch(1, 0, [
        rec(1, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[c, 1]]]] }),
        rec(1, { sp: 1, through: 1, wm: T0 + MIN }),
      ]),
    );
    await h.flush();
    expect(await aggRows(h.lakeRoot)).toEqual([[T0, c, 1]]);
    const m = await h.metrics();
    expect(m.failedTasks).toBe(1);
    expect(m.tasks[0]).toMatchObject({
      phase: 'failed',
      error: expect.stringContaining(ErrorCodes.WINDOW_RECORD_INVALID),
    });
    expect(m.tasks[0]!.error).toContain('no "v" field');
    expect(h.failed.map(([p, e]) => [p, e.code])).toEqual([[0, ErrorCodes.WINDOW_RECORD_INVALID]]);
    expect(h.consumer.calls.at(-1)).toEqual({ call: 'pause', partition: 0 });
    expect(kafka.committed.has(0)).toBe(false);
    // A record routed with another R, or another window size, stops it the same way.
    const h2 = await startStage(new FakeWindowKafka());
    h2.assign([1]);
    await h2.running(1);
    const wrongR = encodeRepartitionRecord({
      sourcePartition: 0,
      sourcePartitions: 2,
      partition: 1,
      partitions: 3,
      windowSizeMs: MIN,
      throughOffset: '1',
      watermarkMs: T0,
      idle: false,
      windows: [],
    });
    await h2.deliver(batch(1, 0, [wrongR]));
    expect((await h2.metrics()).tasks[0]).toMatchObject({ phase: 'failed', error: expect.stringContaining('of 3') });
  });

  it('a revoked task stops at once; assigned again, it is taken over afresh', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0, 1]);
    await h.running(0, 1);
    const [a] = urlsOf(0);
    await h.deliver(batch(0, 0, [rec(0, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] })]));
    // Kept partition 1 is seeked where it stands; revoked 0 stops, nothing committed, its producer closed.
    expect(h.assign([1], [0])).toEqual(new Map([[1, '0']]));
    expect((await h.metrics()).tasks.map((t) => t.partition)).toEqual([1]);
    await waitFor(() => kafka.instances[0]!.closed, 'the producer of task 0 closed');
    await h.flush();
    expect(kafka.commits).toEqual([]);
    h.assign([0, 1]);
    await h.running(0);
    expect(kafka.takeOvers(0)).toBe(2);
    expect(h.consumer.seeks().filter(([p]) => p === 0)).toEqual([
      [0, '0'],
      [0, '0'],
    ]);
  });

  it('assigned again while its dropped commit is in flight, the task is taken over only after that commit ends', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    const closing = [
      rec(0, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[a, 2]]]] }),
      rec(0, { sp: 1, through: 1, wm: T0 + MIN }),
    ];
    await h.deliver(batch(0, 0, closing));
    let open!: () => void;
    kafka.holdCommits(new Promise<void>((resolve) => (open = resolve)));
    const flushed = h.flush();
    // Sent to Kafka, not merely its tmp file written: a task dropped before it sends gives its commit up.
    await waitFor(() => kafka.commitsAtGate === 1, 'the commit in flight (sent, waiting on Kafka)');
    h.assign([], [0]);
    h.assign([0]);
    // Its takeover would fence that commit, whose clean-up then deletes the tmp names the new task writes again.
    await new Promise((r) => setTimeout(r, 150));
    expect(kafka.takeOvers(0)).toBe(1);
    open();
    kafka.holdCommits(undefined);
    await flushed;
    await h.running(0);
    expect(kafka.takeOvers(0)).toBe(2);
    // The commit ended before the takeover: committed, renamed, and the new task resumes after it.
    expect(h.consumer.seeks().filter(([p]) => p === 0)).toEqual([
      [0, '0'],
      [0, '2'],
    ]);
    expect(await aggRows(h.lakeRoot)).toEqual([[T0, a, 2]]);
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
  });

  it('commits by itself every checkpoint interval while something changed', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka, { etl: { checkpoint_interval: 200 } });
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    await h.deliver(batch(0, 0, [rec(0, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] })]));
    await waitFor(() => kafka.commits.length === 1, 'a commit by the timer');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(kafka.commits).toHaveLength(1); // nothing changed since
    // Each commit is a checkpoint of the windows, which the status counts.
    expect(h.told).toEqual([0]);
  });

  it('deletes the repartition records its tasks committed past, at most every purge interval', async () => {
    const kafka = new FakeWindowKafka();
    kafka.failPurges = 1;
    // Kept per process (other tests purge too): what this test adds.
    const before = repartitionPurgeTotals();
    const h = await startStage(kafka, { etl: { checkpoint_interval: 100, repartition_purge_interval: 300 } });
    h.assign([0, 1]);
    await h.running(0, 1);
    const [a] = urlsOf(0);
    await h.deliver(batch(0, 0, [rec(0, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] })]));
    await waitFor(() => kafka.commits.length === 1, 'the commit of task 0');
    // The first purge fails (a leader moving): the stage goes on and sends it again an interval later.
    await waitFor(() => kafka.purges.length === 2, 'a purge and its retry');
    expect(kafka.purges).toEqual([
      { targets: [{ partition: 0, offset: 1n }], failed: true },
      { targets: [{ partition: 0, offset: 1n }], failed: false },
    ]);
    // For /metrics: one purge done, one failed, partition 0 purged up to offset 1.
    await waitFor(() => repartitionPurgeTotals().done === before.done + 1, 'the purge to be counted');
    expect(repartitionPurgeTotals()).toMatchObject({ failed: before.failed + 1 });
    expect(repartitionPurgeTotals().purgedTo.find((p) => p.partition === 0)).toEqual({ partition: 0, offset: 1 });
    const [b] = urlsOf(1);
    await h.deliver(batch(0, 1, [rec(0, { sp: 1, through: 3, wm: T0 })]));
    await h.deliver(batch(1, 0, [rec(1, { sp: 0, through: 2, wm: T0, windows: [[T0, [[b, 2]]]] })]));
    // The two commits may fall into one purge or two: what counts is where each log start ends.
    const purgedTo = (): Map<number, bigint> =>
      new Map(kafka.purges.filter((p) => !p.failed).flatMap((p) => p.targets.map((t) => [t.partition, t.offset])));
    await waitFor(() => purgedTo().get(0) === 2n && purgedTo().get(1) === 1n, 'the purges after the next commits');
    // Never past the group's committed offsets, never sooner than the interval after the last one.
    for (const p of kafka.purges)
      for (const t of p.targets) expect(t.offset).toBeLessThanOrEqual(kafka.committed.get(t.partition)!.offset);
    const sent = kafka.purges.length;
    expect(sent).toBeLessThanOrEqual(4);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(kafka.purges).toHaveLength(sent); // nothing committed since
    expect((await h.metrics()).failedTasks).toBe(0);
    // A revoked partition is not purged by this member any more.
    h.assign([1], [0]);
    await h.deliver(batch(1, 1, [rec(1, { sp: 1, through: 4, wm: T0 })]));
    await waitFor(() => kafka.purges.length === sent + 1, 'the purge of the kept partition');
    expect(kafka.purges.at(-1)!.targets).toEqual([{ partition: 1, offset: 2n }]);
    await waitFor(
      () => repartitionPurgeTotals().purgedTo.find((p) => p.partition === 1)?.offset === 2,
      'the last purge to be counted',
    );
    expect(repartitionPurgeTotals().done).toBe(before.done + kafka.purges.filter((p) => !p.failed).length);
  });

  it('drains: no more fetching, then commits what it applied', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    await h.deliver(batch(0, 0, [rec(0, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] })]));
    await h.ask({ type: 'drain' });
    expect(h.consumer.calls.some((c) => c.call === 'quiesce')).toBe(true);
    expect(kafka.committed.get(0)?.offset).toBe(1n);
    await h.ask({ type: 'close' });
    expect(h.consumer.calls.at(-1)).toEqual({ call: 'disconnect' });
    expect(kafka.instances.every((i) => i.closed)).toBe(true);
  });
});

describe('window stage: a stop reads on to the repartition ends first (windows/drainCatchUp.ts)', () => {
  it('drains: reads to the ends as they stood at the drain (stage 1 last marks), then stops fetching and commits', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka);
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    await h.deliver(batch(0, 0, [rec(0, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] })]));
    // Stage 1's last marks are in Kafka up to offset 3 (exclusive) but not fetched yet.
    kafka.ends = new Map([[0, '3']]);
    const drained = h.ask<WindowStageFlushReply>({ type: 'drain' });
    await h.metrics(); // the drain and the ends' answer are handled
    await h.metrics();
    expect(h.consumer.calls.some((c) => c.call === 'quiesce')).toBe(false);
    await h.deliver(
      batch(0, 1, [
        rec(0, { sp: 0, through: 2, wm: T0 + MIN, windows: [[T0, [[a, 2]]]] }),
        rec(0, { sp: 0, through: 3, wm: T0 + 2 * MIN }),
      ]),
    );
    await drained;
    expect(h.consumer.calls.some((c) => c.call === 'quiesce')).toBe(true);
    expect(kafka.committed.get(0)?.offset).toBe(3n);
  });

  it('drains: a task behind that is revoked meanwhile is not waited for', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka); // budget: 10 s
    h.assign([0, 1]);
    await h.running(0, 1);
    kafka.ends = new Map([
      [0, '10'],
      [1, '0'],
    ]);
    const startedMs = Date.now();
    const drained = h.ask({ type: 'drain' });
    await h.metrics();
    h.assign([1], [0]);
    await drained;
    expect(Date.now() - startedMs).toBeLessThan(3_000);
    expect(h.consumer.calls.some((c) => c.call === 'quiesce')).toBe(true);
  });

  it('drains: stops at its budget when the ends are not reached, and commits what it applied', async () => {
    const kafka = new FakeWindowKafka();
    // Budget: a third of etl.shutdown_timeout.
    const h = await startStage(kafka, { etl: { shutdown_timeout: 1_500 } });
    h.assign([0]);
    await h.running(0);
    const [a] = urlsOf(0);
    await h.deliver(batch(0, 0, [rec(0, { sp: 0, through: 1, wm: T0, windows: [[T0, [[a, 1]]]] })]));
    kafka.ends = new Map([[0, '10']]);
    const startedMs = Date.now();
    await h.ask({ type: 'drain' });
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(450);
    expect(h.consumer.calls.some((c) => c.call === 'quiesce')).toBe(true);
    expect(kafka.committed.get(0)?.offset).toBe(1n);
  });
});

describe('window stage: retention (architecture.md, "Keeping the lake: retention")', () => {
  it("a running task deletes its own r<r> units of the expired dts, record first; another task's stay", async () => {
    const lakeRoot = join(tempDir('sdp-window-stage-retention-'), 'lake');
    const old = '2024-01-01';
    const mine = aggTaskFilePath(lakeRoot, old, 0, 0, 9);
    const theirs = aggTaskFilePath(lakeRoot, old, 1, 0, 9); // task 1: another member's (not assigned here)
    // Units no task writes (R = 2): r5, and the process aggregator's agg left by a switch of etl.windows.
    const orphans = [aggTaskFilePath(lakeRoot, old, 5, 0, 9), aggFilePath(lakeRoot, old, 7)];
    for (const file of [mine, theirs, ...orphans])
      await getEncoder('hyparquet-writer').encodeToFile(
        file,
        'clickstream_agg',
        batchOf('clickstream_agg', aggFixtureRows),
        {
          rowGroupRows: 1000,
        },
      );
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka, {
      lakeRoot,
      retention: {
        days: 3,
        intervalMs: 3_600_000,
        topics: { clickstream: 'clicks', iot: 'sensors' },
        assertLakeRoot: () => undefined,
      },
    });
    h.assign([0]);
    await h.running(0);
    // The stage's tick (every second) starts the rounds of the running tasks. Task 0 takes the orphans with its own.
    await waitFor(
      () => [mine, ...orphans].every((f) => !existsSync(f)),
      'task 0 expired its old unit and the orphans',
      10_000,
    );
    const record = JSON.parse(readFileSync(join(lakeRoot, '_expired', 'r0.json'), 'utf8'));
    expect(record.dts).toEqual({ clickstream_agg: [old] });
    expect(record.agg).toEqual({
      seq: '7',
      emitted_until_ms: Math.max(...aggFixtureRows.map((r) => Number(r.minute_end))),
    });
    expect(existsSync(join(lakeRoot, '_expired', 'r1.json'))).toBe(false);
    // Commits go on after the round.
    await h.deliver(
      batch(0, 0, [rec(0, { sp: 0, through: 5, wm: T0, windows: [[T0 - 2 * MIN, [[urlsOf(0)[0], 1]]]] })]),
    );
    expect((await h.flush()).commits).toBeGreaterThan(0);
    expect(existsSync(theirs)).toBe(true);
  });

  it('a task revoked during its round writes no record and deletes nothing', async () => {
    const lakeRoot = join(tempDir('sdp-window-stage-retention-'), 'lake');
    const mine = aggTaskFilePath(lakeRoot, '2024-01-01', 0, 0, 9);
    await getEncoder('hyparquet-writer').encodeToFile(
      mine,
      'clickstream_agg',
      batchOf('clickstream_agg', aggFixtureRows),
      { rowGroupRows: 1000 },
    );
    let rounds = 0;
    const h: Harness = await startStage(new FakeWindowKafka(), {
      lakeRoot,
      retention: {
        days: 3,
        intervalMs: 3_600_000,
        topics: { clickstream: 'clicks', iot: 'sensors' },
        // The round's first step: the first round's task is revoked right there; later rounds are refused.
        assertLakeRoot: () => {
          rounds += 1;
          if (rounds === 1) h.assign([], [0]);
          else throw new Error('refused: only the first round is under test');
        },
      },
    });
    h.assign([0]);
    await waitFor(() => rounds >= 1, 'the first round started', 10_000);
    // Taken over again: the takeover waits for the revoked task's round to end.
    h.assign([0]);
    await h.running(0);
    expect(existsSync(mine)).toBe(true);
    const records = join(lakeRoot, '_expired');
    expect(existsSync(records) ? readdirSync(records) : []).toEqual([]);
  });
});

describe('window stage: compaction of its r<r> units (architecture.md, "Compaction", "Inside the ETL")', () => {
  const COMPACTION: Stage2CompactionSettings = { intervalMs: 3_600_000, targetBytes: 1 << 27, vacuumGraceMs: 0 };
  const unit0 = (lakeRoot: string): Promise<string[]> =>
    listFiles(join(lakeRoot, 'tables/clickstream_agg/dt=2026-12-05/r0'));

  /** Four commits of task 0, one closed minute each: files 0-1, 2-3, 4-5, 6-7 in unit r0; the rows they hold. */
  async function fourCommits(h: Harness): Promise<Array<[number, string, number]>> {
    const [a] = urlsOf(0);
    for (let i = 0; i < 4; i++) {
      await h.deliver(
        batch(0, 2 * i, [
          rec(0, { sp: 0, through: i + 1, wm: T0 + (i + 1) * MIN, windows: [[T0 + i * MIN, [[a, i + 1]]]] }),
          rec(0, { sp: 1, through: i + 1, wm: T0 + (i + 1) * MIN }),
        ]),
      );
      await h.flush();
    }
    expect(await unit0(h.lakeRoot)).toEqual([0, 2, 4, 6].map((o) => `part-0-${pad(o)}-${pad(o + 1)}.parquet`));
    const rows = await aggRows(h.lakeRoot);
    expect(rows).toHaveLength(4);
    return rows;
  }

  it('a due round merges the unit (never the newest commit) as one more commit of the task, then exchanges', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka, { compaction: COMPACTION });
    h.assign([0]);
    await h.running(0);
    const rows = await fourCommits(h);
    const before = kafka.commits.length;
    dispatch(h.ref, { type: 'compact', force: true });
    const merged = [`part-0-${pad(0)}-${pad(5)}.parquet`, `part-0-${pad(6)}-${pad(7)}.parquet`];
    await waitFor(async () => ((await unit0(h.lakeRoot)).join() === merged.join() ? true : undefined), 'the merge');
    expect(await aggRows(h.lakeRoot)).toEqual(rows);
    // One transaction under r's id: no snapshot, the offset of its last commit, that commit's files again and `m`.
    await waitFor(async () => (kafka.commits.length > before ? true : undefined), 'the compaction commit');
    const commit = kafka.commits.at(-1)!;
    expect(commit.transactionalId).toBe('sdp-etl-sdp-etl-pv-repartition-0');
    expect(commit.records).toEqual([]);
    expect(commit.offsets.map((o) => [o.partition, o.offset])).toEqual([[0, 8n]]);
    expect(decodeStage2CommitMetadata(commit.offsets[0]!.metadata)).toEqual({
      v: 2,
      topicId: TOPIC_ID,
      writer: 'aa',
      files: { first: '6', last: '7', dts: ['2026-12-05'] },
      merge: { dt: '2026-12-05', first: '0', last: '5' },
    });
    // The replaced files wait in `_swap` (vacuumed at the next round past the grace); no tmp file is left.
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
    // Commits go on after the round, and the next takeover reads the compaction commit's metadata.
    const [a] = urlsOf(0);
    await h.deliver(
      batch(0, 8, [rec(0, { sp: 0, through: 9, wm: T0 + 5 * MIN, windows: [[T0 + 4 * MIN, [[a, 9]]]] })]),
    );
    await h.deliver(batch(0, 9, [rec(0, { sp: 1, through: 9, wm: T0 + 5 * MIN })]));
    await h.flush();
    expect(kafka.committed.get(0)?.offset).toBe(10n);
    expect((await h.metrics()).commitsRefused).toBe(0);
  });

  it('a refused compaction commit swaps nothing, deletes the merged tmp file and takes the task over again', async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka, { compaction: COMPACTION });
    h.assign([0]);
    await h.running(0);
    const rows = await fourCommits(h);
    const files = await unit0(h.lakeRoot);
    kafka.failNextCommits('fenced');
    dispatch(h.ref, { type: 'compact', force: true });
    const m = await waitFor(async () => {
      const now = await h.metrics();
      return now.takeovers === 2 && now.tasks[0]?.phase === 'running' ? now : undefined;
    }, 'the takeover after the refused commit');
    expect(m.commitsRefused).toBe(1);
    expect(await unit0(h.lakeRoot)).toEqual(files);
    expect(await listFiles(join(h.lakeRoot, '_swap'))).toEqual([]);
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
    expect(await aggRows(h.lakeRoot)).toEqual(rows);
    expect(kafka.committed.get(0)?.offset).toBe(8n);
    expect(decodeStage2CommitMetadata(kafka.committed.get(0)!.metadata)?.merge).toBeUndefined();
  });

  it('merges nothing before the state topic holds a snapshot of its offset (a metadata alone would stop r)', async () => {
    const lakeRoot = join(tempDir('sdp-window-stage-compact-'), 'lake');
    // r0's files of an earlier run whose group and state topic are gone: nothing committed, no snapshot.
    const old = (o: number) => aggTaskFilePath(lakeRoot, '2026-12-01', 0, o, o + 1);
    for (const o of [0, 2, 4])
      await getEncoder('hyparquet-writer').encodeToFile(
        old(o),
        'clickstream_agg',
        batchOf('clickstream_agg', aggFixtureRows),
        { rowGroupRows: 1000 },
      );
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka, { lakeRoot, compaction: COMPACTION });
    h.assign([0]);
    await h.running(0);
    dispatch(h.ref, { type: 'compact', force: true });
    await new Promise((r) => setTimeout(r, 300));
    await h.metrics(); // the mailbox has handled the round's messages, if any
    expect([0, 2, 4].every((o) => existsSync(old(o)))).toBe(true);
    expect(kafka.commits).toEqual([]);
    // Once it committed (snapshot and offset together), its rounds merge.
    const [a] = urlsOf(0);
    await h.deliver(
      batch(0, 0, [
        rec(0, { sp: 0, through: 1, wm: T0 + MIN, windows: [[T0, [[a, 1]]]] }),
        rec(0, { sp: 1, through: 1, wm: T0 + MIN }),
      ]),
    );
    await h.flush();
    dispatch(h.ref, { type: 'compact', force: true });
    await waitFor(async () => (!existsSync(old(0)) ? true : undefined), 'the merge after the first commit');
    expect(existsSync(aggTaskFilePath(lakeRoot, '2026-12-01', 0, 0, 3))).toBe(true);
  });

  it("a dropped task's merge reported late leaves the same merge's tmp file of r's new task alone", async () => {
    const kafka = new FakeWindowKafka();
    const h = await startStage(kafka, { compaction: COMPACTION });
    h.assign([0]);
    await h.running(0);
    const rows = await fourCommits(h);
    // r revoked and assigned here again: task 0's ticket 1 dropped, ticket 2 runs, same writer id.
    h.assign([], [0]);
    h.assign([0]);
    await waitFor(async () => ((await h.metrics()).takeovers === 2 ? true : undefined), 'the second takeover');
    await h.running(0);
    // The new task's round writes the merge and sends its commit, held at Kafka.
    let open!: () => void;
    kafka.holdCommits(new Promise<void>((resolve) => (open = resolve)));
    dispatch(h.ref, { type: 'compact', force: true });
    await waitFor(() => kafka.commitsAtGate === 1, 'the compaction commit in flight');
    const [mergedTmp] = await tmpFiles(h.lakeRoot);
    expect(mergedTmp).toMatch(/\.part-0-0+-0+5\.parquet\.aa\.tmp$/);
    // The dropped task's write of the same plan, reported only now (the merge slot ran it before the new one).
    const merge = {
      table: 'clickstream_agg' as const,
      dt: '2026-12-05',
      unit: 'r0',
      inputs: [0, 2, 4].map((o) => `part-0-${pad(o)}-${pad(o + 1)}.parquet`),
      inputBytes: 0,
      merged: `part-0-${pad(0)}-${pad(5)}.parquet`,
    };
    const path = join(h.lakeRoot, mergedTmp!);
    dispatch(h.ref, { type: 'mergePrepared', partition: 0, ticket: 1, merge, mergedTmp: path, ms: 0 });
    await h.metrics(); // handled
    await new Promise((r) => setTimeout(r, 50)); // its delete, if any, done
    expect(existsSync(path)).toBe(true);
    open();
    kafka.holdCommits(undefined);
    const merged = [`part-0-${pad(0)}-${pad(5)}.parquet`, `part-0-${pad(6)}-${pad(7)}.parquet`];
    await waitFor(async () => ((await unit0(h.lakeRoot)).join() === merged.join() ? true : undefined), 'the merge');
    expect(await aggRows(h.lakeRoot)).toEqual(rows);
    expect(await tmpFiles(h.lakeRoot)).toEqual([]);
  });

  it('the takeover completes the swap of a merge its last commit named, before the task reads on', async () => {
    const kafka = new FakeWindowKafka();
    const first = await startStage(kafka);
    first.assign([0]);
    await first.running(0);
    const rows = await fourCommits(first);
    await stop(first.ref);
    // What a member killed right after its compaction commit left: the merged tmp file, and the commit naming it.
    const mergedTmp = await prepareOwnerMerge(
      first.lakeRoot,
      {
        table: 'clickstream_agg',
        dt: '2026-12-05',
        unit: 'r0',
        inputs: [0, 2, 4].map((o) => `part-0-${pad(o)}-${pad(o + 1)}.parquet`),
        inputBytes: 0,
        merged: `part-0-${pad(0)}-${pad(5)}.parquet`,
      },
      'aa',
    );
    expect(existsSync(mergedTmp)).toBe(true);
    kafka.committed.set(0, {
      offset: 8n,
      metadata: encodeStage2CommitMetadata({
        v: 2,
        topicId: TOPIC_ID,
        writer: 'aa',
        files: { first: '6', last: '7', dts: ['2026-12-05'] },
        merge: { dt: '2026-12-05', first: '0', last: '5' },
      }),
    });
    const second = await startStage(kafka, { lakeRoot: first.lakeRoot, writerId: 'bb' });
    second.assign([0]);
    await second.running(0);
    expect(await unit0(second.lakeRoot)).toEqual([
      `part-0-${pad(0)}-${pad(5)}.parquet`,
      `part-0-${pad(6)}-${pad(7)}.parquet`,
    ]);
    expect(existsSync(mergedTmp)).toBe(false);
    expect(await aggRows(second.lakeRoot)).toEqual(rows);
    expect(second.consumer.seeks().at(-1)).toEqual([0, '8']);
  });
});
