import { describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import type { PageViewBatch } from '../../../src/windows/pageViewBatch.js';
import { PageViewWindows, type EmittedWindow } from '../../../src/windows/pageViewWindows.js';
import { DELAY_MS, IDLE_MS, M, OPTIONS, SIZE_MS, makeBatch, rowsOf } from './fixtures.js';

function createWindows(partitions: number[], nowMs = 0): PageViewWindows {
  const w = new PageViewWindows(OPTIONS);
  for (const p of partitions) w.assignPartition(p, nowMs);
  return w;
}

function roundTrip(w: PageViewWindows, nowMs: number): PageViewWindows {
  return PageViewWindows.fromJSON(JSON.parse(JSON.stringify(w)), OPTIONS, nowMs);
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('PageViewWindows: counting and lateness', () => {
  it('counts out-of-order events within the delay (not late)', () => {
    const w = createWindows([0]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 50_000, '/a']] }), 0);
    // watermark is now M + 40_000: events at M + 40_000..M + 49_999 are out of order but on time
    const known = w.globalWatermarkMs;
    expect(known).toBe(M + 40_000);
    const result = w.applyBatch(
      makeBatch(0, 1, {
        events: [
          [M + 40_000, '/a'],
          [M + 45_000, '/b'],
        ],
        knownWatermarkMs: known,
      }),
      0,
    );
    expect(result).toEqual({ applied: true, lateEvents: 0 });
    w.applyBatch(makeBatch(0, 2, { events: [[M + 70_000, '/a']], knownWatermarkMs: w.globalWatermarkMs }), 0);
    expect(rowsOf(w.emitReady(0))).toEqual([
      [M, '/a', 2],
      [M, '/b', 1],
    ]);
    expect(w.lateEventsTotal).toBe(0);
  });

  it('counts events behind the watermark whose window is still open; only closed windows make events late', () => {
    const w = createWindows([0]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 50_000, '/a']] }), 0);
    const known = w.globalWatermarkMs; // M + 40_000: window [M, M + 60 s) is still open
    const result = w.applyBatch(
      makeBatch(0, 1, {
        events: [
          [M + 39_999, '/a'],
          [M + 1_000, '/a'],
          [M + 40_000, '/a'],
          [M - 5_000, '/z'],
        ],
        knownWatermarkMs: known,
      }),
      0,
    );
    expect(result).toEqual({ applied: true, lateEvents: 1 });
    expect(w.lateEventsTotal).toBe(1);
    w.applyBatch(makeBatch(0, 2, { events: [[M + 75_000, '/a']], knownWatermarkMs: w.globalWatermarkMs }), 0);
    expect(rowsOf(w.emitReady(0))).toEqual([[M, '/a', 4]]);
    expect(w.lateEventsTotal).toBe(1);
  });

  it('drops counts for an already emitted window as late (the partition knew an older watermark)', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 10_000, '/a'],
          [M + 80_000, '/a'],
        ],
      }),
      0,
    );
    w.applyBatch(makeBatch(1, 0, { events: [[M + 75_000, '/a']] }), 0);
    expect(rowsOf(w.emitReady(0))).toEqual([[M, '/a', 1]]);
    // Partition 1 still classifies against -Infinity: these reach the aggregator as on-time counts.
    const result = w.applyBatch(
      makeBatch(1, 1, {
        events: [
          [M + 20_000, '/a'],
          [M + 59_999, '/b'],
          [M + 65_000, '/a'],
        ],
      }),
      0,
    );
    expect(result).toEqual({ applied: true, lateEvents: 2 });
    expect(w.lateEventsTotal).toBe(2);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 200_000, '/a']] }), 0);
    w.applyBatch(makeBatch(1, 2, { events: [[M + 200_000, '/a']] }), 0);
    // The emitted window never comes back; the next one has its on-time counts.
    expect(rowsOf(w.emitReady(0))).toEqual([[M + 60_000, '/a', 3]]);
  });

  it('drops counts for a closed window that emitReady has not collected yet', () => {
    const w = createWindows([0]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 5_000, '/a']] }), 0);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 70_000, '/b']] }), 0); // watermark M + 60_000 closes [M, M+60s)
    const result = w.applyBatch(makeBatch(0, 2, { events: [[M + 30_000, '/a']] }), 0);
    expect(result.lateEvents).toBe(1);
    expect(rowsOf(w.emitReady(0))).toEqual([[M, '/a', 1]]);
  });

  it('window boundaries are exact: start included, end excluded; emitted when the watermark reaches the end', () => {
    const w = createWindows([0]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M, '/a'],
          [M + SIZE_MS - 1, '/a'],
          [M + SIZE_MS, '/a'],
        ],
      }),
      0,
    );
    // watermark = M + 60_000 - 10_000: nothing closed
    expect(w.emitReady(0)).toEqual([]);
    w.applyBatch(makeBatch(0, 1, { events: [[M + SIZE_MS + DELAY_MS - 1, '/b']] }), 0);
    expect(w.globalWatermarkMs).toBe(M + SIZE_MS - 1);
    expect(w.emitReady(0)).toEqual([]);
    w.applyBatch(makeBatch(0, 2, { events: [[M + SIZE_MS + DELAY_MS, '/b']] }), 0);
    expect(w.globalWatermarkMs).toBe(M + SIZE_MS);
    expect(w.emitReady(0)).toEqual([
      { startMs: M, endMs: M + SIZE_MS, rows: [{ minuteStartMs: M, minuteEndMs: M + SIZE_MS, url: '/a', pv: 2 }] },
    ]);
    expect(w.windowsOpen).toBe(1);
  });

  it('emits in window order, rows sorted by url, and each window once', () => {
    const w = createWindows([0]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 125_000, '/c'],
          [M + 1_000, '/b'],
          [M + 65_000, '/z'],
          [M + 2_000, '/a'],
          [M + 130_000, '/c'],
        ],
      }),
      0,
    );
    expect(w.windowsOpen).toBe(3);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 400_000, '/q']] }), 0);
    const emitted = w.emitReady(0);
    expect(emitted.map((e) => e.startMs)).toEqual([M, M + 60_000, M + 120_000]);
    expect(rowsOf(emitted)).toEqual([
      [M, '/a', 1],
      [M, '/b', 1],
      [M + 60_000, '/z', 1],
      [M + 120_000, '/c', 2],
    ]);
    expect(
      emitted.every((e) => e.endMs === e.startMs + SIZE_MS && e.rows.every((r) => r.minuteEndMs === e.endMs)),
    ).toBe(true);
    expect(w.emitReady(0)).toEqual([]);
    expect(w.emitReady(10 * IDLE_MS)).toEqual([]); // never caught up, so never idle: the last window waits
  });
});

