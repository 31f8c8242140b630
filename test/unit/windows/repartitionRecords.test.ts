import { describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import { partitionForKey } from '../../../src/kafka/patches/partitioning.js';
import {
  decodeRepartitionRecord,
  encodeRepartitionRecord,
  type PageViewRepartitionRecord,
  repartitionOfUrl,
  repartitionTopicName,
} from '../../../src/windows/repartitionRecords.js';
import { M, SIZE_MS } from './fixtures.js';

const R = 3;
const URLS = ['/', '/a', '/b', '/c', '/products/42', '/cart', '/checkout', '/search?q=x', '/é', '/日本'];

/** Urls routed to `r`, ascending. */
function urlsOf(r: number): string[] {
  return URLS.filter((url) => repartitionOfUrl(url, R) === r).sort();
}

function record(overrides: Partial<PageViewRepartitionRecord> = {}): PageViewRepartitionRecord {
  const r = overrides.partition ?? 0;
  return {
    sourcePartition: 2,
    sourcePartitions: 4,
    partition: r,
    partitions: R,
    windowSizeMs: SIZE_MS,
    throughOffset: '1234',
    watermarkMs: M + 30_000,
    idle: false,
    windows: [
      { startMs: M, counts: urlsOf(r).map((url, i) => ({ url, count: i + 1 })) },
      {
        startMs: M + SIZE_MS,
        counts: urlsOf(r)
          .slice(0, 1)
          .map((url) => ({ url, count: 7 })),
      },
    ],
    ...overrides,
  };
}

function decodeError(key: string | null, value: string | Buffer | null): { message: string; details: string[] } {
  try {
    decodeRepartitionRecord(key, value);
  } catch (err) {
    expect(isSdpError(err, 'SDP_ERR_WINDOW_RECORD_INVALID')).toBe(true);
    const e = err as Error & { details: string[] };
    return { message: e.message, details: [...e.details] };
  }
  throw new Error('decoded');
}

describe('repartition records', () => {
  it('names the topic after the group', () => {
    expect(repartitionTopicName('sdp-etl')).toBe('sdp-etl-pv-repartition');
  });

  it('routes a url as Kafka routes a key (murmur2), and every test partition gets urls', () => {
    for (const url of URLS) expect(repartitionOfUrl(url, R)).toBe(partitionForKey(url, R));
    for (let r = 0; r < R; r++) expect(urlsOf(r).length).toBeGreaterThan(0);
  });

  it('round-trips every partition, through strings and bytes', () => {
    for (let r = 0; r < R; r++) {
      const rec = record({ partition: r });
      const message = encodeRepartitionRecord(rec);
      expect(message.partition).toBe(r);
      expect(message.key).toBe('2');
      expect(decodeRepartitionRecord(message.key, message.value)).toEqual(rec);
      expect(decodeRepartitionRecord(Buffer.from(message.key), Buffer.from(message.value))).toEqual(rec);
    }
  });

  it('round-trips a mark alone: -Infinity watermark, no offset yet, idle', () => {
    const rec = record({ watermarkMs: -Infinity, throughOffset: null, idle: true, windows: [] });
    const message = encodeRepartitionRecord(rec);
    expect(JSON.parse(message.value)).toMatchObject({ wm: null, to: null, idle: true, w: [] });
    expect(decodeRepartitionRecord(message.key, message.value)).toEqual(rec);
  });

  it('says a new owner\'s first commit as "tk":true, and nothing at all otherwise', () => {
    const first = record({ takeover: true });
    const message = encodeRepartitionRecord(first);
    expect(JSON.parse(message.value)).toMatchObject({ tk: true });
    expect(decodeRepartitionRecord(message.key, message.value)).toEqual(first);
    const later = encodeRepartitionRecord(record({ takeover: false }));
    expect(later.value).not.toContain('"tk"');
    expect(decodeRepartitionRecord(later.key, later.value).takeover).toBeUndefined();
    expect(() => decodeRepartitionRecord(later.key, later.value.replace('"idle"', '"tk":false,"idle"'))).toThrow(
      /malformed/,
    );
  });

  it('keeps int64 offsets exact and writes the compact form', () => {
    const rec = record({ throughOffset: '9223372036854775806' });
    const message = encodeRepartitionRecord(rec);
    expect(decodeRepartitionRecord(message.key, message.value).throughOffset).toBe('9223372036854775806');
    const first = urlsOf(0).map((url, i) => [url, i + 1]);
    const second = [[urlsOf(0)[0], 7]];
    expect(message.value).toBe(
      `{"v":1,"sp":2,"sn":4,"r":0,"rn":3,"size":60000,"to":"9223372036854775806","wm":${M + 30_000},"idle":false,` +
        `"w":${JSON.stringify([
          [M, first],
          [M + SIZE_MS, second],
        ])}}`,
    );
  });

  it('refuses what is not such a record, saying why', () => {
    expect(decodeError('2', null).message).toMatch(/no value/);
    expect(decodeError('2', 'not json').message).toMatch(/not JSON/);
    expect(decodeError('2', '[1,2]').message).toMatch(/not a page-view repartition record/);
    expect(decodeError('u-1', '{"event_id":"e","url":"/a"}').message).toMatch(/not a page-view repartition record/);
    expect(decodeError('2', '{"v":2,"sp":2}').message).toMatch(/version 2; this build reads version 1/);
    const good = JSON.parse(encodeRepartitionRecord(record()).value) as Record<string, unknown>;
    const malformed = decodeError('2', JSON.stringify({ ...good, wm: 'soon', extra: 1 }));
    expect(malformed.message).toMatch(/malformed/);
    expect(malformed.details.join('\n')).toMatch(/wm/);
    expect(malformed.details.join('\n')).toMatch(/extra/);
    expect(decodeError('2', JSON.stringify({ ...good, w: [[M, [['/a', 0]]]] })).details.join('\n')).toMatch(/w\.0\.1/);
  });

  it('refuses a record that breaks its rules', () => {
    const value = (overrides: Record<string, unknown>): string => {
      const good = JSON.parse(encodeRepartitionRecord(record()).value) as Record<string, unknown>;
      return JSON.stringify({ ...good, ...overrides });
    };
    const [a, b] = urlsOf(0) as [string, string];
    const other = urlsOf(1)[0]!;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        {
          w: [
            [
              M,
              [
                [b, 1],
                [a, 1],
              ],
            ],
          ],
        },
        /is not after/,
      ],
      [
        {
          w: [
            [
              M,
              [
                [a, 1],
                [a, 1],
              ],
            ],
          ],
        },
        /is not after/,
      ],
      [
        {
          w: [
            [M + SIZE_MS, [[a, 1]]],
            [M, [[a, 1]]],
          ],
        },
        /window .* is not after/,
      ],
      [{ w: [[M + 1, [[a, 1]]]] }, /not a window start/],
      [{ w: [[M, []]] }, /has no counts/],
      [{ w: [[M, [[other, 1]]]] }, /belongs to partition 1/],
      [{ sp: 4 }, /source partition 4 of 4/],
      [{ r: 3 }, /repartition partition 3 of 3/],
      [{ to: null }, /counts without a through offset/],
    ];
    for (const [overrides, pattern] of cases) {
      const err = decodeError('2', value(overrides));
      expect(err.message).toMatch(/breaks its rules|malformed/);
      expect(err.details.join('\n')).toMatch(pattern);
    }
    expect(decodeError('3', value({})).details.join('\n')).toMatch(/key "3" is not the source partition 2/);
    expect(decodeError(null, value({})).details.join('\n')).toMatch(/key null/);
  });

  it('will not encode a record that breaks its rules', () => {
    const [a, b] = urlsOf(0) as [string, string];
    expect(() =>
      encodeRepartitionRecord(
        record({
          windows: [
            {
              startMs: M,
              counts: [
                { url: b, count: 1 },
                { url: a, count: 1 },
              ],
            },
          ],
        }),
      ),
    ).toThrow(/cannot encode/);
    expect(() => encodeRepartitionRecord(record({ watermarkMs: Number.NaN }))).toThrow(/cannot encode/);
    // Partition 0's urls in a record for partition 1.
    expect(() => encodeRepartitionRecord(record({ partition: 1, windows: record().windows }))).toThrow(/cannot encode/);
  });
});
