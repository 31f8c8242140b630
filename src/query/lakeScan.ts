import { type Dirent, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { tableDir } from '../lake/layout.js';
import { TABLE_NAMES, type TableName } from '../lake/tables.js';

/**
 * What a reader can see of the lake: the final Parquet files of each table (architecture.md,
 * "The checkpoint protocol": `*.parquet.tmp` files are not committed yet and never read).
 */
export interface TableFiles {
  table: TableName;
  /** Absolute paths of `tables/<table>/dt=*\/<unit>/*.parquet` (and `dt=*\/*.parquet` before units), sorted. */
  files: string[];
  bytes: number;
}

export interface LakeScan {
  /** Absolute lake root (`storage.datalake_root`). */
  root: string;
  tables: TableFiles[];
}

/** Directory entries, or none when the directory does not exist (a table never written). */
function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return [];
    throw err;
  }
}

/** Parquet files of a dt directory: its units' and, in a lake from before units, its own (lake/layout.ts). */
function dtParquetFiles(dtDir: string): string[] {
  const files: string[] = [];
  for (const entry of entries(dtDir)) {
    const full = path.join(dtDir, entry.name);
    if (entry.isDirectory()) {
      for (const inner of entries(full)) if (inner.name.endsWith('.parquet')) files.push(path.join(full, inner.name));
    } else if (entry.name.endsWith('.parquet')) files.push(full);
  }
  return files;
}

/** Lists every committed Parquet file of every table. Cost: one readdir per dt directory and per unit. */
export function scanLake(lakeRoot: string): LakeScan {
  const root = path.resolve(lakeRoot);
  const tables = TABLE_NAMES.map((table): TableFiles => {
    const dir = tableDir(root, table);
    const files: string[] = [];
    let bytes = 0;
    for (const dtDir of entries(dir).filter((e) => e.name.startsWith('dt='))) {
      for (const file of dtParquetFiles(path.join(dir, dtDir.name))) {
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