describe('PageViewWindows: idleness', () => {
  it('an idle partition (caught up, not paused, quiet for idleTimeout) does not hold the watermark back', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 5_000, '/a']] }), 0);
    w.applyBatch(makeBatch(1, 0, { events: [[M + 6_000, '/a']], caughtUp: true }), 0);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 100_000, '/a']] }), IDLE_MS - 1);
    expect(w.emitReady(IDLE_MS - 1)).toEqual([]);
    expect(w.isPartitionIdle(1, IDLE_MS - 1)).toBe(false);
    expect(w.isPartitionIdle(1, IDLE_MS)).toBe(true);
    expect(rowsOf(w.emitReady(IDLE_MS))).toEqual([[M, '/a', 2]]);
    expect(w.globalWatermarkMs).toBe(M + 90_000);
  });

  it('a paused partition is never idle', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 5_000, '/a']] }), 0);
    w.applyBatch(makeBatch(1, 0, { events: [[M + 6_000, '/a']], caughtUp: true }), 0);
    w.setPaused(1, true);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 100_000, '/a']] }), 20 * IDLE_MS);
    expect(w.isPartitionIdle(1, 20 * IDLE_MS)).toBe(false);
    expect(w.emitReady(20 * IDLE_MS)).toEqual([]);
    w.setPaused(1, false);
    expect(rowsOf(w.emitReady(20 * IDLE_MS))).toEqual([[M, '/a', 2]]);
  });

  it('a partition that is not caught up is never idle', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 5_000, '/a']] }), 0);
    w.applyBatch(makeBatch(1, 0, { events: [[M + 6_000, '/a']], caughtUp: false }), 0);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 100_000, '/a']] }), 20 * IDLE_MS);
    expect(w.isPartitionIdle(1, 20 * IDLE_MS)).toBe(false);
    expect(w.emitReady(20 * IDLE_MS)).toEqual([]);
    w.setCaughtUp(1, true);
    expect(rowsOf(w.emitReady(20 * IDLE_MS))).toEqual([[M, '/a', 2]]);
  });

  it('a partition back from idle participates again; its events older than the global watermark are late', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(makeBatch(0, 0, { events: [[M + 5_000, '/a']], caughtUp: true }), 0);
    w.applyBatch(makeBatch(1, 0, { events: [[M + 6_000, '/a']], caughtUp: true }), 0);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 130_000, '/a']], caughtUp: true }), IDLE_MS);
    expect(rowsOf(w.emitReady(IDLE_MS))).toEqual([[M, '/a', 2]]);
    const globalMs = w.globalWatermarkMs;
    expect(globalMs).toBe(M + 120_000);
    // Partition 1 comes back with old and new events, classified against the watermark it was sent.
    const back = makeBatch(1, 1, {
      events: [
        [M + 30_000, '/late'],
        [M + 119_999, '/late'],
        [M + 120_000, '/b'],
        [M + 125_000, '/b'],
      ],
      knownWatermarkMs: globalMs,
    });
    expect(w.applyBatch(back, IDLE_MS + 1)).toEqual({ applied: true, lateEvents: 2 });
    expect(w.isPartitionIdle(1, IDLE_MS + 1)).toBe(false);
    expect(w.globalWatermarkMs).toBe(globalMs); // monotonic although partition 1 is at M + 115_000
    // Partition 0 races ahead; [M+120s, M+180s) must wait for partition 1.
    w.applyBatch(makeBatch(0, 2, { events: [[M + 300_000, '/a']], caughtUp: true }), IDLE_MS + 2);
    expect(w.emitReady(IDLE_MS + 2)).toEqual([]);
    w.applyBatch(
      makeBatch(1, 2, { events: [[M + 190_000, '/b']], knownWatermarkMs: w.globalWatermarkMs }),
      IDLE_MS + 3,
    );
    expect(rowsOf(w.emitReady(IDLE_MS + 3))).toEqual([
      [M + 120_000, '/a', 1],
      [M + 120_000, '/b', 2],
    ]);
    expect(w.lateEventsTotal).toBe(2);
  });

  it('an assigned partition that never delivered holds the watermark back until it is idle', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 5_000, '/a'],
          [M + 100_000, '/a'],
        ],
      }),
      0,
    );
    expect(w.globalWatermarkMs).toBe(-Infinity);
    expect(w.watermarkLagSeconds(0)).toBeNull();
    expect(w.emitReady(5 * IDLE_MS)).toEqual([]); // not caught up: never idle
    w.setCaughtUp(1, true);
    w.applyBatch(makeBatch(0, 1, { events: [[M + 101_000, '/a']] }), 5 * IDLE_MS); // keep partition 0 active
    expect(rowsOf(w.emitReady(5 * IDLE_MS))).toEqual([[M, '/a', 1]]);
    expect(w.globalWatermarkMs).toBe(M + 91_000);
  });

  it('all partitions idle: the last windows complete', () => {
    const w = createWindows([0, 1, 2]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 5_000, '/a'],
          [M + 70_000, '/a'],
        ],
        caughtUp: true,
      }),
      0,
    );
    w.applyBatch(makeBatch(1, 0, { events: [[M + 135_000, '/b']], caughtUp: true }), 0);
    w.applyBatch(makeBatch(2, 0, { events: [[M + 110_000, '/c']], caughtUp: true }), 0);
    expect(rowsOf(w.emitReady(IDLE_MS - 1))).toEqual([[M, '/a', 1]]);
    // All quiet: the global watermark jumps to the max (M + 125_000): [M+60s, M+120s) completes.
    expect(rowsOf(w.emitReady(IDLE_MS))).toEqual([
      [M + 60_000, '/a', 1],
      [M + 60_000, '/c', 1],
    ]);
    expect(w.globalWatermarkMs).toBe(M + 125_000);
    expect(w.windowsOpen).toBe(1);
  });

  it('the global watermark never goes backwards', () => {
    const w = createWindows([0, 1]);
    const seen: number[] = [];
    const steps: Array<[number, number, number, boolean, number]> = [
      // partition, offset, eventTimeMs, caughtUp, nowMs
      [0, 0, M + 50_000, true, 0],
      [1, 0, M + 40_000, true, 0],
      [0, 1, M + 90_000, true, IDLE_MS],
      [1, 1, M + 41_000, true, IDLE_MS + 1], // back from idle, far behind
      [0, 2, M + 95_000, true, IDLE_MS + 2],
    ];
    for (const [p, offset, t, caughtUp, nowMs] of steps) {
      w.applyBatch(makeBatch(p, offset, { events: [[t, '/a']], caughtUp }), nowMs);
      w.emitReady(nowMs);
      seen.push(w.globalWatermarkMs);
    }
    w.assignPartition(2, IDLE_MS + 3); // a new, empty partition
    w.emitReady(IDLE_MS + 3);
    seen.push(w.globalWatermarkMs);
    expect(seen).toEqual([-Infinity, M + 30_000, M + 80_000, M + 80_000, M + 80_000, M + 80_000]);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
  });
});

