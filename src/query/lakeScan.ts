import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { tableDir } from '../lake/layout.js';
import { TABLE_NAMES, type TableName } from '../lake/tables.js';

/**
 * What a reader can see of the lake: the final Parquet files of each table (architecture.md,
 * "The checkpoint protocol": `*.parquet.tmp` files are not committed yet and never read).
 */
export interface TableFiles {
  table: TableName;
  /** Absolute paths of `tables/<table>/dt=*\/*.parquet`, sorted. */
  files: string[];
  bytes: number;
}

export interface LakeScan {
  /** Absolute lake root (`storage.datalake_root`). */
  root: string;
  tables: TableFiles[];
}

/** Directory entries, or none when the directory does not exist (a table never written). */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return [];
    throw err;
  }
}

/** Lists every committed Parquet file of every table. Cost: one readdir per dt directory. */
export function scanLake(lakeRoot: string): LakeScan {
  const root = path.resolve(lakeRoot);
  const tables = TABLE_NAMES.map((table): TableFiles => {
    const dir = tableDir(root, table);
    const files: string[] = [];
    let bytes = 0;
    for (const dtDir of entries(dir)
      .filter((name) => name.startsWith('dt='))
      .sort()) {
      for (const name of entries(path.join(dir, dtDir)).sort()) {
        if (!name.endsWith('.parquet')) continue;
        const file = path.join(dir, dtDir, name);
        try {
          bytes += statSync(file).size;
          files.push(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    return { table, files, bytes };
  });
  return { root, tables };
}
