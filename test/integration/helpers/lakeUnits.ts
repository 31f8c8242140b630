import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Lake files in either layout (test helper, not a test file): final files directly in `tables/<t>/dt=D/`, as written
 * before units, or in their writer's unit `tables/<t>/dt=D/<unit>/` (architecture.md, "Who rewrites a partition's
 * files"), so tests that plant faults in a lake work on both.
 */

export interface LakeFile {
  table: string;
  /** `dt=YYYY-MM-DD`. */
  dt: string;
  /** Null when the file lies directly in its dt directory. */
  unit: string | null;
  name: string;
  /** Absolute. */
  path: string;
}

/** Every file of `table` (a tmp file too), in dt directories and their units. */
export function lakeFiles(root: string, table: string): LakeFile[] {
  const tableDir = join(root, 'tables', table);
  const out: LakeFile[] = [];
  for (const dt of readdirSync(tableDir).sort()) {
    for (const entry of readdirSync(join(tableDir, dt), { withFileTypes: true })) {
      if (entry.isFile()) out.push({ table, dt, unit: null, name: entry.name, path: join(tableDir, dt, entry.name) });
      else if (entry.isDirectory())
        for (const name of readdirSync(join(tableDir, dt, entry.name)).sort())
          out.push({ table, dt, unit: entry.name, name, path: join(tableDir, dt, entry.name, name) });
    }
  }
  return out;
}

/** The unit a final file's name belongs to, as layout.ts names units; undefined for any other name. */
export function unitOfFile(table: string, name: string): string | undefined {
  let m: RegExpExecArray | null;
  if (table === 'clickstream' || table === 'iot') {
    m = /^part-(\d+)-\d{20}-\d{20}\.parquet$/.exec(name);
    return m ? `p${m[1]}` : undefined;
  }
  if (table === '_rejected') {
    m = /^part-(.+)-(\d+)-\d{20}-\d{20}\.parquet$/.exec(name);
    return m ? `p${m[2]}-${m[1]}` : undefined;
  }
  if (table === 'clickstream_agg') {
    if (/^part-\d{20}\.parquet$/.test(name)) return 'agg';
    m = /^part-(\d+)-\d{20}-\d{20}\.parquet$/.exec(name);
    return m ? `r${m[1]}` : undefined;
  }
  return undefined;
}

/** Moves every final file lying directly in a dt directory into its unit (what the start's migration does). */
export function moveIntoUnits(root: string): number {
  let moved = 0;
  for (const table of readdirSync(join(root, 'tables')))
    for (const file of lakeFiles(root, table)) {
      const unit = file.unit === null ? unitOfFile(table, file.name) : undefined;
      if (unit === undefined) continue;
      mkdirSync(join(root, 'tables', table, file.dt, unit), { recursive: true });
      renameSync(file.path, join(root, 'tables', table, file.dt, unit, file.name));
      moved += 1;
    }
  return moved;
}
