import { describe, expect, it } from 'vitest';
import { checkShard, ownedIdNumbers, ownerOf, owns, WHOLE_POPULATION } from '../../../src/generators/ownership.js';

describe('identity ownership', () => {
  it('deals the numbered ids round robin: the owner depends on the id and the thread count only', () => {
    expect([0, 1, 2, 3, 4, 5, 42].map((n) => ownerOf(n, 4))).toEqual([0, 1, 2, 3, 0, 1, 2]);
    expect(ownerOf(42, 1)).toBe(0);
    expect(owns({ index: 2, count: 4 }, 42)).toBe(true);
    expect(owns({ index: 1, count: 4 }, 42)).toBe(false);
    expect(ownedIdNumbers(10, { index: 1, count: 4 })).toEqual([1, 5, 9]);
    expect(ownedIdNumbers(3, WHOLE_POPULATION)).toEqual([0, 1, 2]);
  });

  it('gives every id exactly one owner, and every thread ⌊n/t⌋ or ⌈n/t⌉ ids, for 1 to 64 threads', () => {
    for (const population of [512, 50_000]) {
      for (let threads = 1; threads <= 64; threads++) {
        const shards = Array.from({ length: threads }, (_, index) =>
          ownedIdNumbers(population, { index, count: threads }),
        );
        const all = shards.flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: population }, (_, n) => n));
        for (const owned of shards) {
          expect(owned.length).toBeGreaterThanOrEqual(Math.floor(population / threads));
          expect(owned.length).toBeLessThanOrEqual(Math.ceil(population / threads));
        }
      }
    }
  });

  it('rejects a shard outside its count', () => {
    expect(() => checkShard(WHOLE_POPULATION)).not.toThrow();
    expect(() => checkShard({ index: 4, count: 4 })).toThrow(RangeError);
    expect(() => checkShard({ index: -1, count: 4 })).toThrow(RangeError);
    expect(() => checkShard({ index: 0, count: 0 })).toThrow(RangeError);
    expect(() => checkShard({ index: 0.5, count: 2 })).toThrow(RangeError);
    expect(() => ownedIdNumbers(10, { index: 2, count: 2 })).toThrow(RangeError);
  });
});
