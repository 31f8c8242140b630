import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  spawnWindowAggregator,
  type AggregatorBatchReply,
  type AggregatorFlushReply,
  type AggregatorMetrics,
  type WindowAggregatorMsg,
  type WindowAggregatorOptions,
} from '../../../src/actors/windowAggregator.js';
import type { AggCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import type { Logger } from '../../../src/log/logger.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { tmpPathFor } from '../../../src/lake/layout.js';
import { dispatch, query, stop, type Ref, type SystemRef } from '../../../src/system/nact.js';
import type { PageViewBatch } from '../../../src/windows/pageViewBatch.js';
import { PageViewWindows } from '../../../src/windows/pageViewWindows.js';
import { M, makeBatch, SIZE_MS } from '../windows/fixtures.js';
import { spawnFakeCheckpointer, type FakeCheckpointer } from './fakes/fakeCheckpointer.js';
import { columnTypes, listFiles, openReader, readRows, type Reader } from './fakes/lakeFiles.js';
import {
  cleanUp,
  newSystem,
  onCleanUp,
  settleBeforeStop,
  silentLogger,
  sleep,
  tempDir,
  waitFor,
} from './fakes/testKit.js';

let reader: Reader;
beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
afterEach(cleanUp);

const SINK = 'agg:clickstream';
const DELAY_MS = 10_000;
const WINDOWS = { sizeMs: SIZE_MS, watermarkDelayMs: DELAY_MS, idleTimeoutMs: Infinity };
const Q_MS = 5_000;
const S = 1_000;
/** M is 2023-11-14T22:14:00Z. */
const DT = 'dt=2023-11-14';

// One partition's stream: each batch closes the windows whose end its max event time - delay passes.
const b1 = makeBatch(0, 10, {
  events: [
    [M + 1 * S, '/a'],
    [M + 2 * S, '/b'],
    [M + 30 * S, '/a'],
    [M + 65 * S, '/a'],
  ],
}); // wm M+55s
const b2 = makeBatch(0, 20, {
  events: [
    [M + 70 * S, '/b'],
    [M + 130 * S, '/c'],
  ],
}); // wm M+120s: closes M, M+60s
const b3 = makeBatch(0, 30, {
  events: [
    [M + 150 * S, '/c'],
    [M + 200 * S, '/d'],
  ],
}); // wm M+190s: closes M+120s
const b4 = makeBatch(0, 40, {
  events: [
    [M + 250 * S, '/e'],
    [M + 100 * S, '/late'],
  ],
}); // wm M+240s: closes M+180s; /late is late

type AggRow = [minuteStartMs: number, minuteEndMs: number, url: string, pv: number];
const W = (startS: number, url: string, pv: number): AggRow => [M + startS * S, M + startS * S + SIZE_MS, url, pv];
const CLOSED_BY_B2: AggRow[] = [W(0, '/a', 2), W(0, '/b', 1), W(60, '/a', 1), W(60, '/b', 1)];
const CLOSED_BY_B4: AggRow[] = [...CLOSED_BY_B2, W(120, '/c', 2), W(180, '/d', 1)];

interface Harness {
  system: SystemRef;
  lakeRoot: string;
  checkpointer: FakeCheckpointer;
  ref: Ref<WindowAggregatorMsg>;
  batch(batch: PageViewBatch): Promise<AggregatorBatchReply>;
  flush(): Promise<AggregatorFlushReply>;
  metrics(): Promise<AggregatorMetrics>;
  /** Starts another aggregator on the same lake and fake checkpointer (after stopping the first). */
  restart(restored: { seq: number; state: unknown }, name: string): Harness;
}

function startAggregator(
  overrides: Partial<WindowAggregatorOptions> = {},
  shared?: { system: SystemRef; lakeRoot: string; checkpointer: FakeCheckpointer },
  name = 'window-aggregator',
): Harness {
  const system = shared?.system ?? newSystem();
  const lakeRoot = shared?.lakeRoot ?? join(tempDir('sdp-aggregator-'), 'lake');
  const checkpointer = shared?.checkpointer ?? spawnFakeCheckpointer(system, lakeRoot);
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  const ref = spawnWindowAggregator(
    system,
    {
      sink: SINK,
      topic: 'clickstream',
      lakeRoot,
      windows: WINDOWS,
      checkpointIntervalMs: 20,
      encoderPool,
      encoder: 'hyparquet-writer',
      checkpointer: checkpointer.ref,
      rowGroupRows: 1_000,
      commitTimeoutMs: Q_MS,
      logger: silentLogger,
      ...overrides,
    },
    name,
  );
  settleBeforeStop(() => query<WindowAggregatorMsg, AggregatorFlushReply>(ref, () => ({ type: 'flush' }), Q_MS));
  if (!shared) onCleanUp(() => checkpointer.release());
  const h: Harness = {
    system,
    lakeRoot,
    checkpointer,
    ref,
    batch: (batch) => query<WindowAggregatorMsg, AggregatorBatchReply>(ref, () => ({ type: 'batch', batch }), Q_MS),
    flush: () => query<WindowAggregatorMsg, AggregatorFlushReply>(ref, () => ({ type: 'flush' }), Q_MS),
    metrics: () => query<WindowAggregatorMsg, AggregatorMetrics>(ref, () => ({ type: 'metrics' }), Q_MS),
    restart: (restored, nextName) => {
      stop(ref);
      return startAggregator({ ...overrides, restored }, { system, lakeRoot, checkpointer }, nextName);
    },
  };
  return h;
}

const sortRows = (rows: AggRow[]): AggRow[] => [...rows].sort((a, b) => a[0] - b[0] || a[2].localeCompare(b[2]));

/** Every row in every committed clickstream_agg file of the lake. */
async function lakeRows(h: Harness): Promise<AggRow[]> {
  const rows: AggRow[] = [];
  for (const file of await listFiles(h.lakeRoot)) {
    expect(file).toMatch(/^tables\/clickstream_agg\/dt=\d{4}-\d{2}-\d{2}\/agg\/part-\d{20}\.parquet$/);
    for (const r of await readRows(reader, join(h.lakeRoot, file), 'clickstream_agg')) {
      rows.push([r.minute_start as number, r.minute_end as number, r.url as string, r.pv as number]);
    }
  }
  return sortRows(rows);
}

const commits = (h: Harness): AggCheckpoint[] => h.checkpointer.committed as AggCheckpoint[];

describe('window aggregator: checkpoints', () => {
  it('commits the rows of exactly the closed windows, with its state, offsets and an increasing seq', async () => {
    const h = startAggregator();
    expect(await h.batch(b1)).toEqual({ globalWatermarkMs: M + 55 * S });
    expect(await h.batch(b2)).toEqual({ globalWatermarkMs: M + 120 * S });
    const { seq } = await h.flush();

    const events = commits(h);
    expect(events.length).toBeGreaterThan(0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(seq).toBe(events.length);
    for (const event of events) {
      expect(event).toMatchObject({ type: 'agg', sink: SINK, topic: 'clickstream' });
      for (const rename of event.renames) {
        const name = `tables/clickstream_agg/${DT}/agg/part-${String(event.seq).padStart(20, '0')}.parquet`;
        expect(rename).toEqual({ from: tmpPathFor(name), to: name });
      }
    }
    const last = events[events.length - 1]!;
    expect(last.offsets).toEqual({ '0': '20' });
    expect(events.reduce((n, e) => n + e.rows, 0)).toBe(CLOSED_BY_B2.length);

    // The committed files hold the closed windows, once each; the open one is not there.
    expect(await lakeRows(h)).toEqual(sortRows(CLOSED_BY_B2));
    const withRows = events.find((e) => e.rows > 0)!;
    expect(await columnTypes(reader, join(h.lakeRoot, withRows.renames[0]!.to))).toMatchObject({
      minute_start: 'TIMESTAMP',
      minute_end: 'TIMESTAMP',
      url: 'VARCHAR',
      pv: 'BIGINT',
    });

    // The state restores: the open window M+120s and the offset are in it.
    const restored = PageViewWindows.fromJSON(last.state, WINDOWS, Date.now());
    expect(restored.windowsOpen).toBe(1);
    expect(restored.offsetOf(0)).toBe('20');
    expect(restored.globalWatermarkMs).toBe(M + 120 * S);
  });

  it('a new aggregator restored from a committed event continues identically: no window twice, open ones completed later', async () => {
    // Reference run, never interrupted.
    const reference = startAggregator();
    for (const b of [b1, b2, b3, b4]) await reference.batch(b);
    await reference.flush();
    const referenceMetrics = await reference.metrics();
    expect(await lakeRows(reference)).toEqual(sortRows(CLOSED_BY_B4));

    // Interrupted run: b1, b2, checkpoint, stop; restore from the last event; b2 again (replay), b3, b4.
    const first = startAggregator();
    await first.batch(b1);
    await first.batch(b2);
    await first.flush();
    const last = commits(first)[commits(first).length - 1]!;
    const committedBefore = commits(first).length;
    const second = first.restart({ seq: last.seq, state: last.state }, 'window-aggregator-2');
    // As the ingest actor does when the group assigns the partition again after a restart.
    dispatch(second.ref, { type: 'assign', partitions: [0] });
    expect(await second.batch(b2)).toEqual({ globalWatermarkMs: M + 120 * S });
    await second.batch(b3);
    await second.batch(b4);
    const { seq } = await second.flush();

    const after = commits(second).slice(committedBefore);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]!.seq).toBe(last.seq + 1);
    expect(seq).toBe(after[after.length - 1]!.seq);
    expect(await lakeRows(second)).toEqual(sortRows(CLOSED_BY_B4));
    const metrics = await second.metrics();
    expect(metrics.lateEventsTotal).toBe(referenceMetrics.lateEventsTotal);
    expect(metrics.windowsOpen).toBe(referenceMetrics.windowsOpen);
    expect(after[after.length - 1]!.state).toEqual(commits(reference)[commits(reference).length - 1]!.state);
  });

  it('does not checkpoint when nothing changed', async () => {
    const h = startAggregator();
    await sleep(150);
    expect(await h.flush()).toEqual({ seq: 0 });
    expect(h.checkpointer.received).toEqual([]);

    await h.batch(b1);
    await waitFor(() => h.checkpointer.committed.length > 0, 'a checkpoint after a batch');
    const count = h.checkpointer.received.length;
    await sleep(150);
    // A replayed batch (offset at or below the stored one) changes nothing either.
    expect(await h.batch(b1)).toEqual({ globalWatermarkMs: M + 55 * S });
    await sleep(150);
    expect(await h.flush()).toEqual({ seq: count });
    expect(h.checkpointer.received).toHaveLength(count);
  });

  it('emits windows when an assigned partition goes idle, re-checked on its timer; a paused partition never does', async () => {
    const h = startAggregator({ windows: { ...WINDOWS, idleTimeoutMs: 100 } });
    dispatch(h.ref, { type: 'assign', partitions: [0, 1] });
    expect(await h.batch(b2)).toEqual({ globalWatermarkMs: -Infinity }); // partition 1 holds it back
    dispatch(h.ref, { type: 'paused', partition: 1, paused: true });
    dispatch(h.ref, { type: 'progress', partition: 1, caughtUp: true });
    await sleep(250);
    await h.flush();
    expect(await lakeRows(h)).toEqual([]);

    dispatch(h.ref, { type: 'paused', partition: 1, paused: false });
    await waitFor(async () => (await h.metrics()).globalWatermarkMs === M + 120 * S, 'partition 1 to go idle', 3_000);
    await h.flush();
    expect(await lakeRows(h)).toEqual([W(60, '/b', 1)]); // b2 alone: M+60s holds one /b; M+120s stays open
  });
});

