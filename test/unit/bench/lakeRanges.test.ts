import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkRangeTiling,
  coverProblems,
  lakeFileRanges,
  type OffsetRange,
  tilingProblems,
} from '../../../bench/lakeRanges.js';

const r = (first: number, last: number): OffsetRange => ({ first: BigInt(first), last: BigInt(last) });
const pad = (n: number): string => String(n).padStart(20, '0');

describe('tilingProblems', () => {
  it('accepts ranges that tile [0, end) and names gaps, overlaps and a wrong end', () => {
    expect(tilingProblems([r(0, 9), r(10, 19)], 20n)).toEqual([]);
    expect(tilingProblems([r(0, 9), r(12, 19)], 20n)).toEqual(['gap: offsets 10..11 in no file']);
    expect(tilingProblems([r(0, 9), r(5, 19)], 20n)).toEqual(['overlap: range 5-19 starts before 10']);
    expect(tilingProblems([r(0, 9)], 20n)).toEqual(['files cover up to 10, the partition ends at 20']);
    expect(tilingProblems([], 0n)).toEqual([]);
  });
});

describe('coverProblems', () => {
  // Transactions of 3 records, each followed by its commit marker; offsets 8..10 belong to an aborted transaction.
  const committed = [r(0, 2), r(4, 6), r(12, 14)];

  it('accepts ranges that hold every committed record and start and end on one, markers between them', () => {
    expect(coverProblems([r(0, 2), r(4, 14)], committed)).toEqual([]);
    expect(coverProblems([r(0, 6), r(12, 14)], committed)).toEqual([]);
    expect(coverProblems([r(0, 14)], committed)).toEqual([]);
  });

  it('names committed records in no file', () => {
    expect(coverProblems([r(0, 2), r(12, 14)], committed)).toEqual(['gap: committed offsets 4..6 in no file']);
    expect(coverProblems([r(0, 2), r(5, 14)], committed)).toEqual(['gap: committed offsets 4..4 in no file']);
    expect(coverProblems([r(0, 6)], committed)).toEqual(['gap: committed offsets 12..14 in no file']);
    expect(coverProblems([], [r(0, 1)])).toEqual(['gap: committed offsets 0..1 in no file']);
  });

  it('names overlaps and ranges reaching into markers or aborted records', () => {
    expect(coverProblems([r(0, 5), r(4, 14)], committed)).toEqual(['overlap: range 4-14 starts before 6']);
    expect(coverProblems([r(0, 3), r(4, 14)], committed)).toEqual(['range 0-3 ends on no committed record']);
    expect(coverProblems([r(0, 6), r(8, 14)], committed)).toEqual(['range 8-14 starts on no committed record']);
  });

  it('lists at most `limit` problems, then how many more', () => {
    const many = Array.from({ length: 30 }, (_, i) => r(i * 10, i * 10));
    const problems = coverProblems([], many, 5);
    expect(problems).toHaveLength(6);
    expect(problems[5]).toBe('… and 25 more');
  });
});

