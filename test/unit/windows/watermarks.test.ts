import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../../src/windows/watermarks.js';
import { DELAY_MS, IDLE_MS, M } from './fixtures.js';

const options = { watermarkDelayMs: DELAY_MS, idleTimeoutMs: IDLE_MS };

function tracker(partitions: number[], nowMs = 0): WatermarkTracker {
  const t = new WatermarkTracker(options);
  for (const p of partitions) t.assignPartition(p, nowMs);
  return t;
}

describe('WatermarkTracker', () => {
  it('is -Infinity with no partitions', () => {
    const t = new WatermarkTracker(options);
    expect(t.advance(0)).toBe(-Infinity);
    expect(t.advance(10 * IDLE_MS)).toBe(-Infinity);
  });

  it('partition watermark = max event time seen - delay; an older batch does not lower it', () => {
    const t = tracker([0]);
    t.observeBatch(0, M + 50_000, false, 0);
    expect(t.partitionWatermarkMs(0)).toBe(M + 50_000 - DELAY_MS);
    t.observeBatch(0, M + 20_000, false, 1);
    expect(t.partitionWatermarkMs(0)).toBe(M + 40_000);
    expect(t.advance(1)).toBe(M + 40_000);
  });

  it('global = min over non-idle partitions', () => {
    const t = tracker([0, 1, 2]);
    t.observeBatch(0, M + 50_000, false, 0);
    t.observeBatch(1, M + 30_000, false, 0);
    t.observeBatch(2, M + 70_000, false, 0);
    expect(t.advance(0)).toBe(M + 20_000);
  });

  it('an assigned partition that never delivered holds the watermark back until it is idle', () => {
    const t = tracker([0, 1], 1_000);
    t.observeBatch(0, M + 50_000, false, 1_000);
    expect(t.advance(1_000)).toBe(-Infinity);
    t.setCaughtUp(1, true);
    expect(t.advance(1_000 + IDLE_MS - 1)).toBe(-Infinity);
    expect(t.isIdle(1, 1_000 + IDLE_MS - 1)).toBe(false);
    // Exactly idleTimeoutMs without events: idle.
    expect(t.isIdle(1, 1_000 + IDLE_MS)).toBe(true);
    // Partition 0 is still busy enough: it was active at 1_000 too, so give it a fresh batch.
    t.observeBatch(0, M + 55_000, false, 1_000 + IDLE_MS);
    expect(t.advance(1_000 + IDLE_MS)).toBe(M + 45_000);
  });

  it('a paused partition is never idle, however long it is quiet', () => {
    const t = tracker([0, 1]);
    t.observeBatch(0, M + 50_000, true, 0);
    t.observeBatch(1, M + 20_000, true, 0);
    t.setPaused(1, true);
    t.observeBatch(0, M + 90_000, true, 10 * IDLE_MS);
    expect(t.isIdle(1, 10 * IDLE_MS)).toBe(false);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 10_000);
    t.setPaused(1, false);
    expect(t.isIdle(1, 10 * IDLE_MS)).toBe(true);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 80_000);
  });

  it('a partition that is behind (not caught up) is never idle', () => {
    const t = tracker([0, 1]);
    t.observeBatch(0, M + 50_000, true, 0);
    t.observeBatch(1, M + 20_000, false, 0);
    t.observeBatch(0, M + 90_000, true, 10 * IDLE_MS);
    expect(t.isIdle(1, 10 * IDLE_MS)).toBe(false);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 10_000);
    t.setCaughtUp(1, true);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 80_000);
  });

  it('a batch without valid events is not activity', () => {
    const t = tracker([0]);
    t.observeBatch(0, M, true, 0);
    t.observeBatch(0, -Infinity, true, IDLE_MS - 1);
    expect(t.isIdle(0, IDLE_MS)).toBe(true);
    t.observeBatch(0, M - 5, true, IDLE_MS);
    expect(t.isIdle(0, IDLE_MS)).toBe(false);
    expect(t.partitionWatermarkMs(0)).toBe(M - DELAY_MS);
  });

  it('all partitions idle: global = max of their watermarks', () => {
    const t = tracker([0, 1, 2]);
    t.observeBatch(0, M + 50_000, true, 0);
    t.observeBatch(1, M + 80_000, true, 0);
    t.setCaughtUp(2, true); // never delivered
    expect(t.advance(0)).toBe(-Infinity);
    expect(t.advance(IDLE_MS)).toBe(M + 70_000);
  });

  it('is monotonic: a partition coming back from idle with older data does not move it back', () => {
    const t = tracker([0, 1]);
    t.observeBatch(0, M + 100_000, true, 0);
    t.observeBatch(1, M + 20_000, true, 0);
    expect(t.advance(0)).toBe(M + 10_000);
    t.observeBatch(0, M + 200_000, true, IDLE_MS);
    expect(t.advance(IDLE_MS)).toBe(M + 190_000); // 1 idle
    t.observeBatch(1, M + 30_000, true, IDLE_MS + 1); // 1 is back, far behind
    expect(t.isIdle(1, IDLE_MS + 1)).toBe(false);
    expect(t.advance(IDLE_MS + 1)).toBe(M + 190_000);
    // It participates again: the global watermark waits for it.
    t.observeBatch(0, M + 300_000, true, IDLE_MS + 2);
    expect(t.advance(IDLE_MS + 2)).toBe(M + 190_000);
    t.observeBatch(1, M + 250_000, true, IDLE_MS + 3);
    expect(t.advance(IDLE_MS + 3)).toBe(M + 240_000);
  });

  it('a revoked partition keeps holding the watermark back at its last watermark, never idle, until re-assigned', () => {
    const t = tracker([0, 1]);
    t.observeBatch(0, M + 100_000, false, 0);
    t.observeBatch(1, M + 20_000, true, 0);
    expect(t.advance(0)).toBe(M + 10_000);
    t.revokePartition(1);
    expect(t.isAssigned(1)).toBe(false);
    t.observeBatch(0, M + 200_000, false, 1);
    expect(t.advance(1)).toBe(M + 10_000);
    // Caught up when it was revoked, but its events may come again once a rebalance gives it back.
    expect(t.isIdle(1, 10 * IDLE_MS)).toBe(false);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 10_000);
    t.assignPartition(1, 10 * IDLE_MS);
    expect(t.isAssigned(1)).toBe(true);
    expect(t.partitionWatermarkMs(1)).toBe(M + 10_000);
    t.observeBatch(1, M + 50_000, false, 10 * IDLE_MS);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 40_000);
  });

  it('declared partitions hold the watermark back before they are assigned here (a partial first assignment)', () => {
    const t = new WatermarkTracker(options);
    t.declarePartitions([0, 1, 2, 3]);
    expect(t.partitions()).toEqual([0, 1, 2, 3]);
    t.assignPartition(2, 0);
    t.assignPartition(3, 0);
    t.observeBatch(2, M + 100_000, true, 0);
    t.observeBatch(3, M + 120_000, true, 0);
    expect(t.advance(0)).toBe(-Infinity);
    // 2 and 3 go idle; 0 and 1, owned by nobody here yet, never do.
    expect(t.advance(10 * IDLE_MS)).toBe(-Infinity);
    t.assignPartition(0, 10 * IDLE_MS);
    t.assignPartition(1, 10 * IDLE_MS);
    t.observeBatch(0, M + 30_000, false, 10 * IDLE_MS);
    t.observeBatch(1, M + 40_000, false, 10 * IDLE_MS);
    expect(t.advance(10 * IDLE_MS)).toBe(M + 20_000);
    // Declaring again changes nothing of what is known.
    t.declarePartitions([0, 1, 2, 3]);
    expect(t.isAssigned(0)).toBe(true);
    expect(t.partitionWatermarkMs(1)).toBe(M + 30_000);
  });

  it('re-assignment starts a partition behind again: it is not idle until a caught-up report', () => {
    const t = tracker([0, 1]);
    t.observeBatch(0, M + 100_000, true, 0);
    t.observeBatch(1, M + 20_000, true, 0);
    t.revokePartition(1);
    t.assignPartition(1, 0);
    expect(t.isIdle(1, 10 * IDLE_MS)).toBe(false);
  });

  it('round-trips through JSON; restored partitions restart their idle clock at restore time', () => {
    const t = tracker([0, 1, 2]);
    t.observeBatch(0, M + 100_000, true, 0);
    t.observeBatch(1, M + 20_000, false, 0);
    t.revokePartition(1);
    t.setCaughtUp(2, true);
    t.advance(0);
    const json = JSON.parse(JSON.stringify(t.toJSON())) as ReturnType<WatermarkTracker['toJSON']>;
    expect(json).toEqual({
      globalWatermarkMs: null, // partition 2 (never delivered) holds it at -Infinity
      partitions: [
        { partition: 0, assigned: true, maxEventTimeMs: M + 100_000, caughtUp: true },
        { partition: 1, assigned: false, maxEventTimeMs: M + 20_000, caughtUp: false },
        { partition: 2, assigned: true, maxEventTimeMs: null, caughtUp: true },
      ],
    });
    const restored = WatermarkTracker.fromJSON(json, options, 5 * IDLE_MS);
    expect(restored.toJSON()).toEqual(t.toJSON());
    expect(restored.isIdle(2, 5 * IDLE_MS)).toBe(false);
    expect(restored.advance(5 * IDLE_MS)).toBe(-Infinity);
    // 0 and 2 are idle now; 1, not owned here, still holds the watermark at its own.
    expect(restored.advance(6 * IDLE_MS)).toBe(M + 10_000);
  });
});
