/**
 * Is the platform running on these data roots? Two signs, either is enough: the pid file of
 * `services up` names a live process, or the checkpoint store is locked by another process.
 * Destructive commands refuse while either holds (architecture.md, "Storage roots and cleaning").
 * The ETL members of `services scale` count too: their pid files lie under the run dir's `members/`,
 * their checkpoint stores under the checkpoint root's `members/` (services/memberLayout.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { membersDirOf, parseMemberDirName } from './memberLayout.js';

export interface RunningSign {
  what: string;
  /** How to stop it. */
  stop: string;
}

/** The pid in the pid file, if it names a live process (signal 0 only checks). */
export function livePidFromFile(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim().split(/\s+/)[0] ?? '', 10);
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * true when another process holds the store: the exclusive lock a running ETL keeps on the file beside the store
 * (checkpoint/storeLock.ts) for as long as it runs, or a write in progress on the store itself. Opening creates
 * neither file.
 */
export function isCheckpointStoreLocked(file: string): boolean {
  // The store alone is locked only while a write is in progress: a running ETL between two commits looks idle.
  return isSqliteFileLocked(`${file}.lock`) || isSqliteFileLocked(file);
}

function isSqliteFileLocked(file: string): boolean {
  if (!existsSync(file)) return false;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 0 });
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return false;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
  } finally {
    db?.close();
  }
}

/** The member indexes with a directory under `<dir>/members`, ascending. */
function memberIndexes(dir: string): number[] {
  try {
    return readdirSync(membersDirOf(dir))
      .map(parseMemberDirName)
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/**
 * `pidFile`: `<services.run_dir>/sdp.pid` (services/pidFile.ts); `checkpointFile`: the store in
 * storage.checkpoint_root. The same files of every ETL member below them are checked too.
 */
export function runningSigns(checkpointFile: string, pidFile: string): RunningSign[] {
  const signs = processSigns(checkpointFile, pidFile);
  const pidName = basename(pidFile);
  for (const index of memberIndexes(dirname(pidFile))) {
    const file = join(membersDirOf(dirname(pidFile)), String(index), pidName);
    const pid = livePidFromFile(file);
    if (pid !== undefined)
      signs.push({
        what: `ETL member ${index} runs in the background (pid ${pid}, from ${file})`,
        stop: '`make scale N=0` or `make down` stops it',
      });
  }
  const storeName = basename(checkpointFile);
  for (const index of memberIndexes(dirname(checkpointFile))) {
    const file = join(membersDirOf(dirname(checkpointFile)), String(index), storeName);
    if (isCheckpointStoreLocked(file))
      signs.push({
        what: `the checkpoint store ${file} of ETL member ${index} is locked by a running process`,
        stop: 'stop it first: `make scale N=0` or `make down`, or `kill -TERM <pid>` for one started by hand',
      });
  }
  return signs;
}

function processSigns(checkpointFile: string, pidFile: string): RunningSign[] {
  const signs: RunningSign[] = [];
  const pid = livePidFromFile(pidFile);
  if (pid !== undefined)
    signs.push({
      what: `the platform runs in the background (pid ${pid}, from ${pidFile})`,
      stop: '`make down` stops it',
    });
  if (isCheckpointStoreLocked(checkpointFile)) {
    signs.push({
      what: `the checkpoint store ${checkpointFile} is locked by a running platform`,
      stop: 'stop it first: `make down`, or Ctrl-C / `kill -TERM <pid>` for one started with `make run` or `node dist/main.js run|etl`',
    });
  }
  return signs;
}
