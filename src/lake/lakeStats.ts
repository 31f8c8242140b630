/**
 * Final Parquet files and their bytes per table, counted on disk (`*.tmp` files are not final and
 * not counted). The dashboard reads it every few seconds; a walk of a few thousand files is cheap.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tableDir } from './layout.js';
import { TABLE_NAMES, type TableName } from './tables.js';

export interface TableFiles {
  table: TableName;
  files: number;
  bytes: number;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function lakeTableFiles(lakeRoot: string): Promise<TableFiles[]> {
  return Promise.all(
    TABLE_NAMES.map(async (table) => {
      let files = 0;
      let bytes = 0;
      const dir = tableDir(lakeRoot, table);
      for (const dt of await entries(dir)) {
        if (!dt.startsWith('dt=')) continue;
        for (const name of await entries(join(dir, dt))) {
          const s = await stat(join(dir, dt, name)).catch(() => undefined);
          // A unit (lake/layout.ts), or a final file of a lake from before units.
          const inside = s?.isDirectory() ? (await entries(join(dir, dt, name))).map((n) => join(name, n)) : [name];
          for (const rel of inside) {
            if (!rel.endsWith('.parquet')) continue;
            const f = rel === name ? s : await stat(join(dir, dt, rel)).catch(() => undefined);
            if (!f?.isFile()) continue;
            files += 1;
            bytes += f.size;
          }
        }
      }
      return { table, files, bytes };
    }),
  );
}
