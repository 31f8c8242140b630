import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../src/generators/random.js';
import { UUID_LENGTH, uuidV4, writeUuidV4 } from '../../../src/generators/uuidV4.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV4 and writeUuidV4', () => {
  it('give the same version 4 UUID for the same words, as text and as bytes', () => {
    const random = createRandom('uuid');
    const words = [
      [0, 0, 0, 0],
      [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
      ...Array.from({ length: 2000 }, () => [
        random.nextUint32(),
        random.nextUint32(),
        random.nextUint32(),
        random.nextUint32(),
      ]),
    ] as Array<[number, number, number, number]>;
    const buf = Buffer.alloc(UUID_LENGTH + 2, 0xee);
    for (const [w0, w1, w2, w3] of words) {
      const text = uuidV4(w0, w1, w2, w3);
      expect(text).toMatch(UUID_V4);
      expect(writeUuidV4(buf, 1, w0, w1, w2, w3)).toBe(1 + UUID_LENGTH);
      expect(buf.toString('latin1', 1, 1 + UUID_LENGTH)).toBe(text);
      expect([buf[0], buf[UUID_LENGTH + 1]]).toEqual([0xee, 0xee]);
    }
    expect(uuidV4(0x01234567, 0x89abcdef, 0x01234567, 0x89abcdef)).toBe('01234567-89ab-4def-8123-456789abcdef');
  });

  it('is what Random.uuid draws from its next four words', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    expect(a.uuid()).toBe(uuidV4(b.nextUint32(), b.nextUint32(), b.nextUint32(), b.nextUint32()));
  });
});
