/**
 * An in-process ETL restart respawns the actors under the same names, so
 * whatever the torn-down generation still has in flight (commit replies, retry timers, batches)
 * reaches the new actors by name. None of it may act: no commit of the old generation, no state
 * change in the new one, no crash. And a checkpoint retry never commits twice.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { spawnCheckpointer, type CheckpointerMsg, type CommitReply } from '../../../src/actors/checkpointer.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import {
  spawnLakeWriter,
  type LakeWriterMsg,
  type LakeWriterOptions,
  type WriterAppend,
  type WriterFlushReply,
  type WriterStatus,
} from '../../../src/actors/lakeWriter.js';
import {
  spawnWindowAggregator,
  type AggregatorBatchReply,
  type AggregatorFlushReply,
  type AggregatorMetrics,
  type WindowAggregatorMsg,
  type WindowAggregatorOptions,
} from '../../../src/actors/windowAggregator.js';
import {
  applyCheckpoint,
  emptyCheckpointState,
  type AggCheckpoint,
  type CheckpointState,
  type RawCheckpoint,
} from '../../../src/checkpoint/checkpointState.js';
import type { ClickstreamRow } from '../../../src/events/types.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { dispatch, query, stop, type Ref, type SystemRef } from '../../../src/system/nact.js';
import type { PageViewBatch } from '../../../src/windows/pageViewBatch.js';
import { M, makeBatch, SIZE_MS } from '../windows/fixtures.js';
import { spawnFakeCheckpointer, type FakeCheckpointer } from './fakes/fakeCheckpointer.js';
import { listFiles } from './fakes/lakeFiles.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, sleep, tempDir, waitFor } from './fakes/testKit.js';

afterEach(cleanUp);

const Q_MS = 5_000;
/** Short enough that a lost commit reply fails the attempt quickly; the first retry waits 500 ms. */
const COMMIT_TIMEOUT_MS = 150;
const PARTITION = 0;
const DAY_MS = Date.UTC(2024, 2, 1, 10, 0, 0);

function click(offset: number): ClickstreamRow {
  return {
    event_id: `e-${offset}`,
    user_id: `u-${offset % 4}`,
    url: `/p/${offset % 3}`,
    referrer: null,
    ua: 'Mozilla/5.0',
    tsMs: DAY_MS + offset * 1000,
  };
}

function appendOf(first: number, last: number, generation: number): WriterAppend {
  const rows = Array.from({ length: last - first + 1 }, (_, i) => click(first + i));
  return { type: 'append', generation, firstOffset: String(first), lastOffset: String(last), rows, rejected: [] };
}

interface Shared {
  system: SystemRef;
  lakeRoot: string;
  checkpointer: FakeCheckpointer;
}

function shared(): Shared {
  const system = newSystem();
  const lakeRoot = join(tempDir('sdp-generations-'), 'lake');
  const checkpointer = spawnFakeCheckpointer(system, lakeRoot);
  onCleanUp(() => checkpointer.release());
  return { system, lakeRoot, checkpointer };
}

const WRITER_NAME = 'lake-writer-clickstream-0';

function startWriter(
  s: Shared,
  generation: number,
  committedOffset = '-1',
  overrides: Partial<LakeWriterOptions> = {},
): Ref<LakeWriterMsg> {
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  return spawnLakeWriter(
    s.system,
    {
      table: 'clickstream',
      topic: 'clickstream',
      partition: PARTITION,
      lakeRoot: s.lakeRoot,
      committedOffset,
      encoderPool,
      encoder: 'hyparquet-writer',
      checkpointer: s.checkpointer.ref,
      maxFileRows: 1_000_000,
      maxFileBytes: 1 << 30,
      maxFileAgeMs: 3_600_000,
      maxFileIdleMs: 3_600_000,
      rowGroupRows: 1_000,
      commitTimeoutMs: COMMIT_TIMEOUT_MS,
      logger: silentLogger,
      onDrained: () => undefined,
      generation,
      ...overrides,
    },
    WRITER_NAME,
  );
}

const status = (w: Ref<LakeWriterMsg>): Promise<WriterStatus> =>
  query<LakeWriterMsg, WriterStatus>(w, () => ({ type: 'status' }), Q_MS);
