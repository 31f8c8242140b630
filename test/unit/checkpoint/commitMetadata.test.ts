import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalFiles,
  type CommitFile,
  type CommitMetadata,
  decodeCommitMetadata,
  encodeCommitMetadata,
  MAX_COMMIT_METADATA_BYTES,
  renamesOf,
} from '../../../src/checkpoint/commitMetadata.js';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { dtOfMs, rawFilePath, rejectedFilePath, tmpPathFor, unhiddenTmpPath } from '../../../src/lake/layout.js';
import type { TableName } from '../../../src/lake/tables.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';

const TOPIC_ID = '0123456789abcdef0123456789abcdef';
const INT64_MAX = '9223372036854775807';
const DAY_MS = 86_400_000;

function meta(over: Partial<CommitMetadata> = {}): CommitMetadata {
  return { v: 1, topicId: TOPIC_ID, raw: '299', win: '250', writer: 'a1b2c3', files: [], ...over };
}

const file = (table: TableName, dt: string, first: string, last: string): CommitFile => ({ table, dt, first, last });

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('encodeCommitMetadata / decodeCommitMetadata', () => {
  it('writes a roll compactly and reads it back', () => {
    const m = meta({
      files: [
        file('clickstream', '2026-12-02', '200', '299'),
        file('_rejected', '2026-12-01', '200', '299'),
        file('clickstream', '2026-12-01', '200', '299'),
      ],
    });
    const text = encodeCommitMetadata(m);
    expect(text).toBe(
      `sdp:1:{"t":"${TOPIC_ID}","r":"299","w":"250","id":"a1b2c3",` +
        '"f":[["200","299",{"c":"20261201,1","x":"20261201"}]]}',
    );
    expect(decodeCommitMetadata(text)).toEqual({ ...m, files: canonicalFiles(m.files as CommitFile[]) });
  });

  it('keeps iot (no window stage), an unknown topic id, no offsets and no files', () => {
    const m = meta({ topicId: null, raw: '-1', win: null, files: [] });
    expect(decodeCommitMetadata(encodeCommitMetadata(m))).toEqual(m);
    const w = meta({ win: '-1' });
    expect(decodeCommitMetadata(encodeCommitMetadata(w))).toEqual(w);
  });

  it('writes offsets without padding: 20-digit names and int64 max', () => {
    const padded = meta({
      raw: INT64_MAX,
      win: INT64_MAX,
      files: [file('iot', '2026-01-01', '00000000000000000007', `0${INT64_MAX}`)],
    });
    const text = encodeCommitMetadata(padded);
    expect(text).toContain(`["7","${INT64_MAX}",{"i":"20260101"}]`);
    expect(decodeCommitMetadata(text)?.files).toEqual([file('iot', '2026-01-01', '7', INT64_MAX)]);
  });

  it('lists 1,000 consecutive dts within the bound (a run of one-day deltas), with 20-digit offsets', () => {
    const start = Date.UTC(2020, 0, 1);
    const files = Array.from({ length: 1000 }, (_, i) =>
      file('clickstream', dtOfMs(start + i * DAY_MS), '09223372036854775000', `0${INT64_MAX}`),
    );
    const text = encodeCommitMetadata(meta({ raw: INT64_MAX, win: INT64_MAX, writer: 'f'.repeat(32), files }));
    expect(bytes(text)).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
    expect(text).toContain('"c":"20200101,1*999"');
    expect(decodeCommitMetadata(text)?.files).toHaveLength(1000);
  });

  it('lists 1,000 scattered dts by range once the list would pass the bound, with 20-digit offsets', () => {
    const random = mulberry32(7);
    const dts = new Set<string>();
    while (dts.size < 1000) dts.add(dtOfMs(Math.floor(random() * 3_000_000) * DAY_MS - 62_000_000_000_000));
    const tables: TableName[] = ['clickstream', '_rejected'];
    const files = [...dts].flatMap((dt) => tables.map((t) => file(t, dt, '09223372036854775000', `0${INT64_MAX}`)));
    const m = meta({ raw: INT64_MAX, win: INT64_MAX, writer: 'f'.repeat(32), files });
    const text = encodeCommitMetadata(m);
    expect(bytes(text)).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
    expect(decodeCommitMetadata(text)).toEqual({
      ...m,
      files: { listedByRange: { first: '9223372036854775000', last: INT64_MAX } },
    });
  });

  it('carries the merged file of a compaction commit beside the same floors, and reads it back', () => {
    const m = meta({ merge: { table: '_rejected', dt: '2026-12-01', first: '00000000000000000100', last: '199' } });
    const text = encodeCommitMetadata(m);
    expect(text).toBe(
      `sdp:1:{"t":"${TOPIC_ID}","r":"299","w":"250","id":"a1b2c3","m":["x","20261201","100","199"],"f":[]}`,
    );
    expect(decodeCommitMetadata(text)).toEqual({ ...m, merge: { ...m.merge!, first: '100' } });
    // Metadata written before merges (no `m`) still parses, with no merge.
    const old = `sdp:1:{"t":"${TOPIC_ID}","r":"299","w":"250","id":"a1b2c3","f":[]}`;
    expect(decodeCommitMetadata(old)).toEqual(meta());
    expect(decodeCommitMetadata(old)).not.toHaveProperty('merge');
  });

  it('keeps a merge within the bound at its widest, beside a roll listed by range', () => {
    const random = mulberry32(11);
    const dts = new Set<string>();
    while (dts.size < 1000) dts.add(dtOfMs(Math.floor(random() * 3_000_000) * DAY_MS - 62_000_000_000_000));
    const files = [...dts].map((dt) => file('clickstream', dt, '9223372036854775000', INT64_MAX));
    const merge = { table: 'clickstream' as const, dt: '9999-12-31', first: '0', last: '9223372036854774999' };
    const m = meta({ raw: INT64_MAX, win: INT64_MAX, writer: 'f'.repeat(32), files, merge });
    const text = encodeCommitMetadata(m);
    expect(bytes(text)).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
    expect(decodeCommitMetadata(text)?.merge).toEqual(merge);
    expect(decodeCommitMetadata(text)?.files).toEqual({
      listedByRange: { first: '9223372036854775000', last: INT64_MAX },
    });
  });

  it('refuses a merge it cannot carry and reads a malformed one as malformed', () => {
    expect(() =>
      encodeCommitMetadata(meta({ merge: { table: 'iot', dt: '2026-12-01', first: '5', last: '5' } })),
    ).toThrow(RangeError);
    expect(() =>
      encodeCommitMetadata(
        meta({ merge: { table: 'clickstream_agg' as 'iot', dt: '2026-12-01', first: '1', last: '5' } }),
      ),
    ).toThrow(RangeError);
    for (const m of ['["q","20261201","1","5"]', '["c","20261201,1","1","5"]', '["c","20261201","5","1"]', '"c"']) {
      const err = errorOf(() => decodeCommitMetadata(`sdp:1:{"t":null,"r":"9","w":null,"id":"ab","m":${m},"f":[]}`));
      expect(isSdpError(err) && err.code).toBe(ErrorCodes.CHECKPOINT_METADATA_INVALID);
    }
  });

  it('refuses a list of several ranges that would not fit (only one range can stand for the files)', () => {
    const files: CommitFile[] = [];
    for (let i = 0; i < 400; i += 1)
      files.push(file('iot', dtOfMs(i * 40 * DAY_MS), String(i * 10), String(i * 10 + 9)));
    expect(() => encodeCommitMetadata(meta({ win: null, raw: '3999', files }))).toThrow(/400 offset ranges/);
  });

  it('refuses values it cannot carry', () => {
    expect(() => encodeCommitMetadata(meta({ writer: 'XYZ' }))).toThrow(RangeError);
    expect(() => encodeCommitMetadata(meta({ topicId: 'abc' }))).toThrow(RangeError);
    expect(() => encodeCommitMetadata(meta({ raw: '-2' }))).toThrow(RangeError);
    expect(() => encodeCommitMetadata(meta({ raw: '9223372036854775808' }))).toThrow(RangeError);
    expect(() => encodeCommitMetadata(meta({ files: [file('iot', '2024-02-30', '1', '2')] }))).toThrow(RangeError);
    expect(() => encodeCommitMetadata(meta({ files: [file('iot', '2024-01-01', '3', '2')] }))).toThrow(RangeError);
    expect(() => encodeCommitMetadata(meta({ files: [file('clickstream_agg', '2024-01-01', '1', '2')] }))).toThrow(
      /no clickstream_agg/,
    );
    const twice = [file('iot', '2024-01-01', '1', '2'), file('iot', '2024-01-01', '1', '2')];
    expect(() => encodeCommitMetadata(meta({ files: twice }))).toThrow(/named twice/);
  });

  it('reads text that is not ours as "no ETL metadata"', () => {
    for (const text of [null, undefined, '', 'streams:AAAA', '{"v":1}', ' sdp:1:{}']) {
      expect(decodeCommitMetadata(text)).toBeNull();
    }
  });

  it('says a newer release wrote a version it does not know', () => {
    const err = errorOf(() => decodeCommitMetadata('sdp:2:{"anything":1}', 'clicks[3]'));
    expect(isSdpError(err, ErrorCodes.CHECKPOINT_METADATA_NEWER)).toBe(true);
    expect((err as Error).message).toMatch(/clicks\[3\].*version 2: a newer release wrote it/);
  });

  it('names malformed metadata of ours', () => {
    const good = JSON.parse(encodeCommitMetadata(meta({ files: [file('iot', '2024-01-01', '1', '2')] })).slice(6));
    const bad = [
      'sdp:',
      'sdp:x:{}',
      'sdp:0:{}',
      'sdp:1:',
      'sdp:1:{',
      'sdp:1:[]',
      'sdp:1:{"t":null}',
      `sdp:1:${JSON.stringify({ ...good, extra: 1 })}`,
      `sdp:1:${JSON.stringify({ ...good, l: ['1', '2'] })}`,
      `sdp:1:${JSON.stringify({ ...good, t: 'ABC' })}`,
      `sdp:1:${JSON.stringify({ ...good, id: '' })}`,
      `sdp:1:${JSON.stringify({ ...good, r: 5 })}`,
      `sdp:1:${JSON.stringify({ ...good, r: '-3' })}`,
      `sdp:1:${JSON.stringify({ ...good, w: '1e3' })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['2', '1', { i: '20240101' }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', {}]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', { a: '20240101' }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', { i: '20240230' }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', { i: '2024-01-01' }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', { i: '20240101,0' }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', { i: '20240101,1*9999999' }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: [['1', '2', { i: 20240101 }]] })}`,
      `sdp:1:${JSON.stringify({ ...good, f: undefined, l: ['1'] })}`,
    ];
    for (const text of bad) {
      const err = errorOf(() => decodeCommitMetadata(text, 'clicks[3]'));
      expect(isSdpError(err, ErrorCodes.CHECKPOINT_METADATA_INVALID), text).toBe(true);
      expect((err as Error).message).toContain('the commit metadata of clicks[3] is malformed');
    }
  });
});

