import { describe, expect, it } from 'vitest';
import { splitAtLogStart, tileRanges } from '../../../src/verify/tiling.js';

const r = (first: number, last: number) => ({ first: BigInt(first), last: BigInt(last) });

describe('tileRanges', () => {
  it('touching ranges leave neither gap nor overlap, in any input order', () => {
    const t = tileRanges([r(10, 19), r(0, 9), r(20, 29)], 0n, 29n);
    expect(t.gaps).toEqual([]);
    expect(t.overlaps).toEqual([]);
    expect(t.tail).toBeUndefined();
    expect(t.coveredTo).toBe(29n);
  });

  it('finds the gap before the first range, between ranges, and the tail up to the checkpoint', () => {
    const t = tileRanges([r(3, 9), r(12, 20)], 0n, 25n);
    expect(t.gaps).toEqual([r(0, 2), r(10, 11)]);
    expect(t.tail).toEqual(r(21, 25));
  });

  it('no tail when the checkpoint is inside or before the covered ranges (files committed after it)', () => {
    expect(tileRanges([r(0, 9)], 0n, 9n).tail).toBeUndefined();
    expect(tileRanges([r(0, 9)], 0n, 5n).tail).toBeUndefined();
    expect(tileRanges([r(0, 9)], 0n, undefined).tail).toBeUndefined();
  });

  it('reports an overlap for intersecting, nested and identical ranges, naming both', () => {
    const crossing = tileRanges([r(0, 9), r(5, 14)], 0n, undefined);
    expect(crossing.overlaps.map((o) => [o.earlier, o.later])).toEqual([[r(0, 9), r(5, 14)]]);
    expect(crossing.gaps).toEqual([]);
    const nested = tileRanges([r(0, 20), r(5, 9), r(21, 30)], 0n, undefined);
    expect(nested.overlaps.map((o) => [o.earlier, o.later])).toEqual([[r(0, 20), r(5, 9)]]);
    expect(nested.gaps).toEqual([]);
    expect(tileRanges([r(0, 9), r(0, 9)], 0n, undefined).overlaps).toHaveLength(1);
  });

  it('an overlap is against the range reaching furthest, not merely the previous one', () => {
    const t = tileRanges([r(0, 50), r(10, 20), r(30, 40)], 0n, undefined);
    expect(t.overlaps.map((o) => o.earlier)).toEqual([r(0, 50), r(0, 50)]);
  });

  it('a single-offset range and ranges starting past `from`', () => {
    expect(tileRanges([r(7, 7)], 5n, 8n)).toMatchObject({ gaps: [r(5, 6)], tail: r(8, 8), coveredTo: 7n });
    expect(tileRanges([], 0n, 4n)).toMatchObject({ gaps: [], tail: r(0, 4), coveredTo: -1n });
  });

  it('rejects a range that ends before it starts', () => {
    expect(() => tileRanges([r(5, 4)], 0n, undefined)).toThrow(RangeError);
  });
});

describe('splitAtLogStart', () => {
  it('splits a range into what Kafka no longer holds and what it holds', () => {
    expect(splitAtLogStart(r(0, 9), 20n)).toEqual({ gone: r(0, 9), held: undefined });
    expect(splitAtLogStart(r(20, 29), 20n)).toEqual({ gone: undefined, held: r(20, 29) });
    expect(splitAtLogStart(r(10, 29), 20n)).toEqual({ gone: r(10, 19), held: r(20, 29) });
  });
});
