/**
 * Emptying a storage root, after `rootSafety` found no reason to refuse. Deletes everything below
 * the root except its `.sdp-root` marker; never follows a symlink (a symlink is unlinked, its
 * target untouched) and never leaves the root (every path is checked to lie below it). `data clean` and `lake expire`
 * (the platform stopped) call it synchronously; retention inside the ETL (`removeFilesInsideRoot`, `removeDirIfOnly`)
 * asynchronously, with the same checks.
 */
import { lstatSync, readdirSync, realpathSync, rmdirSync, type Stats, unlinkSync } from 'node:fs';
import {
  lstat as lstatAsync,
  readdir as readdirAsync,
  rmdir as rmdirAsync,
  unlink as unlinkAsync,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import { readRootMarker, ROOT_MARKER_FILE, type RootKind } from './rootMarker.js';
import { isWithin, refusalsFor, type RootFacts } from './rootSafety.js';

export interface CleanTarget {
  kind: RootKind;
  /** As configured (relative paths resolve against the working directory). */
  configured: string;
}

export interface CleanedRoot {
  root: string;
  files: number;
  bytes: number;
  /** false: the root did not exist, nothing to do. */
  existed: boolean;
}

export function gatherRootFacts(configured: string, repoDir: string, otherRoots: readonly string[]): RootFacts {
  const resolved = resolve(configured);
  let stat: import('node:fs').Stats | undefined;
  try {
    stat = lstatSync(resolved);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let real: string | undefined;
  try {
    real = realpathSync(resolved);
  } catch {
    real = undefined;
  }
  return {
    configured,
    resolved,
    real,
    exists: stat !== undefined,
    isSymlink: stat?.isSymbolicLink() ?? false,
    isDirectory: stat?.isDirectory() ?? false,
    marker: stat?.isDirectory() ? readRootMarker(resolved) : { status: 'missing' },
    homeDir: resolve(homedir()),
    repoDir: resolve(repoDir),
    otherRoots: otherRoots.map((r) => resolve(r)),
  };
}

/**
 * Throws SdpError(STORAGE_UNSAFE_ROOT) listing every reason when any target is unsafe; checks all before anything is
 * deleted.
 */
export function assertSafeRoots(targets: readonly CleanTarget[], repoDir: string, allRoots: readonly string[]): void {
  const problems: string[] = [];
  for (const t of targets) {
    const facts = gatherRootFacts(t.configured, repoDir, allRoots);
    for (const reason of refusalsFor(t.kind, facts)) problems.push(`${t.kind} root: ${reason}`);
  }
  if (problems.length > 0) {
    throw new SdpError(ErrorCodes.STORAGE_UNSAFE_ROOT, 'refusing to clean: nothing was deleted', problems);
  }
}

/** Size of what `emptyRoot` would delete, without deleting. */
export function measureRoot(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  walk(resolve(root), resolve(root), (_path, isDir, size) => {
    if (!isDir) {
      files += 1;
      bytes += size;
    }
  });
  return { files, bytes };
}

/** Deletes everything inside `root` but the marker. Call only after `assertSafeRoots`. */
export function emptyRoot(root: string): CleanedRoot {
  const absolute = resolve(root);
  let stat: import('node:fs').Stats;
  try {
    stat = lstatSync(absolute);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { root: absolute, files: 0, bytes: 0, existed: false };
    throw err;
  }
  // Checked again here: the root may have been swapped for a symlink since the safety check.
  if (!stat.isDirectory() || stat.isSymbolicLink())
    throw new SdpError(
      ErrorCodes.STORAGE_UNSAFE_ROOT,
      `${absolute} is not a plain directory any more: nothing deleted`,
    );
  let files = 0;
  let bytes = 0;
  walk(absolute, absolute, (path, isDir, size) => {
    if (isDir) rmdirSync(path);
    else {
      unlinkSync(path);
      files += 1;
      bytes += size;
    }
  });
  return { root: absolute, files, bytes, existed: true };
}

/** The target of `relativeDir` and every path from the root down to it; throws when it is not below the root. */
function stepsBelow(absoluteRoot: string, relativeDir: string): { target: string; paths: string[] } {
  const target = resolve(absoluteRoot, relativeDir);
  if (target === absoluteRoot || !isWithin(absoluteRoot, target))
    throw new SdpError(ErrorCodes.STORAGE_UNSAFE_ROOT, `${target} is not below ${absoluteRoot}: nothing deleted`);
  const paths = [absoluteRoot];
  for (const step of target.slice(absoluteRoot.length + 1).split(sep)) paths.push(join(paths[paths.length - 1]!, step));
  return { target, paths };
}

/** Throws when a step on the way down is a symlink or no directory. */
function checkStep(path: string, stat: Stats, target: string): void {
  if (stat.isSymbolicLink() || !stat.isDirectory())
    throw new SdpError(
      ErrorCodes.STORAGE_UNSAFE_ROOT,
      `${path} is ${stat.isSymbolicLink() ? 'a symlink' : 'not a directory'}: ${target} not deleted`,
    );
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * The absolute path of `relativeDir` below the root after lstat-ing every directory from the root down to it;
 * undefined when a step does not exist. Throws when it is not below the root, or a step is a symlink or no directory.
 */
function plainDirBelow(absoluteRoot: string, relativeDir: string): string | undefined {
  const { target, paths } = stepsBelow(absoluteRoot, relativeDir);
  for (const path of paths) {
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    checkStep(path, stat, target);
  }
  return target;
}

/** `plainDirBelow` off the event loop: the deletes inside the ETL (architecture.md, "Keeping the lake: retention"). */
async function plainDirBelowAsync(absoluteRoot: string, relativeDir: string): Promise<string | undefined> {
  const { target, paths } = stepsBelow(absoluteRoot, relativeDir);
  for (const path of paths) {
    let stat: Stats;
    try {
      stat = await lstatAsync(path);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    checkStep(path, stat, target);
  }
  return target;
}

/** Unlinks one entry of `dir` unless it is a directory: its size; undefined when it was not there or is a directory. */
async function unlinkEntry(dir: string, name: string): Promise<number | undefined> {
  const path = join(dir, name);
  if (name.includes('/') || name.includes(sep) || dirname(path) !== dir)
    throw new SdpError(ErrorCodes.STORAGE_UNSAFE_ROOT, `${name} is not an entry of ${dir}: stopped`);
  let stat: Stats;
  try {
    stat = await lstatAsync(path);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  if (stat.isDirectory()) return undefined;
  try {
    await unlinkAsync(path);
  } catch (err) {
    // Another deleter of the same entry between the lstat and the unlink (two owners finishing one dt).
    if (isMissing(err)) return undefined;
    throw err;
  }
  return stat.size;
}

/** rmdir that leaves a directory something arrived in (or that another deleter removed first): whether it went. */
async function rmdirIfEmpty(dir: string): Promise<boolean> {
  try {
    await rmdirAsync(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Deletes the named entries of one directory below a root (retention inside the ETL: the files of a unit an owner
 * listed and recorded, not one that arrived since), then the directory if that left it empty (unless `keepDir`).
 * The path down to it is checked as by `removeDirInsideRoot`; an entry that is a link is unlinked, a directory is left
 * alone. Asynchronous, one call at a time: it runs on the ETL's event loop, where a unit of a day (1,440 files) took
 * 107–290 ms of sync calls. Call only after `assertSafeRoots` for the root.
 */
export async function removeFilesInsideRoot(
  root: string,
  relativeDir: string,
  names: readonly string[],
  options: { keepDir?: boolean } = {},
): Promise<CleanedRoot> {
  const absoluteRoot = resolve(root);
  const target = await plainDirBelowAsync(absoluteRoot, relativeDir);
  if (target === undefined) return { root: resolve(absoluteRoot, relativeDir), files: 0, bytes: 0, existed: false };
  let files = 0;
  let bytes = 0;
  for (const name of names) {
    const size = await unlinkEntry(target, name);
    if (size === undefined) continue;
    files += 1;
    bytes += size;
  }
  if (!options.keepDir) await rmdirIfEmpty(target);
  return { root: target, files, bytes, existed: true };
}

/**
 * Removes one directory below a root when `removable` accepts its entries (retention: an expired dt directory left
 * with nothing but its manifest), those entries unlinked first; a directory among them, or anything that arrives
 * meanwhile, keeps it (rmdir, never a recursive delete). The path down to it is checked as by `removeDirInsideRoot`.
 * Whether it went: false when it was not there, was refused, or another deleter removed it first.
 */
export async function removeDirIfOnly(
  root: string,
  relativeDir: string,
  removable: (entries: readonly string[]) => boolean,
): Promise<boolean> {
  const target = await plainDirBelowAsync(resolve(root), relativeDir);
  if (target === undefined) return false;
  let entries: string[];
  try {
    entries = await readdirAsync(target);
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  if (!removable(entries)) return false;
  for (const name of entries) await unlinkEntry(target, name);
  return rmdirIfEmpty(target);
}

/**
 * Deletes one directory below a root and everything in it (retention: a dt partition of the lake).
 * Call only after `assertSafeRoots` for the root. Every directory from the root down to the target
 * is lstat-ed: a symlink or a non-directory on the way stops it before anything is deleted, so no
 * link ever leads outside the root; inside the target symlinks are unlinked, never followed.
 */
export function removeDirInsideRoot(root: string, relativeDir: string): CleanedRoot {
  const absoluteRoot = resolve(root);
  const target = plainDirBelow(absoluteRoot, relativeDir);
  if (target === undefined) return { root: resolve(absoluteRoot, relativeDir), files: 0, bytes: 0, existed: false };
  let files = 0;
  let bytes = 0;
  walk(absoluteRoot, target, (p, isDir, size) => {
    if (isDir) rmdirSync(p);
    else {
      unlinkSync(p);
      files += 1;
      bytes += size;
    }
  });
  rmdirSync(target);
  return { root: target, files, bytes, existed: true };
}

/** Post-order walk of `dir` below `root`, skipping the root's marker; symlinks are leaves. */
function walk(root: string, dir: string, visit: (path: string, isDir: boolean, size: number) => void): void {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (dir === root && entry.name === ROOT_MARKER_FILE) continue;
    if (!isWithin(root, path) || path === root)
      throw new SdpError(ErrorCodes.STORAGE_UNSAFE_ROOT, `${path} is outside ${root}: stopped`);
    // lstat, not stat: a symlink to a directory is unlinked, never descended into.
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      walk(root, path, visit);
      visit(path, true, 0);
    } else {
      visit(path, false, stat.size);
    }
  }
}
