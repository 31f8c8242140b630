import { describe, expect, it } from 'vitest';
import { ByteDictionary } from '../../../src/lake/byteDictionary.js';

const bytes = (s: string): Buffer => Buffer.from(s);

describe('ByteDictionary', () => {
  it('gives each distinct byte string one id, found again from any buffer and offset', () => {
    const dict = new ByteDictionary();
    const a = dict.idOf(bytes('xx/home'), 2, 7, true);
    const b = dict.idOf(bytes('/cart'), 0, 5, true);
    expect([a, b]).toEqual([0, 1]);
    expect(dict.idOf(bytes('/home'), 0, 5, true)).toBe(0);
    expect(dict.idOf(bytes('..../cart..'), 4, 9, true)).toBe(1);
    expect(dict.idOf(bytes(''), 0, 0, true)).toBe(2);
    expect(dict.idOf(bytes('x'), 1, 1, true)).toBe(2);
    expect(dict.size).toBe(3);
    const snap = dict.snapshot();
    expect(Buffer.from(snap.bytes).toString()).toBe('/home/cart');
    expect([...snap.ends]).toEqual([5, 10, 10]);
    expect(snap.ascii).toBe(true);
  });

  it('tells apart values that share length, head and tail, through rehashes', () => {
    const dict = new ByteDictionary(100_000);
    const values = Array.from(
      { length: 5_000 },
      (_, i) => `${'a'.repeat(16)}-${String(i).padStart(6, '0')}-${'z'.repeat(16)}`,
    );
    for (const [i, v] of values.entries()) expect(dict.idOf(bytes(v), 0, v.length, true)).toBe(i);
    for (const [i, v] of values.entries()) expect(dict.idOf(bytes(v), 0, v.length, true)).toBe(i);
    expect(dict.size).toBe(5_000);
    const snap = dict.snapshot();
    expect(Buffer.from(snap.bytes.subarray(snap.ends[4_998], snap.ends[4_999])).toString()).toBe(values[4_999]);
  });

  it('answers -1 for a new value once full, and still finds the old ones', () => {
    const dict = new ByteDictionary(2);
    expect(dict.idOf(bytes('a'), 0, 1, true)).toBe(0);
    expect(dict.idOf(bytes('b'), 0, 1, true)).toBe(1);
    expect(dict.idOf(bytes('c'), 0, 1, true)).toBe(-1);
    expect(dict.idOf(bytes('b'), 0, 1, true)).toBe(1);
    expect(dict.size).toBe(2);
  });

  it('remembers a non-ASCII entry', () => {
    const dict = new ByteDictionary();
    const v = bytes('/café');
    dict.idOf(v, 0, v.length, false);
    expect(dict.snapshot().ascii).toBe(false);
  });
});
