import { describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import { aggregateBatch, aggregateColumns } from '../../../src/windows/aggregateBatch.js';
import { M, SIZE_MS } from './fixtures.js';

const ev = (eventTimeMs: number, url: string) => ({ eventTimeMs, url });

describe('aggregateBatch', () => {
  it('counts per (window, url), sorted by window then url', () => {
    const result = aggregateBatch(
      [ev(M + 61_000, '/b'), ev(M + 5, '/b'), ev(M, '/a'), ev(M + 59_999, '/b'), ev(M + 60_000, '/a')],
      -Infinity,
      SIZE_MS,
    );
    expect(result.counts).toEqual([
      { windowStartMs: M, url: '/a', count: 1 },
      { windowStartMs: M, url: '/b', count: 2 },
      { windowStartMs: M + 60_000, url: '/a', count: 1 },
      { windowStartMs: M + 60_000, url: '/b', count: 1 },
    ]);
    expect(result.lateCount).toBe(0);
    expect(result.maxEventTimeMs).toBe(M + 61_000);
  });

  it('classifies late iff the window end <= known watermark: behind the watermark in an open window is on time', () => {
    const known = M + 30_000;
    const result = aggregateBatch(
      [ev(known - 1, '/a'), ev(known, '/a'), ev(known + 1, '/b'), ev(M - 90_000, '/c'), ev(M - 1, '/c')],
      known,
      SIZE_MS,
    );
    expect(result.lateCount).toBe(2);
    expect(result.counts).toEqual([
      { windowStartMs: M, url: '/a', count: 2 },
      { windowStartMs: M, url: '/b', count: 1 },
    ]);
    expect(result.maxEventTimeMs).toBe(known + 1);
    // The watermark exactly at a window's end closes it; one ms before, it is open.
    expect(aggregateBatch([ev(M + 1_000, '/a'), ev(M + 2_000, '/a')], M + 60_000, SIZE_MS)).toEqual({
      counts: [],
      lateCount: 2,
      maxEventTimeMs: M + 2_000,
    });
    expect(aggregateBatch([ev(M + 1_000, '/a')], M + 59_999, SIZE_MS)).toEqual({
      counts: [{ windowStartMs: M, url: '/a', count: 1 }],
      lateCount: 0,
      maxEventTimeMs: M + 1_000,
    });
  });

  it('returns -Infinity as max for an empty batch, and accepts any iterable', () => {
    expect(aggregateBatch([], -Infinity, SIZE_MS)).toEqual({ counts: [], lateCount: 0, maxEventTimeMs: -Infinity });
    function* gen() {
      yield ev(M, '/x');
      yield ev(M + 1, '/x');
    }
    expect(aggregateBatch(gen(), -Infinity, SIZE_MS).counts).toEqual([{ windowStartMs: M, url: '/x', count: 2 }]);
  });

  it('throws a stable error on a non-finite event time', () => {
    expect(() => aggregateBatch([ev(Number.NaN, '/a')], -Infinity, SIZE_MS)).toThrow(
      expect.objectContaining({ code: 'SDP_ERR_WINDOW_INVALID_INPUT' }),
    );
    try {
      aggregateBatch([ev(Number.POSITIVE_INFINITY, '/a')], -Infinity, SIZE_MS);
      expect.unreachable();
    } catch (err) {
      expect(isSdpError(err, 'SDP_ERR_WINDOW_INVALID_INPUT')).toBe(true);
    }
  });

  it('aggregateColumns reads the first `count` events column-wise, exactly as aggregateBatch reads them as objects', () => {
    const events = [
      ev(M + 61_000, '/b'),
      ev(M + 5, '/b'),
      ev(M - 90_000, '/c'),
      ev(M, '/a'),
      ev(M + 59_999, '/b'),
      ev(M + 60_000, '/a'),
    ];
    const times = [...events.map((e) => e.eventTimeMs), M + 999_999];
    const urls = [...events.map((e) => e.url), '/stale'];
    for (const known of [-Infinity, M, M + 30_000]) {
      expect(aggregateColumns(times, urls, events.length, known, SIZE_MS)).toEqual(
        aggregateBatch(events, known, SIZE_MS),
      );
    }
    expect(aggregateColumns(times, urls, 0, M, SIZE_MS)).toEqual({
      counts: [],
      lateCount: 0,
      maxEventTimeMs: -Infinity,
    });
  });
});
