import { describe, expect, it } from 'vitest';
import { Lanes } from '../../../src/producer/lanes.js';

describe('Lanes', () => {
  it('hands out the lane that has rested longest', async () => {
    const lanes = new Lanes(['a', 'b', 'c']);
    const first = await lanes.acquire();
    const second = await lanes.acquire();
    expect([first, second]).toEqual(['a', 'b']);
    lanes.release(first);
    // 'c' has never been used: it comes before 'a', which just committed.
    expect(await lanes.acquire()).toBe('c');
    expect(await lanes.acquire()).toBe('a');
  });

  it('makes callers wait, in order, when every lane is taken', async () => {
    const lanes = new Lanes([1]);
    const held = await lanes.acquire();
    const order: string[] = [];
    const x = lanes.acquire().then((lane) => order.push(`x${lane}`));
    const y = lanes.acquire().then((lane) => order.push(`y${lane}`));
    expect(lanes.freeCount).toBe(0);
    lanes.release(held);
    await x;
    lanes.release(1);
    await y;
    expect(order).toEqual(['x1', 'y1']);
  });

  it('needs at least one lane', () => {
    expect(() => new Lanes([])).toThrow(RangeError);
  });
});
