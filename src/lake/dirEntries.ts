/** A lake directory's entries, for the listings that walk one table's dt directories without opening a file. */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TABLES_DIR } from './layout.js';
import type { TableName } from './tables.js';

/** Entries of `dir`; none when it does not exist (a table nothing was written to yet, a dt deleted meanwhile). */
export async function dirEntries(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export interface DtFiles {
  /** `dt=YYYY-MM-DD`. */
  dtDir: string;
  /** Lake-relative, `/`-separated: the dt directory's own files (tmp files, a lake from before units) and its units'. */
  files: string[];
}

const DT_DIR = /^dt=\d{4}-\d{2}-\d{2}$/;

/**
 * The files of one table per dt directory, one level of units deep (layout.ts): one readdir per dt directory and per
 * unit `wantUnit` accepts (all when not given), no file opened or stat'ed.
 */
export async function listDtFiles(
  lakeRoot: string,
  table: TableName,
  wantUnit: (unit: string) => boolean = () => true,
): Promise<DtFiles[]> {
  const tableDir = `${TABLES_DIR}/${table}`;
  const out: DtFiles[] = [];
  for (const dtDir of await dirEntries(path.join(lakeRoot, tableDir))) {
    if (!dtDir.isDirectory() || !DT_DIR.test(dtDir.name)) continue;
    const dir = `${tableDir}/${dtDir.name}`;
    const files: string[] = [];
    for (const entry of await dirEntries(path.join(lakeRoot, dir))) {
      if (entry.isFile()) files.push(`${dir}/${entry.name}`);
      else if (entry.isDirectory() && wantUnit(entry.name)) {
        for (const inner of await dirEntries(path.join(lakeRoot, dir, entry.name)))
          if (inner.isFile()) files.push(`${dir}/${entry.name}/${inner.name}`);
      }
    }
    out.push({ dtDir: dtDir.name, files });
  }
  return out;
}
