import { DuckDBInstance } from '@duckdb/node-api';
import { tableDir } from '../lake/layout.js';
import { TABLE_NAMES, type TableName } from '../lake/tables.js';
import { readWithStableUnits } from '../lake/unitVersions.js';
import { scanLake, type LakeScan } from './lakeScan.js';
import { planLakeViews, type LakeViewPlan } from './lakeViews.js';
import { classifyQueryError } from './queryError.js';
import type { JsonValue, QueryResult } from './queryResult.js';

export interface LakeQueryAnswer {
  scan: LakeScan;
  plan: LakeViewPlan;
  /** Tables with files whose view DuckDB could not create (a file that is not Parquet). */
  unreadable: Array<{ table: TableName; message: string }>;
  result: QueryResult;
}

/**
 * Runs `sql` (one or more statements; the last one's rows are returned) in a fresh in-memory
 * DuckDB with a view per lake table that has files. The lake is only read: the views are over
 * the committed Parquet files, and nothing of DuckDB's is written to disk.
 * @throws SdpError SDP_ERR_QUERY_INVALID, SDP_ERR_QUERY_NO_DATA or SDP_ERR_QUERY_FAILED (see queryError.ts).
 */
export async function queryLake(lakeRoot: string, sql: string): Promise<LakeQueryAnswer> {
  // A compaction swap during the query (architecture.md, "Compaction"): run it again on the new versions.
  const tableDirs = TABLE_NAMES.map((table) => tableDir(lakeRoot, table));
  return (await readWithStableUnits(tableDirs, () => queryOnce(lakeRoot, sql))).value;
}

async function queryOnce(lakeRoot: string, sql: string): Promise<LakeQueryAnswer> {
  const scan = scanLake(lakeRoot);
  const plan = planLakeViews(scan);
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      const unreadable: LakeQueryAnswer['unreadable'] = [];
      // Creating a view reads a file's schema: one broken table must not take the others down.
      for (const [i, statement] of plan.statements.entries()) {
        try {
          await connection.run(statement);
        } catch (err) {
          unreadable.push({ table: plan.present[i]!, message: err instanceof Error ? err.message : String(err) });
        }
      }
      let reader: Awaited<ReturnType<typeof connection.runAndReadAll>>;
      try {
        reader = await connection.runAndReadAll(sql);
      } catch (err) {
        throw classifyQueryError(err, { root: scan.root, empty: plan.empty, unreadable });
      }
      const names = reader.columnNames();
      const types = reader.columnTypes();
      const result: QueryResult = {
        columns: names.map((name, i) => ({ name, type: types[i]!.toString() })),
        rows: reader.getRowsJson() as JsonValue[][],
      };
      return { scan, plan, unreadable, result };
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
