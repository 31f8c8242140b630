import { describe, expect, it } from 'vitest';
import { formatFinding } from '../../../src/verify/findings.js';
import { emptyCounts, summaryLine, verifyPassed } from '../../../src/verify/summary.js';

describe('summary line', () => {
  it('is exactly the documented line, with the real numbers', () => {
    expect(summaryLine({ ...emptyCounts(), files: 12, rows: 5003, windows: 40, unverifiable_ranges: 2 })).toBe(
      'verify: files=12 rows=5003 gaps=0 overlaps=0 count_mismatches=0 windows=40 window_mismatches=0 unverifiable_ranges=2 expired_ranges=0 sealed_manifests=0 manifest_mismatches=0 manifest_pending=0',
    );
    expect(summaryLine({ ...emptyCounts(), gaps: 1, overlaps: 2, count_mismatches: 3, window_mismatches: 4 })).toBe(
      'verify: files=0 rows=0 gaps=1 overlaps=2 count_mismatches=3 windows=0 window_mismatches=4 unverifiable_ranges=0 expired_ranges=0 sealed_manifests=0 manifest_mismatches=0 manifest_pending=0',
    );
  });

  it('appends expired_ranges after every earlier field', () => {
    expect(summaryLine({ ...emptyCounts(), expired_ranges: 3 })).toMatch(/ unverifiable_ranges=0 expired_ranges=3 /);
  });

  it("appends the sealed days' counts after expired_ranges", () => {
    expect(summaryLine({ ...emptyCounts(), sealed_manifests: 4, manifest_mismatches: 1, manifest_pending: 2 })).toMatch(
      / expired_ranges=0 sealed_manifests=4 manifest_mismatches=1 manifest_pending=2$/,
    );
  });

  it('passes with notes only, fails with any other finding', () => {
    expect(verifyPassed([])).toBe(true);
    expect(verifyPassed([{ kind: 'note', message: 'x' }])).toBe(true);
    expect(verifyPassed([{ kind: 'expired', message: 'deleted by retention' }])).toBe(true);
    expect(verifyPassed([{ kind: 'manifest_pending', message: 'a late file' }])).toBe(true);
    expect(verifyPassed([{ kind: 'manifest_mismatch', message: 'a listed file is missing' }])).toBe(false);
    expect(
      verifyPassed([
        { kind: 'note', message: 'x' },
        { kind: 'tmp_left_behind', message: 'y' },
      ]),
    ).toBe(false);
  });
});

describe('finding lines', () => {
  it('name the kind, table, topic[partition], offsets and files', () => {
    expect(
      formatFinding({
        kind: 'gap',
        table: 'clickstream',
        topic: 'cs',
        partition: 2,
        first: '10',
        last: '19',
        files: ['tables/clickstream/dt=2024-05-01/part-2-a-b.parquet'],
        message: '3 committed records in no file',
      }),
    ).toBe(
      'gap clickstream cs[2] offsets 10..19: 3 committed records in no file (tables/clickstream/dt=2024-05-01/part-2-a-b.parquet)',
    );
    expect(formatFinding({ kind: 'note', message: 'only words' })).toBe('note: only words');
  });
});
