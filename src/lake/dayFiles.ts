/**
 * The committed Parquet files of one table's day as the sealer and `verify`'s manifest check see them: dt-relative
 * paths (`<unit>/<name>`, or `<name>` in the dt directory before units; architecture.md "Units"), hidden tmp files
 * left out, with size and change time. A file renamed away while listing is skipped.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dirEntries } from './dirEntries.js';

export interface DayFile {
  /** Relative to the dt directory. */
  path: string;
  bytes: number;
  changedMs: number;
}

export async function listDayFiles(dtDir: string): Promise<DayFile[]> {
  const out: DayFile[] = [];
  const add = async (rel: string): Promise<void> => {
    const stat = await fs.lstat(path.join(dtDir, rel)).catch(() => undefined); // renamed meanwhile
    if (stat?.isFile()) out.push({ path: rel, bytes: stat.size, changedMs: stat.ctimeMs });
  };
  for (const entry of await dirEntries(dtDir)) {
    if (entry.isFile() && entry.name.endsWith('.parquet') && !entry.name.startsWith('.')) await add(entry.name);
    else if (entry.isDirectory())
      for (const inner of await dirEntries(path.join(dtDir, entry.name)))
        if (inner.isFile() && inner.name.endsWith('.parquet')) await add(`${entry.name}/${inner.name}`);
  }
  return out;
}