describe('PageViewWindows: offsets and replays', () => {
  it('ignores a batch whose lastOffset is at or below the stored offset, comparing as integers', () => {
    const w = createWindows([0]);
    expect(w.offsetOf(0)).toBeNull();
    expect(w.applyBatch(makeBatch(0, '9', { events: [[M + 1_000, '/a']] }), 0).applied).toBe(true);
    expect(w.offsetOf(0)).toBe('9');
    // "10" < "9" as strings: must still be applied.
    expect(w.applyBatch(makeBatch(0, '10', { events: [[M + 2_000, '/a']] }), 0).applied).toBe(true);
    const before = JSON.stringify(w);
    expect(w.applyBatch(makeBatch(0, '10', { events: [[M + 3_000, '/a']] }), 0)).toEqual({
      applied: false,
      lateEvents: 0,
    });
    expect(w.applyBatch(makeBatch(0, '9', { events: [[M + 200_000, '/a']] }), 0)).toEqual({
      applied: false,
      lateEvents: 0,
    });
    expect(JSON.stringify(w)).toBe(before);
    expect(w.offsetOf(0)).toBe('10');
    w.applyBatch(makeBatch(0, '11', { events: [[M + 80_000, '/b']] }), 0);
    expect(rowsOf(w.emitReady(0))).toEqual([[M, '/a', 2]]);
  });

  it('keeps offsets above 2^53 exact', () => {
    const w = createWindows([3]);
    const big = '9007199254740993'; // 2^53 + 1
    w.applyBatch(makeBatch(3, big, { events: [[M, '/a']] }), 0);
    expect(w.offsetOf(3)).toBe(big);
    expect(w.applyBatch(makeBatch(3, '9007199254740992', { events: [[M, '/a']] }), 0).applied).toBe(false);
    expect(w.applyBatch(makeBatch(3, '9007199254740994', { events: [[M, '/a']] }), 0).applied).toBe(true);
    expect(roundTrip(w, 0).offsetOf(3)).toBe('9007199254740994');
  });

  it('a revoked partition keeps its offset and keeps holding the watermark back until it is re-assigned and moves on', () => {
    const w = createWindows([0, 1]);
    w.applyBatch(
      makeBatch(0, 4, {
        events: [
          [M + 5_000, '/a'],
          [M + 100_000, '/a'],
        ],
      }),
      0,
    );
    w.applyBatch(makeBatch(1, 7, { events: [[M + 20_000, '/a']], caughtUp: true }), 0);
    expect(w.emitReady(0)).toEqual([]);
    w.revokePartition(1);
    expect(w.offsetOf(1)).toBe('7');
    w.applyBatch(makeBatch(0, 5, { events: [[M + 300_000, '/a']] }), 1);
    expect(w.emitReady(10 * IDLE_MS)).toEqual([]); // partition 1 at M + 10_000 holds [M, M+60s) back
    w.assignPartition(1, 10 * IDLE_MS);
    expect(w.applyBatch(makeBatch(1, 7, { events: [[M + 400_000, '/a']] }), 10 * IDLE_MS).applied).toBe(false);
    // Its next events are on time, not late: the others did not run ahead while it was away.
    expect(
      w.applyBatch(
        makeBatch(1, 9, {
          events: [
            [M + 30_000, '/a'],
            [M + 80_000, '/b'],
          ],
        }),
        10 * IDLE_MS,
      ),
    ).toEqual({ applied: true, lateEvents: 0 });
    expect(rowsOf(w.emitReady(10 * IDLE_MS))).toEqual([[M, '/a', 3]]);
    expect(w.partitionStatus(10 * IDLE_MS).map((s) => [s.partition, s.assigned])).toEqual([
      [0, true],
      [1, true],
    ]);
  });

  it('assigns a partition implicitly when its batch overtakes the assignment', () => {
    const w = new PageViewWindows(OPTIONS);
    w.applyBatch(
      makeBatch(5, 0, {
        events: [
          [M + 80_000, '/a'],
          [M + 1, '/a'],
        ],
      }),
      0,
    );
    expect(w.partitionStatus(0)).toEqual([
      { partition: 5, assigned: true, watermarkMs: M + 70_000, idle: false, paused: false, caughtUp: false },
    ]);
    expect(rowsOf(w.emitReady(0))).toEqual([[M, '/a', 1]]);
  });

  it('rejects a malformed batch with a stable code and leaves the state unchanged', () => {
    const w = createWindows([0]);
    w.applyBatch(makeBatch(0, 1, { events: [[M, '/a']] }), 0);
    const before = JSON.stringify(w);
    const good = makeBatch(0, 2, { events: [[M + 1_000, '/a']] });
    const bad: PageViewBatch[] = [
      { ...good, lastOffset: '-1' },
      { ...good, lastOffset: '1e3' },
      { ...good, counts: [...good.counts, { windowStartMs: M + 1, url: '/a', count: 1 }] },
      { ...good, counts: [{ windowStartMs: M, url: '/a', count: -1 }] },
      { ...good, lateCount: 0.5 },
      { ...good, maxEventTimeMs: Number.NaN },
      { ...good, partition: -1 },
    ];
    for (const batch of bad) {
      expect(
        isSdpError(
          thrownBy(() => w.applyBatch(batch, 0)),
          'SDP_ERR_WINDOW_INVALID_INPUT',
        ),
      ).toBe(true);
    }
    expect(JSON.stringify(w)).toBe(before);
  });
});

