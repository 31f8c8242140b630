import { describe, expect, it } from 'vitest';
import { topicLag, topicProgress } from '../../../src/etl/progress.js';

describe('topicLag', () => {
  it('sums end − position over partitions that have both; never negative', () => {
    const positions = new Map([
      [0, '100'],
      [1, '50'],
      [2, '10'],
    ]);
    const ends = new Map([
      [0, '150'],
      [1, '50'],
      [3, '999'],
    ]);
    expect(topicLag(positions, ends)).toBe(50);
    expect(topicLag(new Map([[0, '200']]), new Map([[0, '150']]))).toBe(0);
  });
});

describe('topicProgress: events/s and the time to catch up', () => {
  it('estimates from how fast the lag shrank', () => {
    const p = topicProgress(
      't',
      { atMs: 0, processed: 0, lag: 100_000 },
      { atMs: 10_000, processed: 60_000, lag: 40_000 },
    );
    expect(p.eventsPerSecond).toBe(6_000);
    expect(p.lag).toBe(40_000);
    // 60,000 fewer in 10 s: 6,000/s, 40,000 left → about 7 s.
    expect(p.catchUpSeconds).toBe(7);
  });

  it('null when the lag grows or stays (not catching up), 0 when caught up', () => {
    expect(
      topicProgress('t', { atMs: 0, processed: 0, lag: 100 }, { atMs: 10_000, processed: 500, lag: 300 })
        .catchUpSeconds,
    ).toBeNull();
    expect(
      topicProgress('t', { atMs: 0, processed: 0, lag: 100 }, { atMs: 10_000, processed: 0, lag: 100 }).catchUpSeconds,
    ).toBeNull();
    expect(
      topicProgress('t', { atMs: 0, processed: 0, lag: 100 }, { atMs: 10_000, processed: 100, lag: 0 }).catchUpSeconds,
    ).toBe(0);
  });

  it('unknown lag (end offsets not read yet) gives no estimate', () => {
    const p = topicProgress('t', { atMs: 0, processed: 0, lag: null }, { atMs: 10_000, processed: 10, lag: null });
    expect(p).toEqual({ topic: 't', eventsPerSecond: 1, lag: null, catchUpSeconds: null });
  });
});