describe('window aggregator: metrics', () => {
  it('reports late events, open windows and the watermark lag', async () => {
    const h = startAggregator();
    await h.batch(b1);
    await h.batch(b2);
    // One count for the closed window M, plus three the partition already classified as late.
    await h.batch({ ...makeBatch(0, 25, { events: [[M + 10 * S, '/x']] }), lateCount: 3 });
    const beforeMs = Date.now();
    const metrics = await h.metrics();
    const afterMs = Date.now();

    expect(metrics.lateEventsTotal).toBe(4);
    expect(metrics.windowsOpen).toBe(1);
    expect(metrics.globalWatermarkMs).toBe(M + 120 * S);
    expect(metrics.watermarkLagSeconds).toBeGreaterThanOrEqual((beforeMs - (M + 120 * S)) / 1000);
    expect(metrics.watermarkLagSeconds).toBeLessThanOrEqual((afterMs - (M + 120 * S)) / 1000);
    expect(metrics.windowsEmittedTotal).toBe(2);
    expect(metrics.rowsEmittedTotal).toBe(4);
    expect(metrics.partitions).toEqual([expect.objectContaining({ partition: 0, watermarkMs: M + 120 * S })]);
  });

  it('reports no lag before any watermark', async () => {
    const h = startAggregator();
    expect(await h.metrics()).toMatchObject({
      lateEventsTotal: 0,
      windowsOpen: 0,
      watermarkLagSeconds: null,
      globalWatermarkMs: null,
    });
  });
});

