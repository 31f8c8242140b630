import { describe, expect, it } from 'vitest';
import type { LakeScan } from '../../../src/query/lakeScan.js';
import {
  describeEmptyTables,
  parquetSource,
  planLakeViews,
  sqlIdentifier,
  sqlString,
} from '../../../src/query/lakeViews.js';

function scanOf(
  root: string,
  files: Partial<Record<'clickstream' | 'iot' | 'clickstream_agg' | '_rejected', string[]>>,
): LakeScan {
  const tables = (['clickstream', 'iot', 'clickstream_agg', '_rejected'] as const).map((table) => ({
    table,
    files: files[table] ?? [],
    bytes: 0,
  }));
  return { root, tables };
}

describe('planLakeViews', () => {
  it('creates a view only for tables that have files and lists the others as empty', () => {
    const plan = planLakeViews(
      scanOf('/lake', {
        clickstream: ['/lake/tables/clickstream/dt=2024-03-01/part-0-1-2.parquet'],
        _rejected: ['/lake/tables/_rejected/dt=2024-03-01/x.parquet'],
      }),
    );
    expect(plan.present).toEqual(['clickstream', '_rejected']);
    expect(plan.empty).toEqual(['iot', 'clickstream_agg']);
    expect(plan.statements).toEqual([
      `CREATE VIEW "clickstream" AS SELECT * FROM read_parquet('/lake/tables/clickstream/dt=*/**/*.parquet', hive_partitioning = true, hive_types = {'dt': DATE})`,
      `CREATE VIEW "_rejected" AS SELECT * FROM read_parquet('/lake/tables/_rejected/dt=*/**/*.parquet', hive_partitioning = true, hive_types = {'dt': DATE})`,
    ]);
  });

  it('plans nothing for an empty lake', () => {
    const plan = planLakeViews(scanOf('/lake', {}));
    expect(plan.statements).toEqual([]);
    expect(plan.present).toEqual([]);
    expect(plan.empty).toEqual(['clickstream', 'iot', 'clickstream_agg', '_rejected']);
  });

  it('quotes a root with quotes, and lists the files when the root has glob characters', () => {
    expect(parquetSource("/tmp/o'brien", 'iot', [])).toBe(`'/tmp/o''brien/tables/iot/dt=*/**/*.parquet'`);
    const files = ['/tmp/[x]/tables/iot/dt=2024-03-01/a.parquet', '/tmp/[x]/tables/iot/dt=2024-03-02/b.parquet'];
    expect(parquetSource('/tmp/[x]', 'iot', files)).toBe(
      `['/tmp/[x]/tables/iot/dt=2024-03-01/a.parquet', '/tmp/[x]/tables/iot/dt=2024-03-02/b.parquet']`,
    );
  });

  it('escapes literals and identifiers', () => {
    expect(sqlString("a'b")).toBe("'a''b'");
    expect(sqlIdentifier('a"b')).toBe('"a""b"');
  });
});

describe('describeEmptyTables', () => {
  it('says nothing when every table has data', () => {
    const plan = planLakeViews(
      scanOf('/lake', { clickstream: ['a'], iot: ['b'], clickstream_agg: ['c'], _rejected: ['d'] }),
    );
    expect(describeEmptyTables(plan, '/lake')).toBeUndefined();
  });

  it('names the empty tables and the views that exist', () => {
    const plan = planLakeViews(scanOf('/lake', { clickstream: ['a'], clickstream_agg: ['c'] }));
    expect(describeEmptyTables(plan, '/lake')).toBe(
      'no data yet in iot, _rejected (no Parquet files under /lake/tables/); views: clickstream, clickstream_agg',
    );
  });

  it('says when the whole lake is empty', () => {
    expect(describeEmptyTables(planLakeViews(scanOf('/lake', {})), '/lake')).toMatch(/^the lake at \/lake is empty/);
  });
});