describe('renamesOf', () => {
  it("gives the lake writer's own names: tmpPathFor(final, writer) → final, lake-relative", () => {
    const lake = '/lake';
    const m = meta({
      files: [file('clickstream', '2026-12-01', '200', '299'), file('_rejected', '2026-12-01', '200', '299')],
    });
    const finals = [
      rawFilePath(lake, 'clickstream', '2026-12-01', 3, '200', '299'),
      rejectedFilePath(lake, '2026-12-01', 'clicks', 3, '200', '299'),
    ];
    expect(renamesOf(m, 'clicks', 3)).toEqual(
      finals.map((f) => ({ from: path.relative(lake, tmpPathFor(f, 'a1b2c3')), to: path.relative(lake, f) })),
    );
    expect(renamesOf(m, 'clicks', 3)[1]).toEqual({
      from: 'tables/_rejected/dt=2026-12-01/.part-clicks-3-00000000000000000200-00000000000000000299.parquet.a1b2c3.tmp',
      to: 'tables/_rejected/dt=2026-12-01/p3-clicks/part-clicks-3-00000000000000000200-00000000000000000299.parquet',
    });
  });

  it('listed by range: the tmp files of that writer and range, and only those', () => {
    const m = meta({ files: { listedByRange: { first: '200', last: '299' } } });
    const tmp = (table: 'clickstream' | '_rejected', dt: string, first: number, last: number, writer?: string) =>
      path.relative(
        '/lake',
        tmpPathFor(
          table === '_rejected'
            ? rejectedFilePath('/lake', dt, 'clicks', 3, first, last)
            : rawFilePath('/lake', table, dt, 3, first, last),
          writer,
        ),
      );
    const mine = [
      tmp('_rejected', '2026-12-01', 200, 299, 'a1b2c3'),
      tmp('clickstream', '2026-12-01', 200, 299, 'a1b2c3'),
    ];
    const others = [
      tmp('clickstream', '2026-12-02', 200, 299, 'ffff'), // another writer
      tmp('clickstream', '2026-12-02', 200, 300, 'a1b2c3'), // another range
      tmp('clickstream', '2026-12-03', 200, 299), // legacy name without a writer
    ];
    // The final in its unit (lake/layout.ts), the tmp file in the dt directory.
    const unitOf = (from: string): string => (from.includes('/_rejected/') ? 'p3-clicks' : 'p3');
    expect(renamesOf(m, 'clicks', 3, [...others, ...mine])).toEqual(
      mine.map((from) => ({
        from,
        to: unhiddenTmpPath(from)
          .replace('.a1b2c3.tmp', '')
          .replace(/\/part-/, `/${unitOf(from)}/part-`),
      })),
    );
    expect(() => renamesOf(m, 'clicks', 3)).toThrow(/need the tmp files/);
  });
});

