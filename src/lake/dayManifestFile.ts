/**
 * `tables/<t>/dt=D/_manifest.json` on disk (lake/dayManifest.ts; architecture.md, "Sealed days"). Beside the units,
 * never in one: a unit's exchange (compaction) never carries it away, and `_` names are hidden from Hive-style readers
 * and from every `*.parquet` glob. Written tmp → fsync → rename → fsync of the dt directory, so a reader finds the old
 * manifest or the new one, never half of one. The tmp name (`._manifest.json.<pid>-<n>.writing`) is hidden and does
 * not end in `.tmp`: no recovery of the lake's tmp files, no retention hold, no `verify` takes it for a roll's.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { dirEntries } from './dirEntries.js';
import { renameDurable, writeFileDurable } from './durableFs.js';
import { decodeManifest, encodeManifest, MANIFEST_FILE, type DayManifest } from './dayManifest.js';
import { partitionDir } from './layout.js';
import type { TableName } from './tables.js';

const TMP_PREFIX = `.${MANIFEST_FILE}.`;
const TMP_SUFFIX = '.writing';
let written = 0;

export function manifestPath(lakeRoot: string, table: TableName, dt: string): string {
  return path.join(partitionDir(lakeRoot, table, dt), MANIFEST_FILE);
}

export interface ManifestOnDisk {
  manifest: DayManifest;
  /** When its name appeared (ctime: a rename sets it), epoch ms. */
  changedMs: number;
}

/**
 * The dt's manifest; undefined when the day is not sealed.
 * @throws Error naming the file when it is not a regular file or not a manifest.
 */
export async function readManifest(
  lakeRoot: string,
  table: TableName,
  dt: string,
): Promise<ManifestOnDisk | undefined> {
  const file = manifestPath(lakeRoot, table, dt);
  let stat: Stats;
  try {
    stat = await fs.lstat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (!stat.isFile()) throw new Error(`${file} is not a regular file (symlinks are not read)`);
  try {
    return { manifest: decodeManifest(await fs.readFile(file, 'utf8')), changedMs: stat.ctimeMs };
  } catch (err) {
    throw new Error(`${file} is not a day manifest: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Replaces the dt's manifest atomically; the dt directory must exist (retention may have deleted it on purpose). */
export async function writeManifest(lakeRoot: string, manifest: DayManifest): Promise<void> {
  const file = manifestPath(lakeRoot, manifest.table, manifest.dt);
  written += 1;
  const tmp = path.join(path.dirname(file), `${TMP_PREFIX}${process.pid}-${written}${TMP_SUFFIX}`);
  try {
    await fs.access(path.dirname(file));
    await writeFileDurable(tmp, [Buffer.from(encodeManifest(manifest), 'utf8')]);
    await renameDurable(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Deletes manifest tmp files of a writer that died mid-write, older than `olderThanMs`. Returns how many. */
export async function removeStaleManifestTmp(dtDir: string, olderThanMs: number, nowMs: number): Promise<number> {
  let removed = 0;
  for (const entry of await dirEntries(dtDir)) {
    if (!entry.isFile() || !entry.name.startsWith(TMP_PREFIX) || !entry.name.endsWith(TMP_SUFFIX)) continue;
    const full = path.join(dtDir, entry.name);
    const stat = await fs.lstat(full).catch(() => undefined);
    if (stat && nowMs - stat.mtimeMs > olderThanMs) {
      await fs.rm(full, { force: true });
      removed += 1;
    }
  }
  return removed;
}

/** sha256 of a file's bytes, hex; read as a stream, a chunk at a time. */
export function sha256OfFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
