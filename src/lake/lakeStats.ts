/**
 * Final Parquet files and their bytes per table, counted on disk (`*.tmp` files are not final and
 * not counted). The dashboard reads it every few seconds; a walk of a few thousand files is cheap. And the sealed
 * days' manifests, for `data stats`.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from './dayManifestFile.js';
import { dirEntries, listDtFiles } from './dirEntries.js';
import { TABLES_DIR } from './layout.js';
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

/** One table's manifest of one sealed day (architecture.md, "Sealed days"), as `data stats` shows it. */
export interface SealedDayStats {
  dt: string;
  table: TableName;
  rows: number;
  files: number;
  /** Rows that landed after the seal, over every revision. */
  late_rows: number;
  revision: number;
  sealed_at: string;
}

/** Every manifest of the lake, by dt then table; a manifest that cannot be read is skipped (verify names it). */
export async function sealedDays(lakeRoot: string): Promise<SealedDayStats[]> {
  const out: SealedDayStats[] = [];
  for (const table of TABLE_NAMES) {
    for (const dtDir of await dirEntries(join(lakeRoot, TABLES_DIR, table))) {
      const dt = /^dt=(\d{4}-\d{2}-\d{2})$/.exec(dtDir.name)?.[1];
      if (!dtDir.isDirectory() || dt === undefined) continue;
      const onDisk = await readManifest(lakeRoot, table, dt).catch(() => undefined);
      if (!onDisk) continue;
      const m = onDisk.manifest;
      out.push({
        dt,
        table,
        rows: m.rows,
        files: m.files,
        late_rows: m.late_rows,
        revision: m.revision,
        sealed_at: m.sealed_at,
      });
    }
  }
  return out.sort((a, b) => (a.dt === b.dt ? (a.table < b.table ? -1 : 1) : a.dt < b.dt ? -1 : 1));
}