describe('PageViewWindows: metrics', () => {
  it('reports windowsOpen, lateEventsTotal, watermark lag and per-partition watermark and idleness', () => {
    const w = createWindows([0, 1]);
    expect(w.windowsOpen).toBe(0);
    expect(w.watermarkLagSeconds(M)).toBeNull();
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 1_000, '/a'],
          [M + 61_000, '/a'],
          [M + 121_000, '/b'],
        ],
        caughtUp: true,
      }),
      0,
    );
    w.applyBatch(makeBatch(1, 0, { events: [[M + 50_000, '/a']] }), 0);
    expect(w.windowsOpen).toBe(3);
    expect(w.globalWatermarkMs).toBe(M + 40_000);
    expect(w.watermarkLagSeconds(M + 100_000)).toBe(60);
    expect(w.partitionWatermarkMs(0)).toBe(M + 111_000);
    expect(w.partitionWatermarkMs(1)).toBe(M + 40_000);
    expect(w.partitionWatermarkMs(9)).toBe(-Infinity);
    expect(w.partitionStatus(IDLE_MS)).toEqual([
      { partition: 0, assigned: true, watermarkMs: M + 111_000, idle: true, paused: false, caughtUp: true },
      { partition: 1, assigned: true, watermarkMs: M + 40_000, idle: false, paused: false, caughtUp: false },
    ]);
  });
});

