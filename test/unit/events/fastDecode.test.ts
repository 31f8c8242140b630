import { describe, expect, it } from 'vitest';
import { numberEnd, readNumber } from '../../../src/events/fastJson.js';
import {
  decodeEvent,
  decodeEventReference,
  fastClickstream,
  fastIot,
  type DecodeOptions,
} from '../../../src/events/validate.js';
import type { StreamName } from '../../../src/events/types.js';
import { createClickstreamGenerator } from '../../../src/generators/clickstream.js';
import { createIotGenerator } from '../../../src/generators/iot.js';
import { createRandom, type Random } from '../../../src/generators/random.js';

// Property tests of the fast decode path: on any input it must give exactly the
// reference decoder's verdict (row, or reason and detail), and it must actually take the fast way
// for what the project's producers write.

const START_MS = Date.UTC(2026, 11, 1, 12, 0, 0);
const OPTS: DecodeOptions = { maxEventBytes: 1024, maxFutureSkewMs: 300_000, recordTimestampMs: START_MS };

function producerValues(stream: StreamName, seed: number, count: number): Buffer[] {
  const out: Buffer[] = [];
  if (stream === 'clickstream') {
    const g = createClickstreamGenerator({ seed });
    for (let i = 0; i < count; i++) out.push(Buffer.from(JSON.stringify(g.next(START_MS - 5_000 + i))));
  } else {
    const g = createIotGenerator({ seed });
    for (let i = 0; i < count; i++) out.push(Buffer.from(JSON.stringify(g.next(START_MS - 5_000 + i))));
  }
  return out;
}

const PIECES = [
  '"',
  '\\',
  '\\"',
  '\\u0041',
  ',',
  ':',
  '{',
  '}',
  '[]',
  ' ',
  '\n',
  'null',
  'true',
  '0',
  '-0',
  '00',
  '1e3',
  '1E-2',
  '.5',
  '5.',
  '-',
  '123456789012345678',
  '0.1234567890123456',
  '99.999',
  '100.0001',
  '-150',
  '-150.5',
  '1.5',
  'é',
  '€',
  '😀',
  '\u0001',
  '""',
  '"x"',
  '"2026-12-01T12:00:00Z"',
  '"2026-12-01T12:00:00"',
  '"1999-12-31T23:59:59Z"',
  '"2027-01-01T00:00:00Z"',
  '1764590400000',
  '1764590400000.5',
  '"referrer":null',
  '"referrer":""',
  '"ts":"',
  '"temp_c":',
  '"humidity":-1',
  '"battery":',
  '"signal_strength":-71.5',
  '"extra":1',
];

/** A random edit of a producer-shaped value: what a broken producer or a bit flip could send. */
function mutate(r: Random, value: Buffer): Buffer {
  const text = value.toString('latin1');
  const at = r.int(0, text.length);
  switch (r.int(0, 6)) {
    case 0: // replace one byte with a random byte
      return Buffer.concat([value.subarray(0, at), Buffer.from([r.int(0, 255)]), value.subarray(at + 1)]);
    case 1: // delete a span
      return Buffer.concat([value.subarray(0, at), value.subarray(Math.min(value.length, at + r.int(1, 12)))]);
    case 2: // truncate
      return value.subarray(0, at);
    case 3: // insert a piece
      return Buffer.concat([
        value.subarray(0, at),
        Buffer.from(PIECES[r.int(0, PIECES.length - 1)]!),
        value.subarray(at),
      ]);
    case 4: {
      // replace a field value (between ':' and the next ',' or '}') with a piece
      const colon = text.indexOf(':', at);
      if (colon < 0) return value;
      let end = colon + 1;
      if (text[end] === '"') end = text.indexOf('"', end + 1) + 1;
      else while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
      return Buffer.concat([
        value.subarray(0, colon + 1),
        Buffer.from(PIECES[r.int(0, PIECES.length - 1)]!),
        value.subarray(end),
      ]);
    }
    case 5: {
      // a random number in place of a numeric field value
      const colon = text.indexOf(':', at);
      if (colon < 0) return value;
      let end = colon + 1;
      while (end < text.length && text[end] !== ',' && text[end] !== '}') end++;
      const n = r.next() < 0.5 ? (r.next() - 0.5) * 10 ** r.int(-8, 4) : r.int(-200, 200);
      return Buffer.concat([value.subarray(0, colon + 1), Buffer.from(JSON.stringify(n)), value.subarray(end)]);
    }
    default: // empty a string value
      return Buffer.from(text.replace(/:"[^"]*"/, ':""'), 'latin1');
  }
}

describe('fast decode path', () => {
  for (const stream of ['clickstream', 'iot'] as const) {
    it(`takes the fast way for every ${stream} value the producers write, with the reference's row`, () => {
      const fast = stream === 'clickstream' ? fastClickstream : fastIot;
      for (const seed of [1, 2, 3]) {
        for (const value of producerValues(stream, seed, 5_000)) {
          expect(fast(value, OPTS), value.toString()).toBeDefined();
          expect(decodeEvent(stream, value, OPTS)).toEqual(decodeEventReference(stream, value, OPTS));
        }
      }
    });

    it(`gives the reference verdict and detail for randomly broken ${stream} values`, () => {
      const r = createRandom(`fast-${stream}`);
      const base = producerValues(stream, 7, 400);
      let rejected = 0;
      for (let i = 0; i < 40_000; i++) {
        let value = base[i % base.length]!;
        for (let k = r.int(1, 3); k > 0; k--) value = mutate(r, value);
        const opts = {
          ...OPTS,
          maxEventBytes: r.next() < 0.05 ? r.int(1, 300) : OPTS.maxEventBytes,
          recordTimestampMs: r.next() < 0.05 ? -1 : OPTS.recordTimestampMs,
        };
        const expected = decodeEventReference(stream, value, opts);
        if (!expected.ok) rejected++;
        expect(decodeEvent(stream, value, opts), value.toString('latin1')).toEqual(expected);
      }
      expect(rejected).toBeGreaterThan(10_000); // the mutations do reach the rejection paths
    });
  }

  it('reads numbers bit for bit as JSON.parse, or declines', () => {
    const r = createRandom('numbers');
    let read = 0;
    for (let i = 0; i < 100_000; i++) {
      const n = r.next() < 0.3 ? r.int(-1e6, 1e6) : (r.next() - 0.5) * 10 ** r.int(-10, 17);
      const digits = r.int(0, 17);
      const text = i % 3 === 0 ? n.toFixed(Math.min(digits, 15)) : JSON.stringify(n);
      const got = readNumber(Buffer.from(`${text},`), 0);
      if (Number.isNaN(got)) continue;
      read++;
      expect(Object.is(got, JSON.parse(text)), `${text}: ${got}`).toBe(true);
    }
    expect(read).toBeGreaterThan(30_000);
    for (const text of ['-0', '0', '-0.0', '0.5', '100', '-150', '21.37'])
      expect(Object.is(readNumber(Buffer.from(text), 0), JSON.parse(text))).toBe(true);
    // '01' reads as 0 ending at index 1: the caller's next literal (',"humidity":'...) then fails.
    expect(readNumber(Buffer.from('01'), 0)).toBe(0);
    expect(numberEnd).toBe(1);
    for (const text of ['1.', '.5', '1e3', '-', '+1', '1234567890123456', 'x'])
      expect(readNumber(Buffer.from(text), 0)).toBeNaN();
  });
});
