/** A lake directory's entries, for the listings that walk one table's dt directories without opening a file. */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';

/** Entries of `dir`; none when it does not exist (a table nothing was written to yet, a dt deleted meanwhile). */
export async function dirEntries(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
