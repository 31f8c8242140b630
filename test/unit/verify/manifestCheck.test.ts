import { describe, expect, it } from 'vitest';
import type { DayManifest, ManifestEntry } from '../../../src/lake/dayManifest.js';
import { rawFileName } from '../../../src/lake/layout.js';
import {
  judgeManifest,
  MANIFEST_SLACK_MS,
  type Measured,
  type PresentFile,
} from '../../../src/verify/manifestCheck.js';
import { isFailure } from '../../../src/verify/findings.js';

const SEALED_MS = Date.parse('2026-12-03T00:00:00Z');
const entry = (p: number, first: number, last: number, rows: number): ManifestEntry => ({
  path: `p${p}/${rawFileName(p, first, last)}`,
  rows,
  bytes: rows * 10,
  partition: p,
  first: String(first),
  last: String(last),
  sha256: String(p).repeat(64),
  rejected_rows: 0,
});
const manifest = (entries: ManifestEntry[]): DayManifest => ({
  version: 1,
  table: 'clickstream',
  dt: '2026-12-01',
  sealed_at: '2026-12-03T00:00:00.000Z',
  watermark_bound: '2026-12-02T01:00:00.000Z',
  revision: 1,
  rows: entries.reduce((n, e) => n + e.rows, 0),
  files: entries.length,
  bytes: entries.reduce((n, e) => n + e.bytes, 0),
  rejected_rows: 0,
  late_rows: 0,
  entries,
});
const A = entry(0, 0, 99, 100);
const B = entry(1, 0, 49, 50);
const asPresent = (e: ManifestEntry, changedMs = SEALED_MS - 60_000): PresentFile => ({
  path: e.path,
  bytes: e.bytes,
  changedMs,
});
const asMeasured = (...es: ManifestEntry[]): Map<string, Measured> =>
  new Map(es.map((e) => [e.path, { rows: e.rows, sha256: e.sha256 }]));

function judge(present: PresentFile[], measured: Map<string, Measured>) {
  return judgeManifest({ manifest: manifest([A, B]), manifestChangedMs: SEALED_MS, present, measured });
}

describe('judgeManifest: a sealed day against its files', () => {
  it('holds when every listed file is there with its bytes, rows and checksum', () => {
    expect(judge([asPresent(A), asPresent(B)], asMeasured(A, B))).toEqual({ findings: [], mismatches: 0, pending: 0 });
  });

  it('names a listed file that is missing, and one whose checksum or rows differ', () => {
    const verdict = judge([asPresent(A)], new Map([[A.path, { rows: 99, sha256: 'f'.repeat(64) }]]));
    expect(verdict.mismatches).toBe(2);
    expect(verdict.findings.every(isFailure)).toBe(true);
    expect(verdict.findings.map((f) => [f.kind, f.files, f.message])).toEqual([
      [
        'manifest_mismatch',
        [`tables/clickstream/dt=2026-12-01/${A.path}`],
        expect.stringMatching(/rows 99, listed 100; sha256 f+, listed 0+$/),
      ],
      [
        'manifest_mismatch',
        [`tables/clickstream/dt=2026-12-01/${B.path}`],
        expect.stringMatching(/a listed file is missing$/),
      ],
    ]);
  });

  it('reports a file newer than the manifest as pending, not a failure; an older one not listed fails', () => {
    const late = entry(0, 500, 501, 2);
    const verdict = judge([asPresent(A), asPresent(B), asPresent(late, SEALED_MS + 1_000)], asMeasured(A, B));
    expect(verdict).toMatchObject({ mismatches: 0, pending: 1 });
    expect(verdict.findings[0]).toMatchObject({ kind: 'manifest_pending' });
    expect(isFailure(verdict.findings[0]!)).toBe(false);
    const planted = judge(
      [asPresent(A), asPresent(B), asPresent(late, SEALED_MS - MANIFEST_SLACK_MS - 1)],
      asMeasured(A, B),
    );
    expect(planted).toMatchObject({ mismatches: 1, pending: 0 });
    expect(planted.findings[0]!.message).toMatch(/older than the manifest is not listed/);
  });

  it('takes a listed file merged away after the seal as pending while the merged file holds its range', () => {
    const merged = entry(0, 0, 501, 102);
    const verdict = judge([asPresent(merged, SEALED_MS + 5_000), asPresent(B)], asMeasured(B));
    expect(verdict).toMatchObject({ mismatches: 0, pending: 1 });
    // A file of another partition holds nothing of p0.
    const other = entry(2, 0, 999, 5);
    expect(judge([asPresent(other, SEALED_MS + 5_000), asPresent(B)], asMeasured(B)).mismatches).toBe(1);
  });
});
