import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../../src/kafka/patches/crc32c.js';

const require = createRequire(import.meta.url);
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;

describe('crc32c', () => {
  it('gives kafkajs\'s CRC-32C for every length and content, and the check value of "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    let state = 17;
    for (let length = 0; length < 300; length++) {
      const buf = Buffer.alloc(length);
      for (let i = 0; i < length; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        buf[i] = state >>> 24;
      }
      expect(crc32c(buf)).toBe(kafkajsCrc32C(buf));
    }
  });

  it('sums a range, and resumes from the CRC of the bytes before it', () => {
    const buf = Buffer.from(Array.from({ length: 1_000 }, (_, i) => (i * 31 + 7) & 0xff));
    expect(crc32c(buf, 100, 900)).toBe(kafkajsCrc32C(buf.subarray(100, 900)));
    for (const cut of [0, 1, 7, 8, 9, 500, 999, 1_000])
      expect(crc32c(buf, cut, buf.length, crc32c(buf, 0, cut))).toBe(kafkajsCrc32C(buf));
  });
});
