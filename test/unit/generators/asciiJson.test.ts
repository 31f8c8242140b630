import { describe, expect, it } from 'vitest';
import { asciiBytes, isWritableScaled, writeBytes, writeScaled } from '../../../src/generators/asciiJson.js';
import { createRandom } from '../../../src/generators/random.js';

function scaledText(scaled: number, decimals: number): string {
  const buf = Buffer.alloc(40, 0xee);
  const end = writeScaled(buf, 3, scaled, decimals);
  expect(buf[2]).toBe(0xee);
  expect(buf[end]).toBe(0xee);
  return buf.toString('latin1', 3, end);
}

describe('writeScaled', () => {
  it('writes what JSON writes for a value rounded to 0 to 6 decimals', () => {
    const random = createRandom('writeScaled');
    const problems: string[] = [];
    for (let decimals = 0; decimals <= 6; decimals++) {
      const factor = 10 ** decimals;
      const values = [0, -0, 0.004, -0.004, 0.05, -0.05, 1, -1, 10, 100.5, 21.37, -19.995, 99.999, 2 ** 31, -(2 ** 31)];
      // Every magnitude up to 10^15 scaled: the 31-bit path and the other.
      for (let i = 0; i < 50_000; i++) values.push((random.next() * 2 - 1) * 10 ** (random.next() * 15 - decimals));
      for (const x of values) {
        const scaled = Math.round(x * factor);
        if (!isWritableScaled(scaled)) continue;
        const text = scaledText(scaled, decimals);
        const json = JSON.stringify(scaled / factor);
        if (text !== json) problems.push(`${x} to ${decimals} decimals: ${text}, JSON ${json}`);
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
  });

  it('takes integers under 10^15 in magnitude only', () => {
    for (const n of [0, -5, 999_999_999_999_999, -999_999_999_999_999]) expect(isWritableScaled(n)).toBe(true);
    for (const n of [1e15, -1e15, 0.5, Number.NaN, Infinity, -Infinity]) expect(isWritableScaled(n)).toBe(false);
  });
});

describe('asciiBytes and writeBytes', () => {
  it('encodes ASCII as its bytes and refuses other characters', () => {
    expect([...asciiBytes('{"a":')]).toEqual([0x7b, 0x22, 0x61, 0x22, 0x3a]);
    expect(() => asciiBytes('café')).toThrow(RangeError);
  });

  it('copies short and long byte strings where asked', () => {
    for (const length of [0, 1, 16, 17, 200]) {
      const bytes = Buffer.alloc(length, 0x41);
      const buf = Buffer.alloc(length + 4, 0xee);
      expect(writeBytes(buf, 2, bytes)).toBe(2 + length);
      expect([...buf]).toEqual([0xee, 0xee, ...bytes, 0xee, 0xee]);
    }
  });
});
