import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  decodeManifest,
  encodeManifest,
  lateRowsSince,
  nameFacts,
  type ManifestEntry,
} from '../../../src/lake/dayManifest.js';
import { aggFileName, rawFileName, rejectedFileName } from '../../../src/lake/layout.js';

const SHA = (c: string): string => c.repeat(64);
const raw = (
  p: number,
  first: number,
  last: number,
  rows: number,
  extra: Partial<ManifestEntry> = {},
): ManifestEntry => ({
  path: `p${p}/${rawFileName(p, first, last)}`,
  rows,
  bytes: rows * 10,
  partition: p,
  first: String(first),
  last: String(last),
  sha256: SHA('a'),
  rejected_rows: 0,
  ...extra,
});
const NOW = Date.parse('2026-12-06T03:00:00Z');
const BOUND = Date.parse('2026-12-05T02:00:00Z');

describe('nameFacts: what a file name tells the manifest', () => {
  it('reads partition and range of raw, _rejected and stage-2 files, and a checkpoint id as a one-offset range', () => {
    expect(nameFacts('clickstream', `p3/${rawFileName(3, 10, 19)}`)).toEqual({
      owner: 'p3',
      partition: 3,
      first: '10',
      last: '19',
    });
    expect(nameFacts('_rejected', `p1-click.s-1/${rejectedFileName('click.s-1', 1, 5, 7)}`)).toEqual({
      owner: 'click.s-1:1',
      partition: 1,
      first: '5',
      last: '7',
    });
    expect(nameFacts('clickstream_agg', `r2/${rawFileName(2, 0, 4)}`)).toMatchObject({ owner: 'r2', partition: 2 });
    expect(nameFacts('clickstream_agg', `agg/${aggFileName(42)}`)).toEqual({
      owner: 'agg',
      partition: null,
      first: '42',
      last: '42',
    });
    expect(nameFacts('clickstream', rawFileName(0, 0, 1))).toMatchObject({ owner: 'p0' }); // before units
    expect(nameFacts('clickstream', 'p0/copy of part.parquet')).toBeUndefined();
  });
});

describe('lateRowsSince: rows in offset ranges the previous manifest did not cover', () => {
  const sealed = [raw(0, 0, 99, 100), raw(1, 0, 49, 50)];

  it('counts a late file whole, and nothing for files listed before', () => {
    const late = raw(0, 500, 502, 3);
    expect(lateRowsSince('clickstream', sealed, [...sealed, late])).toEqual({ lateRows: 3, lost: [] });
    expect(lateRowsSince('clickstream', sealed, sealed)).toEqual({ lateRows: 0, lost: [] });
  });

  it('counts only the late part of a merge of sealed and late rows, so compaction never counts them twice', () => {
    const afterLate = [...sealed, raw(0, 500, 502, 3)];
    const merged = [raw(0, 0, 502, 103), sealed[1]!];
    expect(lateRowsSince('clickstream', sealed, merged).lateRows).toBe(3);
    // Against the manifest that already took the late file in: nothing new.
    expect(lateRowsSince('clickstream', afterLate, merged)).toEqual({ lateRows: 0, lost: [] });
  });

  it('keeps writers apart: a range of partition 1 covers nothing of partition 0', () => {
    expect(lateRowsSince('clickstream', sealed, [raw(1, 0, 99, 80), raw(0, 100, 109, 10)]).lost).toEqual([sealed[0]]);
  });

  it('names the listed files no current file holds', () => {
    expect(lateRowsSince('clickstream', sealed, [sealed[1]!])).toEqual({ lateRows: 0, lost: [sealed[0]] });
  });
});