describe('window aggregator: restart', () => {
  it('assigns restored partitions together: the one furthest ahead does not set the watermark alone', async () => {
    const first = startAggregator();
    dispatch(first.ref, { type: 'assign', partitions: [0, 1] });
    await first.batch({
      partition: 0,
      lastOffset: '1',
      maxEventTimeMs: M + 300 * S,
      caughtUp: false,
      counts: [{ windowStartMs: M + 240 * S, url: '/a', count: 1 }],
      lateCount: 0,
    });
    await first.batch({
      partition: 1,
      lastOffset: '1',
      maxEventTimeMs: M + 30 * S,
      caughtUp: false,
      counts: [{ windowStartMs: M, url: '/a', count: 1 }],
      lateCount: 0,
    });
    await first.flush();
    const last = commits(first)[commits(first).length - 1]!;
    const second = first.restart({ seq: last.seq, state: last.state }, 'window-aggregator-assign-together');
    dispatch(second.ref, { type: 'assign', partitions: [0, 1] });
    // Partition 1's backlog continues at M+31s: on time, since the watermark is still partition 1's.
    const reply = await second.batch({
      partition: 1,
      lastOffset: '2',
      maxEventTimeMs: M + 31 * S,
      caughtUp: false,
      counts: [{ windowStartMs: M, url: '/b', count: 1 }],
      lateCount: 0,
    });
    expect(reply.globalWatermarkMs).toBe(M + 31 * S - WINDOWS.watermarkDelayMs);
    expect((await second.metrics()).lateEventsTotal).toBe(0);
  });

  it('on a first start, declared partitions not yet assigned hold the watermark back', async () => {
    const h = startAggregator({ windows: { ...WINDOWS, idleTimeoutMs: 50 } });
    dispatch(h.ref, { type: 'topicPartitions', partitions: [0, 1, 2, 3] });
    dispatch(h.ref, { type: 'assign', partitions: [2, 3] });
    for (const partition of [2, 3]) {
      const r = await h.batch({
        partition,
        lastOffset: '9',
        maxEventTimeMs: M + 600 * S,
        caughtUp: true,
        counts: [{ windowStartMs: M + 540 * S, url: '/b', count: 1 }],
        lateCount: 0,
      });
      expect(r.globalWatermarkMs).toBe(-Infinity);
    }
    await sleep(200); // 2 and 3 go idle; 0 and 1 are nobody's here, so they never do
    expect((await h.metrics()).globalWatermarkMs).toBeNull();
    dispatch(h.ref, { type: 'assign', partitions: [0, 1, 2, 3] });
    for (const partition of [0, 1]) {
      await h.batch({
        partition,
        lastOffset: '3',
        maxEventTimeMs: M + 30 * S,
        caughtUp: false,
        counts: [{ windowStartMs: M, url: '/a', count: 1 }],
        lateCount: 0,
      });
    }
    const metrics = await h.metrics();
    expect(metrics.lateEventsTotal).toBe(0);
    expect(metrics.globalWatermarkMs).toBe(M + 30 * S - DELAY_MS);
  });

  it('a partial first assignment (a dead member still in the group) does not let the assigned partitions run ahead', async () => {
    const idleTimeoutMs = 50;
    const first = startAggregator({ windows: { ...WINDOWS, idleTimeoutMs } });
    dispatch(first.ref, { type: 'topicPartitions', partitions: [0, 1, 2, 3] });
    dispatch(first.ref, { type: 'assign', partitions: [0, 1, 2, 3] });
    for (const partition of [0, 1, 2, 3]) {
      await first.batch({
        partition,
        lastOffset: '1',
        maxEventTimeMs: M + 30 * S,
        caughtUp: false,
        counts: [{ windowStartMs: M, url: '/a', count: 1 }],
        lateCount: 0,
      });
    }
    await first.flush();
    const last = commits(first)[commits(first).length - 1]!;
    const second = first.restart({ seq: last.seq, state: last.state }, 'window-aggregator-partial');
    dispatch(second.ref, { type: 'topicPartitions', partitions: [0, 1, 2, 3] });
    // For a session timeout the group gives this process partitions 2 and 3 only; they race ahead.
    dispatch(second.ref, { type: 'assign', partitions: [2, 3] });
    for (const partition of [2, 3]) {
      const r = await second.batch({
        partition,
        lastOffset: '9',
        maxEventTimeMs: M + 600 * S,
        caughtUp: true,
        counts: [{ windowStartMs: M + 540 * S, url: '/b', count: 1 }],
        lateCount: 0,
      });
      expect(r.globalWatermarkMs).toBe(M + 30 * S - DELAY_MS);
    }
    await sleep(4 * idleTimeoutMs);
    // Then all four: partitions 0 and 1 continue their backlog, on time.
    dispatch(second.ref, { type: 'assign', partitions: [0, 1, 2, 3] });
    for (const partition of [0, 1]) {
      await second.batch({
        partition,
        lastOffset: '5',
        maxEventTimeMs: M + 100 * S,
        caughtUp: false,
        counts: [{ windowStartMs: M + 60 * S, url: '/c', count: 1 }],
        lateCount: 0,
      });
    }
    const metrics = await second.metrics();
    expect(metrics.lateEventsTotal).toBe(0);
    expect(metrics.globalWatermarkMs).toBe(M + 100 * S - DELAY_MS);
  });

  it('does not let restored partitions go idle before the group assigns them again', async () => {
    // Two partitions, both caught up when checkpointed. After a restart, partition 1 delivers its
    // backlog first: partition 0, not yet re-assigned, must hold the watermark back once it is.
    const idleTimeoutMs = 50;
    const first = startAggregator({ windows: { ...WINDOWS, idleTimeoutMs } });
    await first.batch({
      partition: 0,
      lastOffset: '1',
      maxEventTimeMs: M + 30 * S,
      caughtUp: true,
      counts: [{ windowStartMs: M, url: '/a', count: 1 }],
      lateCount: 0,
    });
    await first.batch({
      partition: 1,
      lastOffset: '1',
      maxEventTimeMs: M + 30 * S,
      caughtUp: true,
      counts: [{ windowStartMs: M, url: '/a', count: 1 }],
      lateCount: 0,
    });
    await first.flush();
    const last = commits(first)[commits(first).length - 1]!;
    const second = first.restart({ seq: last.seq, state: last.state }, 'window-aggregator-restarted');
    // The group takes longer than the idle timeout to re-form (a dead member's session).
    await sleep(4 * idleTimeoutMs);
    dispatch(second.ref, { type: 'assign', partitions: [0, 1] });
    const reply = await second.batch({
      partition: 1,
      lastOffset: '9',
      maxEventTimeMs: M + 600 * S,
      caughtUp: false,
      counts: [{ windowStartMs: M + 540 * S, url: '/b', count: 1 }],
      lateCount: 0,
    });
    // Partition 0 is assigned, behind (not caught up since the restart) and not idle: it holds the
    // watermark at its own, so its backlog of minute M+60s..M+500s is still on time.
    expect(reply.globalWatermarkMs).toBe(M + 30 * S - WINDOWS.watermarkDelayMs);
    const late = await second.batch({
      partition: 0,
      lastOffset: '5',
      maxEventTimeMs: M + 500 * S,
      caughtUp: false,
      counts: [{ windowStartMs: M + 480 * S, url: '/c', count: 1 }],
      lateCount: 0,
    });
    expect(late.globalWatermarkMs).toBe(M + 500 * S - WINDOWS.watermarkDelayMs);
    expect((await second.metrics()).lateEventsTotal).toBe(0);
  });
});

