/**
 * Moves a lake from before units into them (lake/layout.ts; architecture.md, "Who rewrites a partition's files"):
 * a committed file directly in its dt directory goes into its writer's unit, found from its name. Idempotent and safe
 * for several members starting at once (a file another one moved is simply gone). A reader that lists the lake while
 * a file moves can see it twice or not at all, once, on the first start of this version; README says so.
 */
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { AGG_NAME_PATTERN } from './aggFileName.js';
import { completeRename } from './durableFs.js';
import { listDtFiles } from './dirEntries.js';
import { AGG_UNIT, aggTaskUnit, rawUnit, rejectedUnit } from './layout.js';
import { TABLE_NAMES, type TableName } from './tables.js';

const RAW = /^part-(\d+)-\d{20}-\d{20}\.parquet$/;
const REJECTED = /^part-(.+)-(\d+)-\d{20}-\d{20}\.parquet$/;
const AGG = new RegExp(`^${AGG_NAME_PATTERN}$`);

/** The unit a committed file of `table` named `name` belongs in; undefined for a name no writer gives. */
export function unitOfFile(table: TableName, name: string): string | undefined {
  if (table === 'clickstream' || table === 'iot') {
    const m = RAW.exec(name);
    return m ? rawUnit(Number(m[1])) : undefined;
  }
  if (table === '_rejected') {
    const m = REJECTED.exec(name);
    return m ? rejectedUnit(m[1]!, Number(m[2])) : undefined;
  }
  if (AGG.test(name)) return AGG_UNIT;
  const m = RAW.exec(name);
  return m ? aggTaskUnit(Number(m[1])) : undefined;
}

const FLAT = /^(tables\/([^/]+)\/dt=\d{4}-\d{2}-\d{2})\/([^/]+\.parquet)$/;

/**
 * A lake-relative final path in its unit: a path written before units (`tables/<t>/dt=D/<name>`) mapped into it,
 * any other path as it is. A rename the checkpoint store kept from before units lands in the unit through it.
 */
export function inUnitPath(relPath: string): string {
  const m = FLAT.exec(relPath.split('\\').join('/'));
  if (!m || !(TABLE_NAMES as readonly string[]).includes(m[2]!)) return relPath;
  const unit = unitOfFile(m[2] as TableName, m[3]!);
  return unit === undefined ? relPath : `${m[1]}/${unit}/${m[3]}`;
}

/** Moves every committed file still directly in a dt directory into its unit. Returns how many it moved. */
export async function migrateToUnits(lakeRoot: string, logger?: Logger): Promise<number> {
  let moved = 0;
  for (const table of TABLE_NAMES) {
    for (const { files } of await listDtFiles(lakeRoot, table, () => false)) {
      for (const file of files) {
        const target = inUnitPath(file);
        if (target === file) continue; // a tmp file, or a name no writer gives: left where it is
        if ((await completeRename(path.join(lakeRoot, file), path.join(lakeRoot, target))) === 'renamed') moved += 1;
      }
    }
  }
  if (moved > 0) logger?.info({ component: 'lake', files_moved: moved }, 'lake files moved into their units');
  return moved;
}
