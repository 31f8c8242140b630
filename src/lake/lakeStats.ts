/**
 * Final Parquet files and their bytes per table, counted on disk (`*.tmp` files are not final and
 * not counted). The dashboard reads it every few seconds; a walk of a few thousand files is cheap.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listDtFiles } from './dirEntries.js';
import { TABLE_NAMES, type TableName } from './tables.js';

export interface TableFiles {
  table: TableName;
  files: number;
  bytes: number;
}

export async function lakeTableFiles(lakeRoot: string): Promise<TableFiles[]> {
  return Promise.all(
    TABLE_NAMES.map(async (table) => {
      let files = 0;
      let bytes = 0;
      // In units (lake/layout.ts) or, in a lake from before units, in the dt directory.
      // A lake it cannot list shows as empty on the dashboard, as before it exists.
      for (const dt of await listDtFiles(lakeRoot, table).catch(() => [])) {
        for (const file of dt.files) {
          if (!file.endsWith('.parquet')) continue;
          const s = await stat(join(lakeRoot, file)).catch(() => undefined); // renamed or compacted meanwhile
          if (!s?.isFile()) continue;
          files += 1;
          bytes += s.size;
        }
      }
      return { table, files, bytes };
    }),
  );
}