describe('window aggregator: a partition another process owns', () => {
  /** A logger that keeps the warnings it logs, with their partition. */
  function warningLogger(): { logger: Logger; warnings: Array<{ msg: string; partition?: number }> } {
    const warnings: Array<{ msg: string; partition?: number }> = [];
    const logger = pino(
      { level: 'warn' },
      { write: (line: string) => warnings.push(JSON.parse(line) as { msg: string; partition?: number }) },
    );
    return { logger, warnings };
  }

  it('warns once, naming the remedy, when a partition stays assigned elsewhere; not for one assigned in time', async () => {
    // Two processes in one group with etl.windows: process: each waits for the other's partitions for ever.
    const { logger, warnings } = warningLogger();
    const h = startAggregator({ logger, unownedWarnMs: 1_000 });
    dispatch(h.ref, { type: 'topicPartitions', partitions: [0, 1, 2] });
    dispatch(h.ref, { type: 'assign', partitions: [0] });
    await sleep(50);
    dispatch(h.ref, { type: 'assign', partitions: [2] }); // in time: a rebalance, not a second process
    await waitFor(() => warnings.some((w) => w.partition === 1), 'the warning about partition 1');
    await sleep(200); // more ticks: no second warning
    const waits = warnings.filter((w) => w.msg.startsWith('windows wait for a partition'));
    expect(waits.map((w) => w.partition)).toEqual([1]);
    expect(waits[0]!.msg).toContain('etl.windows: members');
  });
});
