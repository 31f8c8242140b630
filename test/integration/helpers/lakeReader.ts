import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';

/**
 * DuckDB as the independent reader of the lake (any engine must be able to read it), plus plain
 * file listings. One in-memory instance per reader.
 */
export interface LakeReader {
  rows(sql: string): Promise<Record<string, Json>[]>;
  /** One number from a one-row, one-column query (BIGINT comes back as text). */
  scalar(sql: string): Promise<number>;
  /** `read_parquet(<root>/tables/<table>/**\/*.parquet, hive_partitioning=true)`, as SQL. */
  table(table: string, options?: { filename?: boolean }): string;
  close(): void;
}

export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

export async function openLake(lakeRoot: string): Promise<LakeReader> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  const rows = async (sql: string): Promise<Record<string, Json>[]> => {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, Json>[];
  };
  return {
    rows,
    async scalar(sql) {
      const [row] = await rows(sql);
      const value = row ? Object.values(row)[0] : undefined;
      if (value === undefined || value === null) throw new Error(`no value from: ${sql}`);
      return Number(value);
    },
    table(table, options = {}) {
      const glob = join(lakeRoot, 'tables', table, '**', '*.parquet');
      return `read_parquet(${sqlString(glob)}, hive_partitioning=true${options.filename ? ', filename=true' : ''})`;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

export interface LakeFile {
  /** Relative to the lake root. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
  ino: number;
}

/** Every file under `dir`, recursively (empty if it does not exist). */
export function listFiles(dir: string): LakeFile[] {
  const out: LakeFile[] = [];
  const walk = (d: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else {
        try {
          const s = statSync(full);
          out.push({ path: relative(dir, full), sizeBytes: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
        } catch (err) {
          // renamed or deleted between readdir and stat: a tmp file in flight
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Final (non-tmp) Parquet files under `<root>/tables/<table>`, relative to that table directory. */
export function parquetFiles(lakeRoot: string, table: string): LakeFile[] {
  return listFiles(join(lakeRoot, 'tables', table)).filter((f) => f.path.endsWith('.parquet'));
}

export function tmpFiles(dir: string): LakeFile[] {
  return listFiles(dir).filter((f) => f.path.endsWith('.tmp'));
}
