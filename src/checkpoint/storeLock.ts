/**
 * One process per checkpoint store (architecture.md, "Checkpoint store"): an exclusive lock taken
 * before the store is opened and held until the process stops.
 *
 * The lock is an SQLite EXCLUSIVE transaction on a small file next to the store
 * (`checkpoints.sqlite.lock`), held open: SQLite's POSIX file lock is what excludes. The kernel
 * drops it when its process dies, however it dies (kill -9 included), so a lock can never be left
 * behind and a reused pid can never look like the holder. Who holds it is written beside it
 * (`checkpoints.sqlite.lock.json`: pid, host, process start time, since) so that a second process
 * can name the holder when it exits, and the next holder can say whom it took over from.
 */
import { readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { processStartTicks } from '../system/procStat.js';

export const LOCK_FILE = 'checkpoints.sqlite.lock';
export const HOLDER_FILE = 'checkpoints.sqlite.lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  /** The holder's process start time as the kernel counts it (/proc/<pid>/stat field 22), when known. */
  processStartTicks: string | null;
  /** When it took the lock (ISO-8601). */
  since: string;
  command: string;
}

export interface StoreLock {
  readonly holder: LockHolder;
  /** The previous holder, when this process took over from one that had stopped (or died). */
  readonly previous: LockHolder | undefined;
  release(): void;
}

/** Whether `holder` still runs on this host: its pid alive with the same start time. */
export function isHolderAlive(holder: LockHolder): boolean | 'unknown' {
  if (holder.host !== hostname()) return 'unknown';
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const ticks = processStartTicks(holder.pid);
  if (ticks === null || holder.processStartTicks === null) return true;
  return ticks === holder.processStartTicks; // a different start time: the pid was reused
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another process (no holder recorded yet)';
  return `pid ${holder.pid} on host ${holder.host} (since ${holder.since}, command: ${holder.command})`;
}

/**
 * Takes the lock of the store in `checkpointRoot`, or throws SDP_ERR_CHECKPOINT_LOCKED at once,
 * naming the holder. Never waits: a second process must not queue behind the first.
 */
export function acquireStoreLock(checkpointRoot: string, logger?: Logger): StoreLock {
  mkdirSync(checkpointRoot, { recursive: true });
  const lockFile = join(checkpointRoot, LOCK_FILE);
  const holderFile = join(checkpointRoot, HOLDER_FILE);
  const log = logger?.child({ component: 'checkpoint-store' });
  const db = new Database(lockFile);
  try {
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    const code = err instanceof Database.SqliteError ? err.code : undefined;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
      const holder = readHolder(holderFile);
      throw new SdpError(
        ErrorCodes.CHECKPOINT_LOCKED,
        `checkpoint store ${checkpointRoot} is in use by ${describeHolder(holder)}; one process per checkpoint store`,
      );
    }
    throw new SdpError(
      ErrorCodes.CHECKPOINT_STORE,
      `cannot lock checkpoint store ${checkpointRoot}: ${err instanceof Error ? err.message : String(err)}`,
      [],
      { cause: err },
    );
  }
  const previous = readHolder(holderFile);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    processStartTicks: processStartTicks(process.pid),
    since: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 200),
  };
  const tmp = `${holderFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`);
  renameSync(tmp, holderFile);
  if (previous) {
    // The lock was free, so the previous holder stopped; say whether it left cleanly or died.
    log?.warn(
      {
        lock_file: lockFile,
        previous_pid: previous.pid,
        previous_host: previous.host,
        previous_since: previous.since,
        previous_alive: isHolderAlive(previous),
      },
      'checkpoint store lock taken over from a holder that did not release it (killed?)',
    );
  }
  log?.info({ lock_file: lockFile, pid: holder.pid, host: holder.host }, 'checkpoint store locked');
  let released = false;
  return {
    holder,
    previous,
    release() {
      if (released) return;
      released = true;
      // Our holder record goes first, while the lock still keeps others out.
      if (readHolder(holderFile)?.pid === holder.pid) rmSync(holderFile, { force: true });
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
      log?.info({ lock_file: lockFile }, 'checkpoint store unlocked');
    },
  };
}
