/**
 * Lists the lake's files under `<root>/tables` without following symlinks: relative paths
 * (`tables/<table>/dt=…/<name>`), sizes and modification times. Used by `data stats` and by the
 * rebuild of durable offsets from the lake.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TABLES_DIR } from './layout.js';

export interface LakeEntry {
  /** Relative to the lake root, `/`-separated. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

export function listLakeFiles(lakeRoot: string): LakeEntry[] {
  const out: LakeEntry[] = [];
  const walk = (dir: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        try {
          const stat = lstatSync(full);
          out.push({
            path: relative(lakeRoot, full).split('\\').join('/'),
            sizeBytes: stat.size,
            mtimeMs: stat.mtimeMs,
          });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // renamed meanwhile
        }
      }
    }
  };
  walk(join(lakeRoot, TABLES_DIR));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
