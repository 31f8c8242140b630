import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanLake } from '../../../src/query/lakeScan.js';

describe('scanLake', () => {
  const root = mkdtempSync(join(tmpdir(), 'sdp-lake-scan-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists committed Parquet files per table, in units or (before units) in dt=, never tmp files or files outside dt=', () => {
    const put = (rel: string, bytes: number) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), Buffer.alloc(bytes));
    };
    put('tables/clickstream/dt=2024-03-02/p0/part-0-1-2.parquet', 10); // in its unit
    put('tables/clickstream/dt=2024-03-02/.part-0-3-4.parquet.ab.tmp', 100);
    put('tables/clickstream/dt=2024-03-01/part-0-0-0.parquet', 5);
    put('tables/clickstream/dt=2024-03-01/part-1-0-0.parquet.tmp', 100);
    put('tables/clickstream/stray.parquet', 100);
    put('tables/iot/dt=2024-03-01/part-0-0-0.parquet.tmp', 100);
    const scan = scanLake(root);
    expect(scan.root).toBe(root);
    const byTable = Object.fromEntries(scan.tables.map((t) => [t.table, t]));
    expect(byTable.clickstream!.files).toEqual([
      join(root, 'tables/clickstream/dt=2024-03-01/part-0-0-0.parquet'),
      join(root, 'tables/clickstream/dt=2024-03-02/p0/part-0-1-2.parquet'),
    ]);
    expect(byTable.clickstream!.bytes).toBe(15);
    expect(byTable.iot!.files).toEqual([]);
    expect(byTable.clickstream_agg!.files).toEqual([]);
    expect(byTable._rejected!.files).toEqual([]);
  });

  it('finds nothing, without an error, when the lake root does not exist', () => {
    const scan = scanLake(join(root, 'missing'));
    expect(scan.tables.every((t) => t.files.length === 0)).toBe(true);
  });
});
