/**
 * Reading the lake back in actor tests (test helper, not a test file): file listings relative to
 * the lake root, and rows through DuckDB, the independent reader.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { TABLES, type TableName } from '../../../../src/lake/tables.js';
import { openReader, sqlPath, type Reader } from '../../lake/duckdb.js';

export { openReader, type Reader };

/** Every file below `root`, relative to it, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else found.push(relative(root, full));
    }
  }
  await walk(root);
  return found.sort();
}

const quote = (name: string): string => `"${name}"`;

/** The rows of one Parquet file in file order; timestamps as epoch ms, BIGINT as numbers. */
export async function readRows(reader: Reader, file: string, table: TableName): Promise<Record<string, unknown>[]> {
  const specs = TABLES[table];
  const select = specs
    .map((c) => (c.type === 'TIMESTAMP_MILLIS' ? `epoch_ms(${quote(c.name)}) AS ${quote(c.name)}` : quote(c.name)))
    .join(', ');
  const rows = await reader.rows(
    `SELECT ${select} FROM read_parquet(${sqlPath(file)}, file_row_number = true) ORDER BY file_row_number`,
  );
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of specs) {
      const v = row[c.name];
      out[c.name] = (c.type === 'TIMESTAMP_MILLIS' || c.type === 'INT64') && typeof v === 'string' ? Number(v) : v;
    }
    return out;
  });
}

/** Column name → DuckDB type of one file. */
export async function columnTypes(reader: Reader, file: string): Promise<Record<string, string>> {
  const rows = await reader.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(file)})`);
  return Object.fromEntries(rows.map((r) => [r.column_name as string, r.column_type as string]));
}
