import { describe, expect, it } from 'vitest';
import { SampleRing } from '../../../src/status/sampleRing.js';

describe('SampleRing', () => {
  it('keeps the last `capacity` items, oldest first', () => {
    const ring = new SampleRing<number>(3);
    expect(ring.toArray()).toEqual([]);
    expect(ring.latest()).toBeUndefined();
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.size).toBe(3);
    expect(ring.latest()).toBe(7);
  });

  it('stays bounded however many items are pushed', () => {
    const ring = new SampleRing<number>(450);
    for (let i = 0; i < 100_000; i++) ring.push(i);
    expect(ring.size).toBe(450);
    expect(ring.toArray()[0]).toBe(100_000 - 450);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new SampleRing(0)).toThrow(/capacity/);
  });
});