describe('round trip (seeded random metadata)', () => {
  const MIN_DAY = -719_528; // 0000-01-01
  const MAX_DAY = 2_932_896; // 9999-12-31

  function offset(random: () => number): bigint {
    const digits = 1 + Math.floor(random() * 19);
    let value = 0n;
    for (let i = 0; i < digits; i += 1) value = value * 10n + BigInt(Math.floor(random() * 10));
    return value > 2n ** 63n - 1n ? 2n ** 63n - 1n : value;
  }

  const asText = (value: bigint, random: () => number): string =>
    random() < 0.3 ? value.toString().padStart(20, '0') : value.toString();

  function randomMeta(random: () => number): CommitMetadata {
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
    const windowed = random() < 0.5;
    const files: CommitFile[] = [];
    const ranges = random() < 0.8 ? 1 : 1 + Math.floor(random() * 3);
    const many = random() < 0.2;
    for (let r = 0; r < ranges; r += 1) {
      const first = offset(random);
      const last = first + BigInt(Math.floor(random() * 1e6));
      const bounded = last > 2n ** 63n - 1n ? 2n ** 63n - 1n : last;
      for (const table of [windowed ? 'clickstream' : 'iot', '_rejected'] as const) {
        const count = many ? Math.floor(random() * 1500) : Math.floor(random() * 4);
        const wide = random() < 0.5;
        let day = MIN_DAY + Math.floor(random() * (MAX_DAY - MIN_DAY - 1_600_000));
        for (let i = 0; i < count && day <= MAX_DAY; i += 1) {
          files.push(file(table, dtOfMs(day * DAY_MS), asText(first, random), asText(bounded, random)));
          day += wide ? 1 + Math.floor(random() * 1000) : 1 + Math.floor(random() * 2);
        }
      }
    }
    return {
      v: 1,
      topicId: random() < 0.2 ? null : hex(32),
      raw: random() < 0.1 ? '-1' : offset(random).toString(),
      win: windowed ? (random() < 0.1 ? '-1' : offset(random).toString()) : null,
      writer: hex(1 + Math.floor(random() * 32)),
      files,
    };
  }

  it('decode(encode(m)) is m (canonical offsets and file order) or its range, always within the bound', () => {
    const random = mulberry32(20_261_201);
    let listed = 0;
    let byRange = 0;
    for (let i = 0; i < 400; i += 1) {
      const m = randomMeta(random);
      const files = m.files as CommitFile[];
      const canonical = canonicalFiles(
        files.map((f) => ({ ...f, first: BigInt(f.first).toString(), last: BigInt(f.last).toString() })),
      );
      let text: string;
      try {
        text = encodeCommitMetadata(m);
      } catch (err) {
        // Only several ranges too many to list may be refused.
        expect(new Set(files.map((f) => `${BigInt(f.first)}-${BigInt(f.last)}`)).size).toBeGreaterThan(1);
        expect((err as Error).message).toMatch(/offset ranges do not fit/);
        continue;
      }
      expect(bytes(text)).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
      const decoded = decodeCommitMetadata(text);
      if (decoded !== null && !Array.isArray(decoded.files)) {
        byRange += 1;
        expect(decoded).toEqual({
          ...m,
          files: { listedByRange: { first: canonical[0]!.first, last: canonical[0]!.last } },
        });
      } else {
        listed += 1;
        expect(decoded).toEqual({ ...m, files: canonical });
        expect(renamesOf(decoded!, 'clicks', 5)).toEqual(renamesOf({ ...m, files: canonical }, 'clicks', 5));
      }
    }
    expect(listed).toBeGreaterThan(200);
    expect(byRange).toBeGreaterThan(5);
  });
});
