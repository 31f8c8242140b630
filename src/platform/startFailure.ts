/**
 * A failure while the platform starts, as one SdpError: the cause and the fix in one `error
 * SDP_ERR_…` line (architecture.md, "Services and operating"), never a stack trace. File-system
 * errors name the storage root they hit; a query that timed out because the actor it asked failed
 * reports that actor's error instead of nact's "Query Timeout".
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

function isErrno(err: unknown): err is ErrnoLike & { code: string } {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as ErrnoLike).code === 'string' &&
    /^E[A-Z]+$/.test((err as ErrnoLike).code as string)
  );
}

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}${sep}`) || root.startsWith(`${path}${sep}`);
}

/** The nearest existing ancestor of `path` (itself included) that is not a directory, if any. */
function fileInTheWay(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    if (existsSync(p)) return statSync(p).isDirectory() ? undefined : p;
    if (dirname(p) === p) return undefined;
  }
}

function storageFailure(err: ErrnoLike & { code: string }, config: Config): SdpError | undefined {
  const path = typeof err.path === 'string' ? resolve(err.path) : undefined;
  const roots = [
    { key: 'storage.datalake_root', root: resolve(config.storage.datalake_root) },
    { key: 'storage.checkpoint_root', root: resolve(config.storage.checkpoint_root) },
  ];
  const hit = path === undefined ? undefined : roots.find((r) => within(path, r.root));
  if (!hit || path === undefined) return undefined;
  const what = `${err.code}: ${err.syscall ? `${String(err.syscall)} ` : ''}${path}`;
  const where = `${hit.key} ${hit.root}`;
  switch (err.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new SdpError(ErrorCodes.STORAGE_UNUSABLE, `the disk holding ${where} is full (${what})`, [
        `free space there (\`df -h ${hit.root}\`), or point ${hit.key} at another disk`,
      ]);
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR': {
      const file = fileInTheWay(hit.root) ?? fileInTheWay(path);
      return new SdpError(
        ErrorCodes.STORAGE_UNUSABLE,
        `${where} cannot be used: ${file ?? path} is a file, not a directory (${what})`,
        [`point ${hit.key} at a directory (or at a path to create), or move ${file ?? path} away`],
      );
    }
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new SdpError(ErrorCodes.STORAGE_UNUSABLE, `${where} cannot be written (${what})`, [
        `give this user write access (\`ls -ld ${hit.root}\`; \`make init-volumes\` creates the roots), or point ${hit.key} elsewhere`,
      ]);
    default:
      return new SdpError(ErrorCodes.STORAGE_UNUSABLE, `${where} cannot be used (${what})`, [
        `check ${hit.root} (\`ls -ld\`, \`df -h\`), or point ${hit.key} elsewhere`,
      ]);
  }
}

/**
 * `err`, as thrown by a start; `actorFailure`: the error an actor crashed with meanwhile (a query
 * to it then times out with nothing to say).
 */
export function startFailure(
  err: unknown,
  config: Config,
  actorFailure?: { component: string; cause: unknown },
): SdpError {
  const timedOut = err instanceof Error && err.message === 'Query Timeout';
  const cause = timedOut && actorFailure ? actorFailure.cause : err;
  if (cause instanceof SdpError) return cause;
  if (isErrno(cause)) {
    const storage = storageFailure(cause, config);
    if (storage) return storage;
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  const component = timedOut && actorFailure ? `${actorFailure.component}: ` : '';
  return new SdpError(
    ErrorCodes.PLATFORM_START_FAILED,
    `the platform could not start: ${component}${timedOut && !actorFailure ? 'a component did not answer within its start timeout' : message}`,
    [
      'the log lines above name the component; run again with SDP_LOG__LEVEL=debug for more',
      'a checkpoint store or lake root in an odd state: `make data-stats` shows both',
    ],
    { cause },
  );
}
