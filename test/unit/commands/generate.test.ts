import { describe, expect, it } from 'vitest';
import { splitCount } from '../../../src/commands/generate.js';

describe('splitCount', () => {
  it('splits in proportion to the rates, the last stream taking the rounding remainder', () => {
    expect(splitCount(9, { clickstream: 120, iot: 60 })).toEqual({ clickstream: 6, iot: 3 });
    expect(splitCount(10, { clickstream: 120, iot: 60 })).toEqual({ clickstream: 6, iot: 4 });
    expect(splitCount(1_000_000, { clickstream: 3, iot: 1 })).toEqual({ clickstream: 750_000, iot: 250_000 });
  });

  it('splits evenly when a stream is unlimited (rate 0)', () => {
    expect(splitCount(11, { clickstream: 0, iot: 60 })).toEqual({ clickstream: 5, iot: 6 });
    expect(splitCount(10, { clickstream: 0, iot: 0 })).toEqual({ clickstream: 5, iot: 5 });
  });

  it('gives everything to a single stream and nothing to the streams not asked for', () => {
    expect(splitCount(7, { iot: 60 })).toEqual({ iot: 7 });
    expect(splitCount(7, { clickstream: 0 })).toEqual({ clickstream: 7 });
    expect(splitCount(0, { clickstream: 120, iot: 60 })).toEqual({ clickstream: 0, iot: 0 });
  });

  it('always sums to the total, never negative', () => {
    for (const rates of [
      { clickstream: 1, iot: 1 },
      { clickstream: 1_000, iot: 1 },
      { clickstream: 7, iot: 13 },
      { clickstream: 0, iot: 5 },
    ]) {
      for (let total = 0; total <= 200; total++) {
        const counts = splitCount(total, rates);
        expect((counts.clickstream ?? 0) + (counts.iot ?? 0)).toBe(total);
        expect(counts.clickstream).toBeGreaterThanOrEqual(0);
        expect(counts.iot).toBeGreaterThanOrEqual(0);
      }
    }
  });
});
