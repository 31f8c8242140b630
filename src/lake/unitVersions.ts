/**
 * Which version of every unit directory (`tables/<t>/dt=D/<unit>`) a reader is looking at, so that the project's own
 * readers can be exact where a plain glob reader cannot (architecture.md, "Who rewrites a partition's files").
 *
 * A glob reader resolves each path again when it opens (and, in DuckDB, when it stats) a file it listed: a compaction
 * swap between its listing and those lookups makes it fail ("No such file or directory") or, if the swap falls between
 * DuckDB's readdir of a unit and its stat of a replaced entry, silently skip that file's rows. A swap exchanges the
 * unit directory, so the directory's inode at the unit path changes with every swap and with nothing else (new files
 * are renamed into the same directory). A reader that takes these inodes before and after its query and runs the
 * query again when any changed sees every row exactly once, without errors.
 *
 * Sound as long as a query is shorter than `lake.vacuum_grace`: an inode can only be reused after the version that
 * held it is vacuumed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** Unit path (relative to the table directory, `dt=D/<unit>`) → inode of the directory there. */
export type UnitVersions = Map<string, bigint>;

const DT_DIR = /^dt=\d{4}-\d{2}-\d{2}$/;

/** The inode of every unit directory of one table: one readdir per dt directory and one lstat per unit. */
export async function readUnitVersions(tableDir: string): Promise<UnitVersions> {
  const versions: UnitVersions = new Map();
  for (const dt of await entries(tableDir)) {
    if (!dt.isDirectory() || !DT_DIR.test(dt.name)) continue;
    for (const unit of await entries(path.join(tableDir, dt.name))) {
      if (!unit.isDirectory()) continue;
      const rel = `${dt.name}/${unit.name}`;
      try {
        versions.set(rel, (await fs.lstat(path.join(tableDir, rel), { bigint: true })).ino);
      } catch (err) {
        // retention removed the dt meanwhile: the unit is simply not there
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return versions;
}

/**
 * Units whose version differs between two readings, or that vanished, sorted. A unit that appeared is not a change: a
 * partition's first file of a day only adds rows, as any new file does.
 */
export function changedUnits(before: UnitVersions, after: UnitVersions): string[] {
  const changed: string[] = [];
  for (const [unit, ino] of before) if (after.get(unit) !== ino) changed.push(unit);
  return changed.sort();
}

async function entries(dir: string) {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Runs `read` until no unit of `tableDirs` changed while it ran, at most `maxAttempts` times, and returns its result;
 * an error of a run during which nothing changed is the reader's own and is thrown. How `query`, `data stats` and the
 * dashboard get exactly-once answers while compaction swaps units. Returns the attempts it took too.
 * @throws the last run's error, or an Error naming the units when they changed on every attempt.
 */
export async function readWithStableUnits<T>(
  tableDirs: readonly string[],
  read: () => Promise<T>,
  maxAttempts = 5,
): Promise<{ value: T; attempts: number }> {
  const versionsOf = async () => Promise.all(tableDirs.map((dir) => readUnitVersions(dir)));
  let changed: string[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const before = await versionsOf();
    const outcome = await read().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const after = await versionsOf();
    changed = tableDirs.flatMap((dir, i) => changedUnits(before[i]!, after[i]!).map((unit) => path.join(dir, unit)));
    if (changed.length > 0) continue;
    if ('error' in outcome) throw outcome.error;
    return { value: outcome.value, attempts: attempt };
  }
  throw new Error(`lake units kept changing during ${maxAttempts} reads: ${changed.join(', ')}`);
}
