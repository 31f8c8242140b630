import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import { TABLES_DIR, TMP_SUFFIX } from './layout.js';

/**
 * The file-system steps of the checkpoint protocol (architecture.md, "The checkpoint protocol"), each durable before it
 * resolves. Linux semantics: a file's data is durable after fsync of the file; its name is durable
 * after fsync of the directory that holds it.
 */

export async function fsyncFile(filePath: string): Promise<void> {
  const handle = await fs.open(filePath, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `dir` and its missing parents. When something was created, the parents' entries are
 * fsynced too: a file renamed into a new dt= directory is lost on power failure otherwise.
 */
export async function ensureDir(dir: string): Promise<void> {
  const absolute = path.resolve(dir);
  const firstCreated = await fs.mkdir(absolute, { recursive: true });
  if (firstCreated === undefined) return;
  // Every directory from `absolute` up to the parent of the first one created got a new entry.
  const stop = path.dirname(path.resolve(firstCreated));
  for (let d = absolute; ; d = path.dirname(d)) {
    await fsyncDir(d);
    if (d === stop || path.dirname(d) === d) break;
  }
}

/**
 * Writes `chunks` as the whole content of `filePath` (creating its directory if needed), fsyncs the
 * file and then its directory, so that both the bytes and the name survive a crash. The checkpoint
 * that later names this file as a rename source relies on it still being there. Returns the bytes
 * written.
 */
export async function writeFileDurable(filePath: string, chunks: Iterable<Uint8Array>): Promise<number> {
  await ensureDir(path.dirname(filePath));
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(filePath, 'w');
  } catch (err) {
    // An owner's retention may have removed the empty dt directory of an expired day between the two calls
    // (architecture.md, "Keeping the lake: retention"): a late event's first file there makes it again.
    if (!isNotFound(err)) throw err;
    await ensureDir(path.dirname(filePath));
    handle = await fs.open(filePath, 'w');
  }
  try {
    let bytes = 0;
    for (const chunk of chunks) {
      // write() may write less than asked; loop until the chunk is out.
      for (let done = 0; done < chunk.byteLength; ) {
        const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done);
        done += bytesWritten;
      }
      bytes += chunk.byteLength;
    }
    await handle.sync();
    await handle.close();
    await fsyncDir(path.dirname(filePath));
    return bytes;
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** What `completeRename` found and did. */
export type RenameOutcome = 'renamed' | 'already-done' | 'missing';

/**
 * Completes a committed rename: renames `from` to `to`, then fsyncs the directory of `to` (and of `from` if it
 * differs). Idempotent, for recovery and a partition's takeover (architecture.md, "Growing past one machine"): if
 * `from` is gone and `to` exists, the rename already happened and only the directory fsyncs are repeated (the crash
 * may have come before them): 'already-done'. If neither exists nothing is done and 'missing' is returned for the
 * caller to report (retention may have deleted the dt; anything else is lost data), never skipped silently.
 */
export async function completeRename(from: string, to: string): Promise<RenameOutcome> {
  let outcome: RenameOutcome = 'renamed';
  try {
    await renameIntoDir(from, to);
  } catch (err) {
    // ENOENT also names a missing target directory while `from` is there: that is a failure, not a completion.
    if (!isNotFound(err) || (await pathExists(from))) throw err;
    if (!(await pathExists(to))) return 'missing';
    outcome = 'already-done';
  }
  const toDir = path.dirname(to);
  await fsyncDir(toDir);
  const fromDir = path.dirname(from);
  if (path.resolve(fromDir) !== path.resolve(toDir)) await fsyncDir(fromDir);
  return outcome;
}

/**
 * rename(2); a missing unit (a unit's first file, lake/layout.ts) is made and the rename tried again. Only the unit:
 * a missing dt directory stays an error (retention may have deleted it, and nothing may bring it back).
 */
async function renameIntoDir(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (err) {
    const unit = path.dirname(to);
    if (!isNotFound(err) || !(await pathExists(from)) || !(await pathExists(path.dirname(unit)))) throw err;
    await fs.mkdir(unit).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    });
    await fsyncDir(path.dirname(unit));
    await fs.rename(from, to);
  }
}

/**
 * `completeRename` for a rename that must happen: idempotent the same way, but neither file existing is an error.
 * @throws SdpError SDP_ERR_LAKE_FILE_MISSING when neither file exists.
 */
export async function renameDurable(from: string, to: string): Promise<void> {
  if ((await completeRename(from, to)) === 'missing')
    throw new SdpError(ErrorCodes.LAKE_FILE_MISSING, `cannot rename ${from} to ${to}: neither file exists`);
}

/** Removes a file; a missing file is not an error. Returns whether something was removed. */
export async function removeIfExists(filePath: string): Promise<boolean> {
  try {
    await fs.unlink(filePath);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Every `*.tmp` file below `<root>/tables`, as absolute paths in sorted order. */
export async function listTmpFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  await walk(path.resolve(root, TABLES_DIR), found);
  return found.sort();
}

async function walk(dir: string, found: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, found);
    else if (entry.isFile() && entry.name.endsWith(TMP_SUFFIX)) found.push(full);
  }
}

/** Whether a path exists (a missing file is false; any other error is thrown). */
export async function pathExists(filePath: string): Promise<boolean> {
  try {
    await fs.access(filePath);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
