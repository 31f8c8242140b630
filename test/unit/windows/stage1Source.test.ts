import { describe, expect, it } from 'vitest';
import { decodeRepartitionRecord } from '../../../src/windows/repartitionRecords.js';
import { Stage1Source } from '../../../src/windows/stage1Source.js';
import { M, SIZE_MS } from './fixtures.js';

const DELAY = 10_000;
const IDLE = 30_000;
const INTERVAL = 10_000;

function source(winFloor: string | null = null, nowMs = 0): Stage1Source {
  return new Stage1Source({
    partition: 2,
    sizeMs: SIZE_MS,
    winFloor,
    watermarkDelayMs: DELAY,
    idleTimeoutMs: IDLE,
    nowMs,
  });
}

function batch(lastOffset: string, maxEventTimeMs: number, url = '/a', count = 1) {
  return {
    lastOffset,
    maxEventTimeMs,
    counts: count > 0 ? [{ windowStartMs: Math.floor(maxEventTimeMs / SIZE_MS) * SIZE_MS, url, count }] : [],
    lateCount: 0,
  };
}

const decode = (m: { key: string; value: string }) => decodeRepartitionRecord(m.key, m.value);

describe('Stage1Source', () => {
  it('carries counts, watermark (max event time − delay), the floor and the partition count in one record per r', () => {
    const s = source();
    s.add(batch('5', 3 * M + 1_000), false, 1_000);
    s.add(batch('9', 3 * M + 2_000, '/b', 2), false, 2_000);
    const drained = s.drain(3_000, 4, 3);
    expect(drained.win).toBe('9');
    expect(drained.records).toHaveLength(3);
    const records = drained.records.map(decode);
    for (const r of records) {
      expect(r.sourcePartition).toBe(2);
      expect(r.sourcePartitions).toBe(4);
      expect(r.watermarkMs).toBe(3 * M + 2_000 - DELAY);
      expect(r.throughOffset).toBe('9');
      expect(r.idle).toBe(false);
    }
    const total = records.flatMap((r) => r.windows.flatMap((w) => w.counts.map((c) => c.count)));
    expect(total.reduce((a, b) => a + b, 0)).toBe(3);
    expect(s.winFloor).toBe('9');
  });

  it('is idle only when caught up, not paused and quiet for the idle timeout', () => {
    const s = source(null, 0);
    s.add(batch('1', M), true, 1_000);
    expect(s.idle(1_000 + IDLE - 1)).toBe(false);
    expect(s.idle(1_000 + IDLE)).toBe(true);
    s.setPaused(true, 40_000);
    expect(s.idle(100_000)).toBe(false);
    s.setPaused(false, 100_000);
    expect(s.idle(100_000 + IDLE - 1)).toBe(false);
    s.progress(false);
    expect(s.idle(1_000_000)).toBe(false);
  });

  it('a mark is due after the interval only when it would say something new', () => {
    const s = source('41', 0);
    expect(s.winFloor).toBe('41');
    expect(s.markDue(INTERVAL - 1, INTERVAL, 4)).toBe(false);
    expect(s.markDue(INTERVAL, INTERVAL, 4)).toBe(true); // never sent one
    s.drain(INTERVAL, 4, 3);
    expect(s.markDue(2 * INTERVAL, INTERVAL, 4)).toBe(false); // nothing new
    expect(s.markDue(2 * INTERVAL, INTERVAL, 6)).toBe(true); // partitions added
    s.add(batch('42', M, '/a', 0), false, 2 * INTERVAL); // a record without page views moves the floor
    expect(s.markDue(2 * INTERVAL, INTERVAL, 4)).toBe(true);
    expect(s.drain(2 * INTERVAL, 4, 3).win).toBe('42');
    expect(s.markDue(3 * INTERVAL, INTERVAL, 4)).toBe(false);
    s.progress(true);
    expect(s.markDue(2 * INTERVAL + IDLE, INTERVAL, 4)).toBe(true); // it became idle
  });

  it('says an unchanged mark again once the idle timeout passed since the last one (a new stage-2 owner waits for it)', () => {
    const s = source(null, 0);
    s.add(batch('1', M), true, 0);
    s.drain(IDLE, 4, 3); // idle now, and said so
    expect(s.markDue(IDLE + INTERVAL, INTERVAL, 4)).toBe(false); // nothing new
    expect(s.markDue(2 * IDLE - 1, INTERVAL, 4)).toBe(false);
    expect(s.markDue(2 * IDLE, INTERVAL, 4)).toBe(true);
    const again = s.drain(2 * IDLE, 4, 3).records.map(decode);
    expect(again.map((r) => [r.idle, r.throughOffset, r.windows.length])).toEqual([
      [true, '1', 0],
      [true, '1', 0],
      [true, '1', 0],
    ]);
  });

  it('says it took the partition over in its first commit only, whatever that commit is', () => {
    const s = source('7', 0);
    const first = s.drain(INTERVAL, 4, 3).records.map(decode);
    expect(first.map((r) => r.takeover)).toEqual([true, true, true]);
    s.add(batch('8', M), false, INTERVAL);
    const second = s.drain(2 * INTERVAL, 4, 3).records.map(decode);
    expect(second.map((r) => r.takeover)).toEqual([undefined, undefined, undefined]);
  });

  it('skips a batch at or below the floor it was taken over at ("-1" is no floor)', () => {
    const s = source('10');
    s.add(batch('10', M), false, 0);
    expect(s.drain(INTERVAL, 4, 1).records.map(decode)[0]!.windows).toEqual([]);
    const fresh = source('-1');
    fresh.add(batch('0', M), false, 0);
    expect(fresh.drain(INTERVAL, 4, 1).win).toBe('0');
  });
});