const flush = (w: Ref<LakeWriterMsg>): Promise<WriterFlushReply> =>
  query<LakeWriterMsg, WriterFlushReply>(w, () => ({ type: 'flush' }), Q_MS);

/** Waits until the actor's afterStop ran (nact runs it on setImmediate). */
const afterStops = (): Promise<void> => sleep(30);

describe('generations: lake writer', () => {
  it('a retry timer of a stopped writer never fires into its successor: no commit from the old generation', async () => {
    const s = shared();
    const old = startWriter(s, 1);
    await query(old, () => appendOf(0, 9, 1), Q_MS);
    s.checkpointer.failNext(1);
    dispatch(old, { type: 'flush' });
    await waitFor(() => s.checkpointer.failed.length === 1, 'the first commit to fail');
    await sleep(COMMIT_TIMEOUT_MS + 100); // the attempt timed out: its 500 ms retry timer is armed
    // The failure: the ETL is torn down and started again, same actor names.
    stop(old);
    await afterStops();
    const fresh = startWriter(s, 2);
    await query(fresh, () => appendOf(0, 4, 2), Q_MS);
    await sleep(1_200); // past the old retry (500 ms) and its commit timeout
    await query(fresh, () => appendOf(5, 12, 2), Q_MS);
    expect(await flush(fresh)).toEqual({ committedOffset: '12' });

    // Exactly the failed attempt of generation 1 and the one roll of generation 2.
    expect(s.checkpointer.received.map((e) => (e as RawCheckpoint).offset)).toEqual(['9', '12']);
    expect(s.checkpointer.committed.map((e) => (e as RawCheckpoint).offset)).toEqual(['12']);
    expect(s.checkpointer.renameErrors).toEqual([]);
    // (The failed attempt's tmp file stays an orphan; the next start's lake recovery deletes it.)
    const finals = (await listFiles(s.lakeRoot)).filter((f) => f.endsWith('.parquet'));
    expect(finals).toEqual([
      `tables/clickstream/dt=2024-03-01/p0/part-0-${'0'.padStart(20, '0')}-${'12'.padStart(20, '0')}.parquet`,
    ]);
    expect(await status(fresh)).toMatchObject({
      committedOffset: '12',
      rolling: false,
      filesWritten: 1,
      rowsWritten: 13,
    });
  });

  it('discards replies, timers and appends of another generation, and a reply for no roll in flight, without a crash', async () => {
    const s = shared();
    const w = startWriter(s, 2);
    await query(w, () => appendOf(0, 4, 2), Q_MS);
    // An old generation's roll completion, failure and retry; an append of its partition actor.
    dispatch(w, { type: 'rolled', generation: 1, lastOffset: '99', rows: 100, rejected: 0, files: 1, durationMs: 1 });
    dispatch(w, { type: 'rollFailed', generation: 1, lastOffset: '99', error: 'commit timed out' });
    dispatch(w, { type: 'retryRoll', generation: 1, lastOffset: '99' });
    dispatch(w, appendOf(5, 200, 1));
    // This generation's reply with no roll in flight (a duplicate): `state.roll!` was undefined here.
    dispatch(w, { type: 'rollFailed', generation: 2, lastOffset: '4', error: 'late duplicate' });
    expect(await status(w)).toMatchObject({ committedOffset: '-1', bufferedRows: 5, rolling: false, filesWritten: 0 });
    expect(await flush(w)).toEqual({ committedOffset: '4' });
    expect(s.checkpointer.committed.map((e) => (e as RawCheckpoint).offset)).toEqual(['4']);
  });
});

const SINK = 'agg:clickstream';
const WINDOWS = { sizeMs: SIZE_MS, watermarkDelayMs: 10_000, idleTimeoutMs: Infinity };
const AGG_NAME = 'window-aggregator';
const S = 1_000;
const b1 = makeBatch(0, 10, {
  events: [
    [M + 1 * S, '/a'],
    [M + 65 * S, '/a'],
  ],
}); // wm M+55s
const b2 = makeBatch(0, 20, {
  events: [
    [M + 70 * S, '/b'],
    [M + 130 * S, '/c'],
  ],
}); // wm M+120s: closes M, M+60s
const b3 = makeBatch(0, 30, { events: [[M + 200 * S, '/d']] }); // wm M+190s: closes M+120s