describe('lakeFileRanges and checkRangeTiling', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const touch = (path: string): void => {
    mkdirSync(dirname(join(root!, path)), { recursive: true });
    writeFileSync(join(root!, path), '');
  };

  it('reads each distinct range once from the raw table and the topic’s _rejected, and lists tmp files apart', () => {
    root = mkdtempSync(join(tmpdir(), 'lake-ranges-'));
    // One roll over two dates and its rejected records: one range.
    touch(`tables/clickstream/dt=2026-12-04/part-0-${pad(0)}-${pad(9)}.parquet`);
    touch(`tables/clickstream/dt=2026-12-05/part-0-${pad(0)}-${pad(9)}.parquet`);
    touch(`tables/_rejected/dt=2026-12-05/part-clicks-0-${pad(0)}-${pad(9)}.parquet`);
    touch(`tables/_rejected/dt=2026-12-05/part-clicks-0-${pad(10)}-${pad(12)}.parquet`);
    touch(`tables/_rejected/dt=2026-12-05/part-readings-0-${pad(0)}-${pad(50)}.parquet`);
    touch(`tables/clickstream/dt=2026-12-05/part-1-${pad(0)}-${pad(4)}.parquet`);
    touch(`tables/clickstream/dt=2026-12-05/part-1-${pad(5)}-${pad(8)}.parquet.abc123.tmp`);
    touch(`tables/_rejected/dt=2026-12-05/part-readings-1-${pad(0)}-${pad(1)}.parquet.abc123.tmp`);
    touch('tables/clickstream/dt=2026-12-05/stray.txt');
    // A sealed day's manifest and a manifest tmp file: an index of the files, no bad name.
    touch('tables/clickstream/dt=2026-12-04/_manifest.json');
    touch('tables/_rejected/dt=2026-12-04/._manifest.json.42-1.writing');
    touch(`tables/iot/dt=2026-12-05/part-0-${pad(0)}-${pad(99)}.parquet`);
    const lake = lakeFileRanges(root, 'clickstream', 'clicks');
    expect(lake.ranges).toEqual(
      new Map([
        [0, [r(0, 9), r(10, 12)]],
        [1, [r(0, 4)]],
      ]),
    );
    expect(lake.badNames).toEqual(['clickstream/dt=2026-12-05/stray.txt']);
    expect(lake.tmpFiles).toEqual([`tables/clickstream/dt=2026-12-05/part-1-${pad(5)}-${pad(8)}.parquet.abc123.tmp`]);

    const tiling = checkRangeTiling(
      root,
      'clickstream',
      'clicks',
      new Map([
        [0, 13n],
        [1, 9n],
      ]),
    );
    expect(tiling.ranges).toBe(3);
    expect(tiling.problems).toEqual([{ partition: 1, problem: 'files cover up to 5, the partition ends at 9' }]);
    expect(tiling.badNames).toEqual([
      'clickstream/dt=2026-12-05/stray.txt',
      `clickstream/dt=2026-12-05/part-1-${pad(5)}-${pad(8)}.parquet.abc123.tmp`,
    ]);
  });

  it("joins a dt's merged range with the same rolls' ranges in another dt, and names ranges that intersect in one dt", () => {
    root = mkdtempSync(join(tmpdir(), 'lake-ranges-'));
    // Rolls 0-9 and 10-19 wrote both days; the owner merged its unit of 2026-12-05 into 0-19.
    touch(`tables/clickstream/dt=2026-12-04/p0/part-0-${pad(0)}-${pad(9)}.parquet`);
    touch(`tables/clickstream/dt=2026-12-04/p0/part-0-${pad(10)}-${pad(19)}.parquet`);
    touch(`tables/clickstream/dt=2026-12-05/p0/part-0-${pad(0)}-${pad(19)}.parquet`);
    touch(`tables/clickstream/dt=2026-12-05/p0/part-0-${pad(20)}-${pad(29)}.parquet`);
    const ends = new Map([[0, 30n]]);
    expect(lakeFileRanges(root, 'clickstream', 'clicks').ranges).toEqual(new Map([[0, [r(0, 19), r(20, 29)]]]));
    expect(checkRangeTiling(root, 'clickstream', 'clicks', ends).problems).toEqual([]);
    // Within one dt's directory two files that intersect hold records twice.
    touch(`tables/clickstream/dt=2026-12-05/p0/part-0-${pad(15)}-${pad(24)}.parquet`);
    expect(checkRangeTiling(root, 'clickstream', 'clicks', ends).problems).toEqual([
      { partition: 0, problem: 'overlap in clickstream/dt=2026-12-05: range 15-24 starts before 20' },
      { partition: 0, problem: 'overlap in clickstream/dt=2026-12-05: range 20-29 starts before 25' },
    ]);
  });
});
