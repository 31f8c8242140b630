import { describe, expect, it } from 'vitest';
import { assertJsonSafe, isJsonSafe } from '../../../src/generators/jsonSafe.js';

describe('isJsonSafe', () => {
  it('accepts what JSON writes as it is, refuses what it escapes', () => {
    for (const text of ['', 'https://shop.example.com/p/x?q=a+b', 'Mozilla/5.0 (X11; Linux x86_64)', 'é😀'])
      expect(isJsonSafe(text)).toBe(true);
    for (const text of ['"', 'a\\b', 'line\n', '\u0001', '\ud800']) expect(isJsonSafe(text)).toBe(false);
  });

  it('names the first string that needs escaping', () => {
    expect(() => assertJsonSafe(['ok', 'say "hi"'], 'test string')).toThrow(
      /test string "say \\"hi\\"" needs escaping/,
    );
    expect(() => assertJsonSafe(['ok'], 'test string')).not.toThrow();
  });
});
