import { describe, expect, it } from 'vitest';
import { decodeCommitMetadata, MAX_COMMIT_METADATA_BYTES } from '../../../src/checkpoint/commitMetadata.js';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import {
  decodeStage2CommitMetadata,
  encodeStage2CommitMetadata,
  type Stage2CommitMetadata,
  stage2RenamesOf,
} from '../../../src/windows/stage2CommitMetadata.js';

const TOPIC_ID = '0123456789abcdef0123456789abcdef';
const pad = (n: number | string): string => String(n).padStart(20, '0');

function meta(files: Stage2CommitMetadata['files'], writer = 'a1b2'): Stage2CommitMetadata {
  return { v: 1, topicId: TOPIC_ID, writer, files };
}

/** Every day from `first` for `count` days, as dts. */
function days(first: string, count: number, step = 1): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(start + i * step * 86_400_000).toISOString().slice(0, 10));
}

describe('stage-2 commit metadata', () => {
  it('round-trips a commit without files, with files per dt, and compacts runs of days', () => {
    for (const m of [
      meta(null),
      meta({ first: '7', last: '42', dts: ['2026-12-05'] }),
      meta({ first: '0', last: '9223372036854775806', dts: ['2026-12-04', '2026-12-05'] }),
      { ...meta({ first: '3', last: '3', dts: days('2026-01-01', 365) }), topicId: null },
    ]) {
      const text = encodeStage2CommitMetadata(m);
      expect(text.startsWith('sdpw:1:')).toBe(true);
      expect(text.length).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
      expect(decodeStage2CommitMetadata(text)).toEqual(m);
    }
    // A year of consecutive days is one run.
    expect(encodeStage2CommitMetadata(meta({ first: '3', last: '3', dts: days('2026-01-01', 365) }))).toContain(
      '"20260101,1*364"',
    );
  });

  it('sorts and dedups dts and writes offsets without padding', () => {
    const text = encodeStage2CommitMetadata(
      meta({ first: pad(5), last: pad(9), dts: ['2026-12-05', '2026-12-01', '2026-12-05'] }),
    );
    expect(decodeStage2CommitMetadata(text)).toEqual(
      meta({ first: '5', last: '9', dts: ['2026-12-01', '2026-12-05'] }),
    );
  });

  it('lists the files by range when their dts do not fit in the bound', () => {
    // 2,000 days with irregular gaps (1..13 days): no run compacts them below the bound.
    let day = Date.parse('1990-01-01T00:00:00Z');
    const scattered = Array.from({ length: 2000 }, (_, i) => {
      day += (1 + ((i * 7919) % 13)) * 86_400_000;
      return new Date(day).toISOString().slice(0, 10);
    });
    const text = encodeStage2CommitMetadata(meta({ first: '10', last: '20', dts: scattered }));
    expect(text.length).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
    expect(decodeStage2CommitMetadata(text)).toEqual(meta({ first: '10', last: '20', dts: null }));
  });

  it('is not taken for an input partition metadata, nor the reverse', () => {
    const ours = encodeStage2CommitMetadata(meta(null));
    expect(decodeCommitMetadata(ours)).toBeNull();
    const raw = `sdp:1:{"t":null,"r":"5","w":null,"id":"ab","f":[]}`;
    expect(decodeStage2CommitMetadata(raw)).toBeNull();
    for (const foreign of [null, undefined, '', 'kafka-consumer-groups reset']) {
      expect(decodeStage2CommitMetadata(foreign)).toBeNull();
    }
  });

  it('refuses ours malformed, and a newer version with its own code', () => {
    const malformed = [
      'sdpw:1:not json',
      'sdpw:1:{"t":null,"id":"ab"}',
      'sdpw:1:{"t":null,"id":"AB","f":null}',
      'sdpw:1:{"t":"x","id":"ab","f":null}',
      'sdpw:1:{"t":null,"id":"ab","f":["9","3","20261205"]}',
      'sdpw:1:{"t":null,"id":"ab","f":["1","3","2026-12-05"]}',
      'sdpw:1:{"t":null,"id":"ab","l":["1"]}',
      'sdpw:0:{"t":null,"id":"ab","f":null}',
    ];
    for (const text of malformed) {
      let caught: unknown;
      try {
        decodeStage2CommitMetadata(text, 'repartition partition 1');
      } catch (err) {
        caught = err;
      }
      expect(isSdpError(caught, ErrorCodes.CHECKPOINT_METADATA_INVALID), text).toBe(true);
      expect((caught as Error).message).toContain('repartition partition 1');
    }
    expect(() => decodeStage2CommitMetadata('sdpw:3:{"t":null,"id":"ab","f":null}')).toThrow(
      expect.objectContaining({ code: ErrorCodes.CHECKPOINT_METADATA_NEWER }),
    );
  });

  it('refuses to encode what it could not decode', () => {
    expect(() => encodeStage2CommitMetadata(meta(null, 'not-hex'))).toThrow(RangeError);
    expect(() => encodeStage2CommitMetadata(meta({ first: '9', last: '3', dts: ['2026-12-05'] }))).toThrow(RangeError);
    expect(() => encodeStage2CommitMetadata(meta({ first: '1', last: '3', dts: [] }))).toThrow(RangeError);
    expect(() => encodeStage2CommitMetadata(meta({ first: '1', last: '3', dts: ['2026-02-30'] }))).toThrow(RangeError);
  });

  it('names the renames of a commit: derived from the dts, or the writer tmp files of its range', () => {
    const dir = (dt: string) => `tables/clickstream_agg/dt=${dt}`;
    expect(stage2RenamesOf(meta({ first: '5', last: '9', dts: ['2026-12-04', '2026-12-05'] }), 3, [])).toEqual([
      {
        from: `${dir('2026-12-04')}/.part-3-${pad(5)}-${pad(9)}.parquet.a1b2.tmp`,
        to: `${dir('2026-12-04')}/r3/part-3-${pad(5)}-${pad(9)}.parquet`,
      },
      {
        from: `${dir('2026-12-05')}/.part-3-${pad(5)}-${pad(9)}.parquet.a1b2.tmp`,
        to: `${dir('2026-12-05')}/r3/part-3-${pad(5)}-${pad(9)}.parquet`,
      },
    ]);
    expect(stage2RenamesOf(meta(null), 3, [])).toEqual([]);
    const tmp = [
      `${dir('2026-12-05')}/.part-3-${pad(5)}-${pad(9)}.parquet.a1b2.tmp`,
      `${dir('2026-12-05')}/.part-3-${pad(5)}-${pad(9)}.parquet.ffff.tmp`, // another writer
      `${dir('2026-12-05')}/.part-3-${pad(5)}-${pad(10)}.parquet.a1b2.tmp`, // another range
      `${dir('2026-12-01')}/.part-3-${pad(5)}-${pad(9)}.parquet.a1b2.tmp`,
    ];
    expect(stage2RenamesOf(meta({ first: '5', last: '9', dts: null }), 3, tmp)).toEqual([
      { from: tmp[3], to: `${dir('2026-12-01')}/r3/part-3-${pad(5)}-${pad(9)}.parquet` },
      { from: tmp[0], to: `${dir('2026-12-05')}/r3/part-3-${pad(5)}-${pad(9)}.parquet` },
    ]);
  });
});

