import path from 'node:path';
import { TABLES_DIR } from '../lake/layout.js';
import type { TableName } from '../lake/tables.js';
import type { LakeScan } from './lakeScan.js';

/**
 * The SQL views `query` puts over the lake: one per table that has committed files, none for a
 * table without (read_parquet fails on a pattern that matches nothing, and one missing table must
 * not break the others). Pure: the scan in, statements and the list of empty tables out.
 */
export interface LakeViewPlan {
  /** `CREATE VIEW` statements, one per table with files, in table order. */
  statements: string[];
  present: TableName[];
  empty: TableName[];
}

/** A single-quoted SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A double-quoted SQL identifier (`_rejected` needs no quotes, but names are data here). */
export function sqlIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * The file argument of read_parquet: a `**` pattern under the table (new files show up without a
 * rescan), or the explicit list when the root itself contains glob characters DuckDB would expand.
 */
export function parquetSource(root: string, table: TableName, files: readonly string[]): string {
  // `**` also matches no directory: a lake from before units (lake/layout.ts) reads the same.
  if (!GLOB_CHARACTERS.test(root)) return sqlString(path.join(root, TABLES_DIR, table, 'dt=*', '**', '*.parquet'));
  return `[${files.map(sqlString).join(', ')}]`;
}

export function planLakeViews(scan: LakeScan): LakeViewPlan {
  const statements: string[] = [];
  const present: TableName[] = [];
  const empty: TableName[] = [];
  for (const { table, files } of scan.tables) {
    if (files.length === 0) {
      empty.push(table);
      continue;
    }
    present.push(table);
    // dt is the Hive partition column; typed explicitly so that it is a DATE whatever the values.
    statements.push(
      `CREATE VIEW ${sqlIdentifier(table)} AS SELECT * FROM read_parquet(${parquetSource(scan.root, table, files)}, hive_partitioning = true, hive_types = {'dt': DATE})`,
    );
  }
  return { statements, present, empty };
}

/** The stderr note for tables without data, or undefined when every table has some. */
export function describeEmptyTables(plan: LakeViewPlan, root: string): string | undefined {
  if (plan.empty.length === 0) return undefined;
  if (plan.present.length === 0) {
    return `the lake at ${root} is empty: no Parquet files under ${TABLES_DIR}/{${plan.empty.join(',')}} (run \`etl\` to fill it)`;
  }
  return `no data yet in ${plan.empty.join(', ')} (no Parquet files under ${root}/${TABLES_DIR}/); views: ${plan.present.join(', ')}`;
}
