/**
 * Compaction's swap for readers: replaces some committed files of one partition in one dt by their merged file in one
 * step, so that no listing of the lake ever holds a row twice or lacks one (architecture.md, "Who rewrites a
 * partition's files").
 *
 * Why a directory per partition, exchanged whole:
 * - a directory listing is the reader's snapshot, and no single call adds one name and removes several in one
 *   directory: renaming the merged file in and then unlinking the replaced ones shows rows twice in between;
 * - a symlink swapped by rename(2) is atomic, but DuckDB's `**` glob does not follow symlinked directories (its rows
 *   vanish) and descends into hidden and `_` directories (a version directory beside it is read too), so the version
 *   a reader sees must be a real directory at a stable path, and the old one must leave the table's tree;
 * - renameat2 RENAME_EXCHANGE swaps two real directories in one step: the unit `tables/<t>/dt=D/<unit>` gets the new
 *   contents and the old ones land in `<lake>/_swap/...`, outside every glob of the table.
 * - `<unit>` is not `key=value` (DuckDB and pyarrow then add no Hive column) and not `.`/`_`-prefixed (pyarrow would
 *   skip it): `read_parquet('tables/t/**\/*.parquet', hive_partitioning = true)` keeps the same columns.
 *
 * What writers must do (the rule that makes it lock-free): a unit holds the files of one input partition only and is
 * changed only by that partition's owner, in the one sequence its commits already run in, so nothing is renamed into
 * a unit while its new version is being built. Tmp files are written outside units (in the dt directory) and named
 * with a leading `.`: an exchange would carry a tmp file inside a unit away with the old version, and pandas/pyarrow
 * read every file of a dt whose name does not start with `.` or `_`, `*.tmp` included.
 *
 * What it cannot give a plain glob reader: it resolves each listed path again to stat and to open it, so a query
 * that spans a swap can fail (DuckDB: "IO Error: Cannot open file ...: No such file or directory"; pyarrow:
 * FileNotFoundError) or, when the swap falls between DuckDB's readdir of the unit and its stat of a replaced entry,
 * miss that entry's rows without an error (DuckDB skips an entry whose stat fails). Never a row twice. Readers that
 * must be exact read the units' versions around the query (`unitVersions.ts`). The old version is kept in `_swap`
 * for `lake.vacuum_grace` for readers that hold it open or address it there (`vacuumSwaps`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import { exchangeDecision } from '../checkpoint/ownerCompactionRule.js';
import { ensureDir, fsyncDir, pathExists } from './durableFs.js';
import { partitionDir } from './layout.js';
import { exchangePaths } from './renameExchange.js';
import type { TableName } from './tables.js';

/** Beside `tables/`, so that no glob of a table and no listing of the lake's tables ever enters it. */
export const SWAP_DIR = '_swap';

/** A swap's paths; all absolute, `liveDir` and `stagingDir` on one file system. */
export interface PartitionSwap {
  /** `tables/<t>/dt=D/<unit>`: what readers list. */
  liveDir: string;
  /** Where the new version is built and where the old one lies after the swap until vacuumed (`swapStagingDir`). */
  stagingDir: string;
  /** Names in `liveDir` that the merged file replaces. */
  replaced: readonly string[];
  /** The merged file, written and fsynced; the commit that publishes it names it. */
  mergedTmp: string;
  /** Its name in `liveDir`. */
  mergedName: string;
  /**
   * Read the unit again right before the exchange and exchange only if it still lists what the version was built from
   * (checkpoint/ownerCompactionRule.ts `exchangeDecision`): the owner's compaction inside the ETL, where a member frozen
   * after its commit may wake behind the next owner (architecture.md, "Compaction").
   */
  recheck?: boolean;
}

/** `discarded`: the recheck found the unit changed since the version was built; nothing exchanged. */
export type SwapOutcome = 'swapped' | 'already-done' | 'discarded';

/** Called between the steps of a swap: where compaction's crash points are (system/faults.ts). */
export interface SwapSteps {
  /** The new version is built and fsynced; readers still see the old one. */
  built?: () => void;
  /** The exchange is durable; the merged tmp link is not removed yet. */
  exchanged?: () => void;
}

// A topic in a `_rejected` unit (`p<p>-<topic>`, lake/layout.ts) may hold `_`; never first, never `=`.
const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,299}$/;

/** A unit name readers list as a plain directory: no `=` (no Hive column), no leading `.` or `_` (pyarrow skips). */
export function isUnitName(name: string): boolean {
  return UNIT_NAME.test(name);
}

function checkUnit(unit: string): string {
  if (!isUnitName(unit)) throw new RangeError(`expected a unit directory name like p3, got ${JSON.stringify(unit)}`);
  return unit;
}

/** `<root>/tables/<table>/dt=<dt>/<unit>`: the directory readers list for one partition's files of one day. */
export function unitDir(root: string, table: TableName, dt: string, unit: string): string {
  return path.join(partitionDir(root, table, dt), checkUnit(unit));
}

