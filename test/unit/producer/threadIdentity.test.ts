import { describe, expect, it } from 'vitest';
import { createPoolInstanceId, threadSeed, transactionalIdFor } from '../../../src/producer/threadIdentity.js';

describe('transactional ids', () => {
  it('are new for every pool, stable for a slot and lane within it', () => {
    const a = createPoolInstanceId();
    const b = createPoolInstanceId();
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(transactionalIdFor('sdp-producer', a, 2, 1)).toBe(`sdp-producer-${a}-2-1`);
    expect(transactionalIdFor('sdp-producer', a, 2, 1)).toBe(transactionalIdFor('sdp-producer', a, 2, 1));
  });
});

describe('threadSeed', () => {
  it('keeps the first generation of a slot as seed + slot × 0x9e3779b1', () => {
    expect(threadSeed(42, 0, 0)).toBe(42);
    expect(threadSeed(42, 3, 0)).toBe((42 + 3 * 0x9e3779b1) >>> 0);
  });

  it('differs for every slot and every replacement thread of a slot', () => {
    const seeds = new Set<number>();
    for (let slot = 0; slot < 16; slot++)
      for (let generation = 0; generation < 16; generation++) seeds.add(threadSeed(7, slot, generation));
    expect(seeds.size).toBe(256);
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
  });
});