describe('PageViewWindows: snapshot and restore', () => {
  /** A scripted run: batches with their wall clock; emitReady after each batch. */
  const script: Array<[number, PageViewBatch]> = [
    [
      0,
      makeBatch(0, 0, {
        events: [
          [M + 1_000, '/a'],
          [M + 20_000, '/b'],
        ],
      }),
    ],
    [0, makeBatch(1, 0, { events: [[M + 15_000, '/a']] })],
    [
      1,
      makeBatch(0, 1, {
        events: [
          [M + 59_000, '/a'],
          [M + 62_000, '/a'],
        ],
      }),
    ],
    // — snapshot here: window [M, M+60s) has counts from both sides of the checkpoint —
    [
      2,
      makeBatch(1, 1, {
        events: [
          [M + 59_999, '/b'],
          [M + 75_000, '/c'],
        ],
      }),
    ],
    // Behind the known watermark but in a window still open: counted. The one at M - 5 s is late.
    [
      3,
      makeBatch(0, 2, {
        events: [
          [M + 20_000, '/a'],
          [M + 90_000, '/a'],
          [M - 5_000, '/z'],
        ],
        knownWatermarkMs: M + 52_000,
      }),
    ],
    [4, makeBatch(1, 2, { events: [[M + 130_000, '/c']], caughtUp: true })],
    [
      5,
      makeBatch(0, 3, {
        events: [
          [M + 140_000, '/a'],
          [M + 125_000, '/b'],
        ],
        caughtUp: true,
      }),
    ],
    [6 + IDLE_MS, makeBatch(0, 4, { events: [[M + 200_000, '/a']], caughtUp: true })],
  ];
  /** Snapshot points: before batch i, for every i (restored at the wall clock of the last batch applied). */
  const snapshotPoints = script.map((_, i) => i).concat(script.length);
  const restoreNowMs = (i: number): number => (i === 0 ? 0 : script[i - 1]![0]);
  const FINAL_NOW_MS = 10 * IDLE_MS;

  function runStraight(): { emissions: EmittedWindow[][]; final: PageViewWindows } {
    const w = createWindows([0, 1]);
    const emissions = script.map(([nowMs, batch]) => {
      w.applyBatch(batch, nowMs);
      return w.emitReady(nowMs);
    });
    emissions.push(w.emitReady(FINAL_NOW_MS));
    return { emissions, final: w };
  }

  it('the scripted run emits what the hand computation says', () => {
    const straight = runStraight();
    expect(rowsOf(straight.emissions.flat())).toEqual([
      [M, '/a', 4],
      [M, '/b', 2],
      [M + 60_000, '/a', 2],
      [M + 60_000, '/c', 1],
      [M + 120_000, '/a', 1],
      [M + 120_000, '/b', 1],
      [M + 120_000, '/c', 1],
    ]);
    expect(straight.emissions.map((e) => e.length)).toEqual([0, 0, 0, 0, 1, 0, 1, 1, 0]);
    expect(straight.final.lateEventsTotal).toBe(1);
    expect(straight.final.windowsOpen).toBe(1);
  });

  it.each(snapshotPoints)('a checkpoint before batch %i (windows straddling it) changes no emission', (at) => {
    const straight = runStraight();
    let w = createWindows([0, 1]);
    const emissions: EmittedWindow[][] = [];
    script.forEach(([nowMs, batch], i) => {
      if (i === at) w = roundTrip(w, restoreNowMs(i));
      w.applyBatch(batch, nowMs);
      emissions.push(w.emitReady(nowMs));
    });
    if (at === script.length) w = roundTrip(w, restoreNowMs(at));
    emissions.push(w.emitReady(FINAL_NOW_MS));
    expect(emissions).toEqual(straight.emissions);
    expect(w.toJSON()).toEqual(straight.final.toJSON());
  });

  it.each(snapshotPoints)(
    'crash after a checkpoint before batch %i, restore, replay every batch: same emissions, none twice',
    (at) => {
      const straight = runStraight();
      const w = createWindows([0, 1]);
      const committed: EmittedWindow[] = [];
      let checkpoint = JSON.stringify(w);
      script.forEach(([nowMs, batch], i) => {
        w.applyBatch(batch, nowMs);
        const emitted = w.emitReady(nowMs);
        if (i < at) committed.push(...emitted); // emissions after the checkpoint die with the crash
        if (i === at - 1) checkpoint = JSON.stringify(w);
      });

      // Recovery: restore, then the partitions are read again from the start (all batches resent).
      const restored = PageViewWindows.fromJSON(checkpoint, OPTIONS, restoreNowMs(at));
      const applied = script.map(([nowMs, batch]) => {
        const result = restored.applyBatch(batch, nowMs);
        committed.push(...restored.emitReady(nowMs));
        return result.applied;
      });
      committed.push(...restored.emitReady(FINAL_NOW_MS));
      expect(applied).toEqual(script.map((_, i) => i >= at));
      expect(committed).toEqual(straight.emissions.flat());
      const starts = committed.map((e) => e.startMs);
      expect(new Set(starts).size).toBe(starts.length);
      expect(restored.toJSON()).toEqual(straight.final.toJSON());
    },
  );

  it('restores to an equal state: same JSON, -Infinity kept as null, restored partitions not idle at once', () => {
    const w = createWindows([0, 1, 2]);
    w.applyBatch(
      makeBatch(0, 12, {
        events: [
          [M + 5_000, '/a'],
          [M + 70_000, '/b'],
        ],
        caughtUp: true,
      }),
      0,
    );
    w.applyBatch(makeBatch(1, 3, { events: [[M + 1_000, '/a']], caughtUp: true }), 0);
    w.revokePartition(1);
    const json = JSON.parse(JSON.stringify(w)) as ReturnType<PageViewWindows['toJSON']>;
    expect(json.watermarks.globalWatermarkMs).toBeNull();
    expect(json.emittedFrontierMs).toBeNull();
    expect(json.watermarks.partitions.find((p) => p.partition === 2)?.maxEventTimeMs).toBeNull();
    const restored = PageViewWindows.fromJSON(json, OPTIONS, 10 * IDLE_MS);
    expect(restored.toJSON()).toEqual(w.toJSON());
    expect(restored.globalWatermarkMs).toBe(-Infinity);
    expect(restored.offsetOf(0)).toBe('12');
    expect(restored.offsetOf(1)).toBe('3');
    expect(restored.isPartitionIdle(0, 10 * IDLE_MS)).toBe(false);
    expect(restored.emitReady(10 * IDLE_MS)).toEqual([]); // partition 2 never delivered, not caught up
    restored.setCaughtUp(2, true);
    expect(restored.emitReady(11 * IDLE_MS)).toEqual([]); // partition 1 is not owned here: it holds the watermark at M - 9_000
    restored.assignPartition(1, 11 * IDLE_MS);
    restored.setCaughtUp(1, true);
    expect(rowsOf(restored.emitReady(12 * IDLE_MS))).toEqual([[M, '/a', 2]]); // all idle: max = M + 60_000
  });

  it('keeps the emitted frontier: a restored state never emits a window again', () => {
    const w = createWindows([0]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 5_000, '/a'],
          [M + 75_000, '/a'],
        ],
      }),
      0,
    );
    expect(rowsOf(w.emitReady(0))).toEqual([[M, '/a', 1]]);
    const restored = roundTrip(w, 0);
    expect(restored.toJSON().emittedFrontierMs).toBe(M + 65_000);
    const result = restored.applyBatch(makeBatch(0, 1, { events: [[M + 10_000, '/a']] }), 0);
    expect(result.lateEvents).toBe(1);
    expect(restored.emitReady(0)).toEqual([]);
  });

  it('rejects a bad snapshot with a stable code', () => {
    const w = createWindows([0]);
    w.applyBatch(
      makeBatch(0, 0, {
        events: [
          [M + 5_000, '/a'],
          [M + 75_000, '/a'],
        ],
      }),
      0,
    );
    w.emitReady(0);
    const good = w.toJSON();
    const cases: unknown[] = [
      '{not json',
      { ...good, version: 2 },
      { ...good, extra: 1 },
      { ...good, offsets: [{ partition: 0, lastOffset: '01' }] },
      { ...good, openWindows: [{ startMs: M, counts: [{ url: '/a', count: 1 }] }] }, // already emitted
      { ...good, openWindows: [{ startMs: M + 60_001, counts: [] }] },
      { ...good, emittedFrontierMs: M + 500_000 },
    ];
    for (const json of cases) {
      expect(
        isSdpError(
          thrownBy(() => PageViewWindows.fromJSON(json, OPTIONS, 0)),
          'SDP_ERR_WINDOW_SNAPSHOT_INVALID',
        ),
      ).toBe(true);
    }
    const otherSize = thrownBy(() => PageViewWindows.fromJSON(good, { ...OPTIONS, sizeMs: 30_000 }, 0));
    expect(isSdpError(otherSize, 'SDP_ERR_WINDOW_SNAPSHOT_INVALID')).toBe(true);
    expect(PageViewWindows.fromJSON(JSON.stringify(good), OPTIONS, 0).toJSON()).toEqual(good);
  });
});
