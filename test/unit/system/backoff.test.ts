import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/system/backoff.js';

describe('backoffDelayMs', () => {
  it('doubles from the base at attempt 1 and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, 200, 5_000))).toEqual([
      200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000,
    ]);
  });

  it('stays at the cap, a finite number, however many attempts failed', () => {
    expect(backoffDelayMs(1_000_000, 1_000, 30_000)).toBe(30_000);
    expect(backoffDelayMs(Number.MAX_SAFE_INTEGER, 0, 30_000)).toBe(0);
  });

  it('caps even the first attempt when the cap is below the base', () => {
    expect(backoffDelayMs(1, 500, 100)).toBe(100);
  });

  it('refuses an attempt below 1 or not an integer, and a negative, NaN or infinite base or cap', () => {
    for (const attempt of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => backoffDelayMs(attempt, 100, 1_000)).toThrow(RangeError);
    for (const baseMs of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => backoffDelayMs(1, baseMs, 1_000)).toThrow(RangeError);
    for (const maxMs of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => backoffDelayMs(1, 100, maxMs)).toThrow(RangeError);
  });
});
