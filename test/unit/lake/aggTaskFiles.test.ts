import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listAggTaskFiles, parseAggTaskFileName } from '../../../src/lake/aggTaskFiles.js';
import { aggFilePath, aggTaskFileName, aggTaskFilePath, tmpPathFor } from '../../../src/lake/layout.js';

const pad = (n: number): string => String(n).padStart(20, '0');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('stage-2 task file names', () => {
  it('are named by the task and the input offsets of their commit, in clickstream_agg', () => {
    expect(aggTaskFileName(3, 5n, '9')).toBe(`part-3-${pad(5)}-${pad(9)}.parquet`);
    expect(aggTaskFilePath('/lake', '2026-12-05', 3, 5, 9)).toBe(
      `/lake/tables/clickstream_agg/dt=2026-12-05/r3/part-3-${pad(5)}-${pad(9)}.parquet`,
    );
    expect(() => aggTaskFileName(3, 9, 5)).toThrow(RangeError);
  });

  it('parse back, final or tmp, and only for their own task', () => {
    const final = aggTaskFilePath('', '2026-12-05', 12, 5, 9);
    expect(parseAggTaskFileName(final)).toEqual({
      path: final,
      dt: '2026-12-05',
      partition: 12,
      first: '5',
      last: '9',
      tmp: false,
      writer: null,
      final,
    });
    const tmp = tmpPathFor(final, 'c0ffee');
    expect(parseAggTaskFileName(tmp, 12)).toMatchObject({ tmp: true, writer: 'c0ffee', final, partition: 12 });
    expect(parseAggTaskFileName(tmp, 1)).toBeUndefined();
    expect(parseAggTaskFileName(tmp, 2)).toBeUndefined();
    for (const other of [
      aggFilePath('', '2026-12-05', 7), // the window aggregator's
      tmpPathFor(aggFilePath('', '2026-12-05', 7), 'ab'),
      `tables/clickstream/dt=2026-12-05/part-12-${pad(5)}-${pad(9)}.parquet`, // a raw file
      `${final}.tmp`, // a tmp without a writer: no stage-2 task writes one
      `tables/clickstream_agg/dt=2026-12-05/part-012-${pad(5)}-${pad(9)}.parquet`,
      `tables/clickstream_agg/dt=2026-12-05/part-1-${pad(9)}-${pad(5)}.parquet`,
    ])
      expect(parseAggTaskFileName(other), other).toBeUndefined();
  });

  it('are listed per task from the directory names alone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sdp-agg-files-'));
    dirs.push(root);
    const files = [
      aggTaskFilePath('', '2026-12-04', 1, 0, 4),
      tmpPathFor(aggTaskFilePath('', '2026-12-05', 1, 5, 9), 'aa'),
      tmpPathFor(aggTaskFilePath('', '2026-12-05', 1, 5, 9), 'bb'),
      aggTaskFilePath('', '2026-12-05', 0, 0, 4), // task 0
      tmpPathFor(aggFilePath('', '2026-12-05', 3), 'aa'), // the aggregator's
    ];
    for (const f of files) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    expect(await listAggTaskFiles(root, 1)).toEqual({ tmpFiles: [files[1], files[2]], finalFiles: [files[0]] });
    expect(await listAggTaskFiles(join(root, 'missing'), 1)).toEqual({ tmpFiles: [], finalFiles: [] });
  });
});
