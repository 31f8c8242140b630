import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lakeTableFiles } from '../../../src/lake/lakeStats.js';

describe('lakeTableFiles', () => {
  const root = mkdtempSync(join(tmpdir(), 'sdp-lake-stats-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('counts final files in units and, before units, in dt directories; never tmp files', async () => {
    const put = (rel: string, bytes: number): void => {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), Buffer.alloc(bytes));
    };
    put('tables/clickstream/dt=2026-12-01/p0/part-0-a.parquet', 10);
    put('tables/clickstream/dt=2026-12-01/p1/part-1-a.parquet', 20);
    put('tables/clickstream/dt=2026-12-02/part-0-b.parquet', 5); // before units
    put('tables/clickstream/dt=2026-12-02/.part-0-c.parquet.ab.tmp', 100);
    put('tables/iot/dt=2026-12-01/.part-0-a.parquet.ab.tmp', 100);
    const byTable = Object.fromEntries((await lakeTableFiles(root)).map((t) => [t.table, t]));
    expect(byTable.clickstream).toEqual({ table: 'clickstream', files: 3, bytes: 35 });
    expect(byTable.iot).toEqual({ table: 'iot', files: 0, bytes: 0 });
    expect(await lakeTableFiles(join(root, 'missing'))).toHaveLength(4);
  });
});