describe('buildManifest: the seal, its replacement, and what stays the same', () => {
  const entries = [raw(1, 0, 49, 50, { rejected_rows: 2 }), raw(0, 0, 99, 100)];
  const first = buildManifest({
    table: 'clickstream',
    dt: '2026-12-04',
    entries,
    previous: undefined,
    nowMs: NOW,
    watermarkBoundMs: BOUND,
  });

  it('seals with totals, the first seal time and bound, revision 1, entries in path order', () => {
    expect(first.kind).toBe('write');
    if (first.kind !== 'write') return;
    expect(first.manifest).toMatchObject({
      version: 1,
      table: 'clickstream',
      dt: '2026-12-04',
      sealed_at: '2026-12-06T03:00:00.000Z',
      watermark_bound: '2026-12-05T02:00:00.000Z',
      revision: 1,
      rows: 150,
      files: 2,
      bytes: 1500,
      rejected_rows: 2,
      late_rows: 0,
    });
    expect(first.manifest.entries.map((e) => e.partition)).toEqual([0, 1]);
    expect(first.lateRowsAdded).toBe(0);
  });

  it('writes nothing when the files did not change, whoever builds it and whenever', () => {
    if (first.kind !== 'write') throw new Error('expected a write');
    const again = buildManifest({
      table: 'clickstream',
      dt: '2026-12-04',
      entries: [...entries].reverse(),
      previous: first.manifest,
      nowMs: NOW + 3_600_000,
      watermarkBoundMs: BOUND + 3_600_000,
    });
    expect(again.kind).toBe('unchanged');
  });

  it('replaces on a late file: late rows cumulative, revision up, first seal kept; a later merge adds none', () => {
    if (first.kind !== 'write') throw new Error('expected a write');
    const withLate = buildManifest({
      table: 'clickstream',
      dt: '2026-12-04',
      entries: [...entries, raw(0, 500, 501, 2)],
      previous: first.manifest,
      nowMs: NOW + 1,
      watermarkBoundMs: BOUND + 1,
    });
    expect(withLate).toMatchObject({ kind: 'write', lateRowsAdded: 2 });
    if (withLate.kind !== 'write') return;
    expect(withLate.manifest).toMatchObject({
      revision: 2,
      late_rows: 2,
      rows: 152,
      sealed_at: first.manifest.sealed_at,
    });
    const second = buildManifest({
      table: 'clickstream',
      dt: '2026-12-04',
      entries: [...withLate.manifest.entries, raw(1, 900, 900, 1)],
      previous: withLate.manifest,
      nowMs: NOW + 2,
      watermarkBoundMs: BOUND,
    });
    expect(second).toMatchObject({ kind: 'write', lateRowsAdded: 1, manifest: { late_rows: 3, revision: 3 } });
    if (second.kind !== 'write') return;
    const merged = buildManifest({
      table: 'clickstream',
      dt: '2026-12-04',
      entries: [raw(0, 0, 501, 102, { sha256: SHA('b') }), ...second.manifest.entries.filter((e) => e.partition === 1)],
      previous: second.manifest,
      nowMs: NOW + 3,
      watermarkBoundMs: BOUND,
    });
    expect(merged).toMatchObject({
      kind: 'write',
      lateRowsAdded: 0,
      manifest: { late_rows: 3, revision: 4, rows: 153 },
    });
  });

  it('refuses to shrink: a listed file gone makes no new manifest', () => {
    if (first.kind !== 'write') throw new Error('expected a write');
    const gone = buildManifest({
      table: 'clickstream',
      dt: '2026-12-04',
      entries: [entries[0]!],
      previous: first.manifest,
      nowMs: NOW,
      watermarkBoundMs: BOUND,
    });
    expect(gone).toEqual({ kind: 'lost', lost: [first.manifest.entries[0]] });
  });

  it('non-raw tables carry no rejected rows', () => {
    const agg = buildManifest({
      table: 'clickstream_agg',
      dt: '2026-12-04',
      entries: [{ ...raw(0, 0, 3, 4, { path: `r0/${rawFileName(0, 0, 3)}` }), rejected_rows: undefined }],
      previous: undefined,
      nowMs: NOW,
      watermarkBoundMs: BOUND,
    });
    if (agg.kind !== 'write') throw new Error('expected a write');
    expect('rejected_rows' in agg.manifest).toBe(false);
    expect(encodeManifest(agg.manifest)).not.toContain('rejected_rows');
  });
});

describe('encodeManifest / decodeManifest', () => {
  it('round-trips, and equal manifests are equal bytes', () => {
    const built = buildManifest({
      table: 'iot',
      dt: '2026-12-04',
      entries: [raw(0, 0, 9, 10)],
      previous: undefined,
      nowMs: NOW,
      watermarkBoundMs: BOUND,
    });
    if (built.kind !== 'write') throw new Error('expected a write');
    const text = encodeManifest(built.manifest);
    expect(decodeManifest(text)).toEqual(built.manifest);
    expect(encodeManifest(decodeManifest(text))).toBe(text);
    expect(JSON.parse(text)).toEqual(built.manifest);
  });

  it('rejects a manifest of another version or with a bad checksum, naming the field', () => {
    expect(() => decodeManifest('{"version":2}')).toThrow(/version/);
    const built = buildManifest({
      table: 'iot',
      dt: '2026-12-04',
      entries: [raw(0, 0, 9, 10, { sha256: 'xyz' })],
      previous: undefined,
      nowMs: NOW,
      watermarkBoundMs: BOUND,
    });
    if (built.kind !== 'write') throw new Error('expected a write');
    expect(() => decodeManifest(encodeManifest(built.manifest))).toThrow(/entries\.0\.sha256/);
  });
});
