import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { aggregateBatch } from '../../../src/windows/aggregateBatch.js';
import { isLateEvent, isWindowClosed } from '../../../src/windows/lateness.js';
import { PageViewWindows } from '../../../src/windows/pageViewWindows.js';
import { M, OPTIONS, SIZE_MS, makeBatch, rowsOf } from './fixtures.js';

describe('lateness: one rule', () => {
  it('a window is closed once its end <= the watermark; an event is late iff its window is closed', () => {
    expect(isWindowClosed(M + SIZE_MS, M + SIZE_MS)).toBe(true);
    expect(isWindowClosed(M + SIZE_MS, M + SIZE_MS - 1)).toBe(false);
    expect(isWindowClosed(M, -Infinity)).toBe(false);
    // Behind the watermark, window still open: on time.
    expect(isLateEvent(M + 1_000, M + 30_000, SIZE_MS)).toBe(false);
    expect(isLateEvent(M + 59_999, M + 59_999, SIZE_MS)).toBe(false);
    expect(isLateEvent(M + 59_999, M + 60_000, SIZE_MS)).toBe(true);
    expect(isLateEvent(M - 1, M, SIZE_MS)).toBe(true);
    expect(isLateEvent(M, M, SIZE_MS)).toBe(false);
  });

  it('the partition pre-aggregation classifies every event by the same rule', () => {
    const random = mulberry32(7);
    for (let round = 0; round < 200; round += 1) {
      const watermarkMs = M + Math.floor(random() * 5 * SIZE_MS);
      const events = Array.from({ length: 20 }, () => ({
        eventTimeMs: M - SIZE_MS + Math.floor(random() * 7 * SIZE_MS),
        url: `/u${Math.floor(random() * 3)}`,
      }));
      const result = aggregateBatch(events, watermarkMs, SIZE_MS);
      const late = events.filter((e) => isLateEvent(e.eventTimeMs, watermarkMs, SIZE_MS)).length;
      expect(result.lateCount).toBe(late);
      expect(result.counts.reduce((n, c) => n + c.count, 0)).toBe(events.length - late);
    }
  });

  /**
   * The same events after the same history, judged once by a running aggregator (the partition
   * knows the watermark) and once as the first batch after a restart (the partition knows
   * nothing, the aggregator's partitions are revoked until the group assigns them again).
   */
  it('the first batch after a restart judges lateness exactly as the running path does', () => {
    const history = (): PageViewWindows => {
      const w = new PageViewWindows(OPTIONS);
      w.assignPartitions([0, 1], 0);
      w.applyBatch(
        makeBatch(0, 0, {
          events: [
            [M + 10_000, '/a'],
            [M + 95_000, '/a'],
          ],
        }),
        0,
      );
      w.applyBatch(
        makeBatch(1, 0, {
          events: [
            [M + 30_000, '/b'],
            [M + 100_000, '/b'],
          ],
        }),
        0,
      );
      // Watermark M + 85 s: window [M, M + 60 s) is emitted, [M + 60 s, M + 120 s) is open.
      expect(rowsOf(w.emitReady(0))).toEqual([
        [M, '/a', 1],
        [M, '/b', 1],
      ]);
      return w;
    };
    // Behind the watermark in the open window (counted), and in the emitted window (late).
    const events: Array<[number, string]> = [
      [M + 61_000, '/a'],
      [M + 84_000, '/c'],
      [M + 59_000, '/a'],
      [M + 5_000, '/z'],
    ];

    const running = history();
    const runningResult = running.applyBatch(
      makeBatch(0, 1, { events, knownWatermarkMs: running.globalWatermarkMs }),
      0,
    );

    const before = history();
    const restored = PageViewWindows.fromJSON(JSON.parse(JSON.stringify(before)), OPTIONS, 1_000);
    for (const { partition } of restored.partitionStatus(1_000)) restored.revokePartition(partition);
    const restartResult = restored.applyBatch(makeBatch(0, 1, { events }), 1_000);

    expect(runningResult).toEqual({ applied: true, lateEvents: 2 });
    expect(restartResult).toEqual(runningResult);
    expect(restored.lateEventsTotal).toBe(running.lateEventsTotal);
    const close = (w: PageViewWindows, nowMs: number): Array<[number, string, number]> => {
      w.assignPartitions([0, 1], nowMs);
      w.applyBatch(makeBatch(0, 2, { events: [[M + 200_000, '/x']] }), nowMs);
      w.applyBatch(makeBatch(1, 1, { events: [[M + 200_000, '/x']] }), nowMs);
      return rowsOf(w.emitReady(nowMs));
    };
    const expected: Array<[number, string, number]> = [
      [M + 60_000, '/a', 2],
      [M + 60_000, '/b', 1],
      [M + 60_000, '/c', 1],
    ];
    expect(close(running, 0)).toEqual(expected);
    expect(close(restored, 1_000)).toEqual(expected);
  });
});