function startAggregator(
  s: Shared,
  generation: number,
  overrides: Partial<WindowAggregatorOptions> = {},
): Ref<WindowAggregatorMsg> {
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  return spawnWindowAggregator(
    s.system,
    {
      sink: SINK,
      topic: 'clickstream',
      lakeRoot: s.lakeRoot,
      windows: WINDOWS,
      checkpointIntervalMs: 3_600_000,
      encoderPool,
      encoder: 'hyparquet-writer',
      checkpointer: s.checkpointer.ref,
      rowGroupRows: 1_000,
      commitTimeoutMs: COMMIT_TIMEOUT_MS,
      logger: silentLogger,
      generation,
      ...overrides,
    },
    AGG_NAME,
  );
}

const batch = (a: Ref<WindowAggregatorMsg>, b: PageViewBatch, generation: number): Promise<AggregatorBatchReply> =>
  query<WindowAggregatorMsg, AggregatorBatchReply>(a, () => ({ type: 'batch', batch: b, generation }), Q_MS);
const aggFlush = (a: Ref<WindowAggregatorMsg>): Promise<AggregatorFlushReply> =>
  query<WindowAggregatorMsg, AggregatorFlushReply>(a, () => ({ type: 'flush' }), Q_MS);
const metrics = (a: Ref<WindowAggregatorMsg>): Promise<AggregatorMetrics> =>
  query<WindowAggregatorMsg, AggregatorMetrics>(a, () => ({ type: 'metrics' }), Q_MS);
const aggCommits = (s: Shared): AggCheckpoint[] =>
  s.checkpointer.committed.filter((e): e is AggCheckpoint => e.type === 'agg');

describe('generations: window aggregator', () => {
  it('a checkpoint retry timer of a stopped aggregator never fires into its successor', async () => {
    const s = shared();
    const old = startAggregator(s, 1);
    await batch(old, b1, 1);
    expect((await aggFlush(old)).seq).toBe(1);
    await batch(old, b2, 1);
    s.checkpointer.failNext(1);
    dispatch(old, { type: 'flush' });
    await waitFor(() => s.checkpointer.failed.length === 1, 'the second checkpoint to fail');
    await sleep(COMMIT_TIMEOUT_MS + 100); // its 500 ms retry timer is armed
    stop(old);
    await afterStops();
    const committed = aggCommits(s);
    const fresh = startAggregator(s, 2, { restored: { seq: 1, state: committed[0]!.state } });
    dispatch(fresh, { type: 'assign', partitions: [0] });
    await sleep(1_200); // past the old retry and its timeout
    // A batch of the old generation's partition actor changes nothing here (and gets no reply).
    dispatch(fresh, { type: 'batch', batch: b3, generation: 1 });
    expect((await metrics(fresh)).globalWatermarkMs).toBe(M + 55 * S);
    await batch(fresh, b2, 2);
    await batch(fresh, b3, 2);
    expect(await aggFlush(fresh)).toEqual({ seq: 2 });

    expect(s.checkpointer.received.map((e) => (e as AggCheckpoint).seq)).toEqual([1, 2, 2]);
    expect(aggCommits(s).map((e) => e.seq)).toEqual([1, 2]);
    expect(s.checkpointer.renameErrors).toEqual([]);
    expect(aggCommits(s)[1]!.offsets).toEqual({ '0': '30' });
    expect((await metrics(fresh)).windowsEmittedTotal).toBe(3);
  });

  it('discards replies and timers of another generation, and a reply for no checkpoint in flight, without a crash', async () => {
    const s = shared();
    const a = startAggregator(s, 2);
    await batch(a, b1, 2);
    dispatch(a, { type: 'checkpointed', generation: 1, seq: 7, rows: 3, files: 1, durationMs: 1 });
    dispatch(a, { type: 'checkpointFailed', generation: 1, seq: 7, error: 'timed out' });
    dispatch(a, { type: 'retryCheckpoint', generation: 1, seq: 7 });
    // This generation, nothing in flight: `state.inFlight!` was undefined here.
    dispatch(a, { type: 'checkpointFailed', generation: 2, seq: 1, error: 'late duplicate' });
    // An old partition actor's back-pressure and progress reports change no partition here.
    const before = (await metrics(a)).partitions;
    dispatch(a, { type: 'paused', generation: 1, partition: 0, paused: true });
    dispatch(a, { type: 'progress', generation: 1, partition: 0, caughtUp: true });
    expect((await metrics(a)).partitions).toEqual(before);
    expect(await metrics(a)).toMatchObject({ checkpoints: 0, windowsOpen: 2 });
    expect(await aggFlush(a)).toEqual({ seq: 1 });
    expect(aggCommits(s).map((e) => e.seq)).toEqual([1]);
  });
});