/**
 * `<root>/_swap/<table>/dt=<dt>/<unit>.<merged name without .parquet>`: deterministic, so a takeover that completes a
 * committed compaction finds what an interrupted one left.
 */
export function swapStagingDir(root: string, table: TableName, dt: string, unit: string, mergedName: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.parquet$/.test(mergedName)) {
    throw new RangeError(`expected a Parquet file name, got ${JSON.stringify(mergedName)}`);
  }
  const dtDir = path.basename(partitionDir(root, table, dt));
  return path.join(root, SWAP_DIR, table, dtDir, `${checkUnit(unit)}.${mergedName.slice(0, -'.parquet'.length)}`);
}

/**
 * Publishes the merged file in place of the replaced ones in one step. Idempotent, for a retry and for the takeover
 * that completes a committed compaction: a unit that already holds the merged file is left alone ('already-done',
 * the tmp link removed). Otherwise whatever an interrupted attempt built is discarded and the new version is built
 * again: hard links to every other file of the unit, a link to the merged tmp file, then the exchange. Crash points:
 * before the exchange the readers' unit is untouched; after it, the unit holds the merged file.
 * @throws SdpError SDP_ERR_LAKE_FILE_MISSING when a replaced file or the merged tmp file is missing (not swapped).
 * @throws SdpError SDP_ERR_LAKE_SWAP_UNSUPPORTED where the file system has no directory exchange.
 */
export async function swapPartitionFiles(
  swap: PartitionSwap,
  nowMs: number = Date.now(),
  steps: SwapSteps = {},
): Promise<SwapOutcome> {
  const live = new Set(await fs.readdir(swap.liveDir));
  if (live.has(swap.mergedName)) {
    await removeTmp(swap.mergedTmp);
    return 'already-done';
  }
  const replaced = new Set(swap.replaced);
  const missing = [...replaced].filter((name) => !live.has(name));
  if (missing.length > 0) {
    throw new SdpError(ErrorCodes.LAKE_FILE_MISSING, `cannot compact ${swap.liveDir}: ${missing.join(', ')} missing`);
  }
  if (!(await pathExists(swap.mergedTmp))) {
    throw new SdpError(ErrorCodes.LAKE_FILE_MISSING, `cannot compact ${swap.liveDir}: ${swap.mergedTmp} missing`);
  }
  // Links only: removing a half-built version loses no data.
  await fs.rm(swap.stagingDir, { recursive: true, force: true });
  await ensureDir(path.dirname(swap.stagingDir));
  await fs.mkdir(swap.stagingDir);
  for (const name of live) {
    if (replaced.has(name)) continue;
    await fs.link(path.join(swap.liveDir, name), path.join(swap.stagingDir, name));
  }
  await fs.link(swap.mergedTmp, path.join(swap.stagingDir, swap.mergedName));
  await fsyncDir(swap.stagingDir);
  steps.built?.();
  if (swap.recheck && exchangeDecision([...live], await fs.readdir(swap.liveDir), swap.mergedName) !== 'exchange') {
    // Only a version holding the merged file is one built here: the same path may hold an old version by now.
    if (await pathExists(path.join(swap.stagingDir, swap.mergedName)))
      await fs.rm(swap.stagingDir, { recursive: true, force: true });
    await removeTmp(swap.mergedTmp);
    return 'discarded';
  }
  exchangePaths(swap.liveDir, swap.stagingDir);
  await fsyncDir(path.dirname(swap.liveDir));
  await fsyncDir(path.dirname(swap.stagingDir));
  steps.exchanged?.();
  // The vacuum clock of the old version starts now (a crash before this leaves the build time, a little earlier).
  const seconds = nowMs / 1000;
  await fs.utimes(swap.stagingDir, seconds, seconds);
  await removeTmp(swap.mergedTmp);
  return 'swapped';
}

/**
 * Deletes the old versions of `unit` in one `_swap/<table>/dt=D` directory that became old at least `graceMs` before
 * `nowMs`; returns their paths. Run by the unit's owner only, never while it builds a swap of that unit (a version
 * being built is not old).
 */
export async function vacuumSwaps(
  stagingParent: string,
  unit: string,
  graceMs: number,
  nowMs: number,
): Promise<string[]> {
  const prefix = `${checkUnit(unit)}.`;
  const removed: string[] = [];
  for (const entry of await readDirOrNone(stagingParent)) {
    if (!entry.isDirectory() || !entry.name.startsWith(prefix)) continue;
    const dir = path.join(stagingParent, entry.name);
    const { mtimeMs } = await fs.lstat(dir);
    if (mtimeMs > nowMs - graceMs) continue;
    await fs.rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  if (removed.length > 0) await fsyncDir(stagingParent);
  return removed.sort();
}

async function removeTmp(file: string): Promise<void> {
  try {
    await fs.unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

async function readDirOrNone(dir: string) {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
