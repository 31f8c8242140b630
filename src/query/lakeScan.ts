import path from 'node:path';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { TABLES_DIR } from '../lake/layout.js';
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

/** Lists every committed Parquet file of every table (lake/lakeFiles.ts): in a unit, or directly in a dt directory. */
export function scanLake(lakeRoot: string): LakeScan {
  const root = path.resolve(lakeRoot);
  const files = listLakeFiles(root);
  const tables = TABLE_NAMES.map((table): TableFiles => {
    const committed = new RegExp(`^${TABLES_DIR}/${table}/dt=[^/]+/(?:[^/]+/)?[^/]+\\.parquet$`);
    const mine = files.filter((f) => committed.test(f.path));
    return {
      table,
      files: mine.map((f) => path.join(root, f.path)),
      bytes: mine.reduce((n, f) => n + f.sizeBytes, 0),
    };
  });
  return { root, tables };
}