describe('idempotent checkpoint retry', () => {
  it('the window aggregator does not commit again when the attempt whose reply was lost had committed', async () => {
    const s = shared();
    const a = startAggregator(s, 0);
    await batch(a, b1, 0);
    await batch(a, b2, 0);
    s.checkpointer.loseRepliesOfNext(1);
    expect(await aggFlush(a)).toEqual({ seq: 1 });
    // One commit received and applied; the retry saw it in the store and sent none.
    expect(s.checkpointer.received).toHaveLength(1);
    expect(aggCommits(s).map((e) => e.seq)).toEqual([1]);
    const state = s.checkpointer.committed.reduce(applyCheckpoint, emptyCheckpointState());
    expect(state.aggregators[SINK]?.seq).toBe(1);
    expect(await listFiles(s.lakeRoot)).toEqual([
      `tables/clickstream_agg/dt=2023-11-14/agg/part-${'1'.padStart(20, '0')}.parquet`,
    ]);
    expect(await metrics(a)).toMatchObject({ checkpoints: 1 });
  });
});

describe('generations: checkpointer', () => {
  it('journals no commit of another generation and renames none of its files; its own commits go through', async () => {
    const dir = tempDir('sdp-generations-cp-');
    const lakeRoot = join(dir, 'lake');
    const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'checkpoints.sqlite'), {
      synchronous: 'NORMAL',
    });
    onCleanUp(() => engine.close());
    const system = newSystem(engine);
    const checkpointer = spawnCheckpointer(system, {
      lakeRoot,
      logger: silentLogger,
      snapshotEvery: 100,
      generation: 2,
    });
    const final = 'tables/clickstream/dt=2024-03-01/p0/part-0-00000000000000000000-00000000000000000009.parquet';
    const tmp = 'tables/clickstream/dt=2024-03-01/.part-0-00000000000000000000-00000000000000000009.parquet.tmp';
    await mkdir(dirname(join(lakeRoot, tmp)), { recursive: true });
    await writeFile(join(lakeRoot, tmp), 'PAR1');
    const event: RawCheckpoint = {
      type: 'raw',
      sink: 'raw:clickstream:0',
      topic: 'clickstream',
      partition: 0,
      offset: '9',
      renames: [{ from: tmp, to: final }],
      rows: 10,
      rejected: 0,
    };
    const read = (): Promise<CheckpointState> =>
      query<CheckpointerMsg, CheckpointState>(checkpointer, () => ({ type: 'read' }), Q_MS);

    // A commit still on its way from generation 1 (its writer was torn down): discarded, no reply.
    await expect(
      query<CheckpointerMsg, CommitReply>(checkpointer, () => ({ type: 'commit', event, generation: 1 }), 300),
    ).rejects.toThrow(/timeout/i);
    expect(await read()).toEqual(emptyCheckpointState());
    expect(existsSync(join(lakeRoot, tmp))).toBe(true);
    expect(engine.stats().eventCount).toBe(0);

    expect(
      await query<CheckpointerMsg, CommitReply>(checkpointer, () => ({ type: 'commit', event, generation: 2 }), Q_MS),
    ).toEqual({ checkpoints: 1 });
    expect((await read()).offsets).toEqual({ 'raw:clickstream:0': { '0': '9' } });
    expect(existsSync(join(lakeRoot, final))).toBe(true);
  });
});