describe('stage-2 commit metadata of a compaction commit (architecture.md, "Compaction")', () => {
  const merge = { dt: '2026-12-05', first: '0', last: '41' };
  const merging = (files: Stage2CommitMetadata['files']) => ({ ...meta(files), v: 2 as const, merge });

  it("carries the merge beside the last commit's files, and round-trips it", () => {
    const m = merging({ first: '42', last: '50', dts: ['2026-12-05', '2026-12-06'] });
    const text = encodeStage2CommitMetadata(m);
    expect(text).toBe(`sdpw:2:{"t":"${TOPIC_ID}","id":"a1b2","m":["20261205","0","41"],"f":["42","50","20261205,1"]}`);
    expect(decodeStage2CommitMetadata(text)).toEqual(m);
    expect(decodeStage2CommitMetadata(encodeStage2CommitMetadata(merging(null)))).toEqual(merging(null));
    // Metadata written before merges has none: read as before.
    expect(decodeStage2CommitMetadata(encodeStage2CommitMetadata(meta(null)))).not.toHaveProperty('merge');
  });

  it('writes version 2 only with a merge, so that a release before merges refuses it clearly', () => {
    // Every other commit stays version 1: any release reads it.
    expect(encodeStage2CommitMetadata(meta({ first: '1', last: '3', dts: ['2026-12-05'] }))).toMatch(/^sdpw:1:/);
    expect(encodeStage2CommitMetadata(merging(null))).toMatch(/^sdpw:2:/);
    // The version must say what the commit carries.
    expect(() => encodeStage2CommitMetadata({ ...meta(null), merge })).toThrow(RangeError);
    expect(() => encodeStage2CommitMetadata({ ...meta(null), v: 2 })).toThrow(RangeError);
    // A merge written under version 1 (before the bump) is still read.
    expect(decodeStage2CommitMetadata(`sdpw:1:{"t":null,"id":"ab","m":["20261205","0","41"],"f":null}`)).toEqual({
      v: 2,
      topicId: null,
      writer: 'ab',
      files: null,
      merge,
    });
  });

  it('keeps the bound with a merge: the files fall back to their range, the merge stays', () => {
    let day = Date.parse('1990-01-01T00:00:00Z');
    const scattered = Array.from({ length: 2000 }, (_, i) => {
      day += (1 + ((i * 7919) % 13)) * 86_400_000;
      return new Date(day).toISOString().slice(0, 10);
    });
    const text = encodeStage2CommitMetadata(merging({ first: '42', last: '50', dts: scattered }));
    expect(text.length).toBeLessThanOrEqual(MAX_COMMIT_METADATA_BYTES);
    expect(decodeStage2CommitMetadata(text)).toEqual(merging({ first: '42', last: '50', dts: null }));
  });

  it('refuses a malformed merge, and will not encode one it could not decode', () => {
    for (const [v, m] of [1, 2].flatMap((v) =>
      ['"x"', '["20261205","3"]', '["20261205","9","3"]', '["20261205","3","3"]', '["20261205,1","0","3"]'].map(
        (m) => [v, m] as const,
      ),
    )) {
      const text = `sdpw:${v}:{"t":null,"id":"ab","m":${m},"f":null}`;
      expect(() => decodeStage2CommitMetadata(text), m).toThrow(
        expect.objectContaining({ code: ErrorCodes.CHECKPOINT_METADATA_INVALID }),
      );
    }
    expect(() => encodeStage2CommitMetadata({ ...merging(null), merge: { ...merge, last: '0' } })).toThrow(RangeError);
    expect(() => encodeStage2CommitMetadata({ ...merging(null), merge: { ...merge, dt: '2026-02-30' } })).toThrow(
      RangeError,
    );
  });
});
