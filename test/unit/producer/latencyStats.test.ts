import { describe, expect, it } from 'vitest';
import { percentile } from '../../../src/producer/latencyStats.js';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('is the value at rank ceil(p/100 × n)', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 99.5)).toBe(100);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([1, 2], 50)).toBe(1);
    expect(percentile([1, 2], 51)).toBe(2);
    expect(percentile([3, 7, 12], 50)).toBe(7);
    expect(percentile([3, 7, 12], 99)).toBe(12);
  });

  it('clamps to the smallest and largest values', () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile(hundred, -5)).toBe(1);
    expect(percentile(hundred, 150)).toBe(100);
    expect(percentile([42], 1)).toBe(42);
    expect(percentile([42], 99)).toBe(42);
  });

  it('is null for no values', () => {
    expect(percentile([], 50)).toBeNull();
  });
});
