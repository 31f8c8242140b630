import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/system/backoff.js';

describe('backoffDelayMs', () => {
  it('starts at the base and doubles with each attempt', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 1_000, 30_000))).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('never exceeds the maximum', () => {
    expect(backoffDelayMs(5, 1_000, 30_000)).toBe(16_000);
    expect(backoffDelayMs(6, 1_000, 30_000)).toBe(30_000);
    expect(backoffDelayMs(60, 1_000, 30_000)).toBe(30_000);
  });
});
