/**
 * The platform's data roots (architecture.md, "Services and operating"): `init-volumes` creates
 * them with owner-only write access and marks each with `.sdp-root` (`services scale` each member's
 * checkpoint store too); `clean` deletes the brokers' data dir only when it is safe to.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import {
  ensureRootMarker,
  ROOT_MARKER_FILE,
  readRootMarker,
  writeRootMarker,
  type RootKind,
} from '../storage/rootMarker.js';
import { memberPaths, membersDirOf } from './memberLayout.js';

export interface DataRoot {
  /** The config key that names it. */
  key: string;
  path: string;
  kind: RootKind | undefined;
}

export function dataRoots(config: Config): DataRoot[] {
  return [
    { key: 'storage.datalake_root', path: resolve(config.storage.datalake_root), kind: 'datalake' },
    { key: 'storage.checkpoint_root', path: resolve(config.storage.checkpoint_root), kind: 'checkpoints' },
    { key: 'kafka.local.data_dir', path: resolve(config.kafka.local.data_dir), kind: 'kafka' },
    { key: 'services.run_dir', path: resolve(config.services.run_dir), kind: undefined },
  ];
}

/** Why a path must never be a data root (created, marked or deleted), or undefined when it may. */
export function unsafeRootReason(path: string, repository: string, home: string = homedir()): string | undefined {
  const p = resolve(path);
  if (p === '/' || dirname(p) === p) return 'it is the file system root';
  if (p === resolve(home)) return 'it is the home directory';
  if (p === resolve(repository)) return 'it is the repository itself';
  if (resolve(repository).startsWith(`${p}/`)) return 'it contains the repository';
  return undefined;
}

function assertSafe(root: DataRoot, repository: string): void {
  const reason = unsafeRootReason(root.path, repository);
  if (reason)
    throw new SdpError(ErrorCodes.SERVICES_UNSAFE_PATH, `${root.key} is ${root.path}: refused, ${reason}`, [
      `set ${root.key} in config.yml to a directory of its own, e.g. ./data/…`,
    ]);
  if (existsSync(root.path) && lstatSync(root.path).isSymbolicLink()) {
    throw new SdpError(
      ErrorCodes.SERVICES_UNSAFE_PATH,
      `${root.key} is ${root.path}, a symbolic link (to ${realpathSync(root.path)}): refused`,
      [`point ${root.key} at the real directory`],
    );
  }
}

export interface InitResult {
  root: DataRoot;
  created: boolean;
  markerWritten: boolean;
  /** The marker's kind when one was already there. */
  existingKind?: RootKind;
}

/** Creates every data root (mode 0750) and marks it; existing roots keep their content and marker. */
export function initVolumes(config: Config, repository: string = process.cwd()): InitResult[] {
  return dataRoots(config).map((root) => initRoot(root, repository));
}

/** Creates one data root (mode 0750) and marks it with its kind, as `init-volumes` does. */
export function initRoot(root: DataRoot, repository: string = process.cwd()): InitResult {
  assertSafe(root, repository);
  const created = !existsSync(root.path);
  mkdirSync(root.path, { recursive: true, mode: 0o750 });
  try {
    accessSync(root.path, constants.W_OK | constants.X_OK);
  } catch {
    throw new SdpError(ErrorCodes.SERVICES_UNSAFE_PATH, `${root.key} is ${root.path}: not writable by this user`, [
      `fix the owner: sudo chown -R "$(id -u):$(id -g)" ${root.path}`,
    ]);
  }
  if (!root.kind) return { root, created, markerWritten: false };
  const before = readRootMarker(root.path);
  if (before.status === 'ok') {
    if (before.marker.kind !== root.kind) {
      throw new SdpError(
        ErrorCodes.STORAGE_ROOT_KIND,
        `${root.key} is ${root.path}, marked as the platform's ${before.marker.kind} root, not its ${root.kind} root`,
        [`point ${root.key} at a directory of its own`],
      );
    }
    return { root, created, markerWritten: false, existingKind: before.marker.kind };
  }
  if (before.status === 'invalid') {
    throw new SdpError(
      ErrorCodes.SERVICES_UNSAFE_PATH,
      `${root.path}/${ROOT_MARKER_FILE} is not a valid marker (${before.reason}): refused`,
      [`look at it; delete it if it is yours, then run init-volumes again`],
    );
  }
  // Marking is what lets the clean commands delete inside: an existing root (a lake from before
  // markers existed) is marked here because the operator asked for it.
  writeRootMarker(root.path, root.kind);
  return { root, created, markerWritten: true };
}

/**
 * The checkpoint store of ETL member `index` of `services scale`: `<storage.checkpoint_root>/members/<i>`,
 * created and marked `checkpoints` like any root, inside a checkpoint root that must be the platform's
 * (marked, or new or empty and marked now): `clean --checkpoints` empties it with the members' stores, and
 * nothing is ever created inside a directory the platform does not own. No step on the way may be a symlink.
 */
export function initMemberCheckpointRoot(
  config: Config,
  index: number,
  repository: string = process.cwd(),
): InitResult {
  const parent = dataRoots(config).find((r) => r.kind === 'checkpoints')!;
  assertSafe(parent, repository);
  mkdirSync(parent.path, { recursive: true, mode: 0o750 });
  if (ensureRootMarker(parent.path, 'checkpoints') === 'unmarked')
    throw new SdpError(
      ErrorCodes.SERVICES_UNSAFE_PATH,
      `${parent.key} is ${parent.path}: it holds files but no valid ${ROOT_MARKER_FILE} marker, so the members' checkpoint stores are not created inside it`,
      ['`make init-volumes` marks the configured roots; or point storage.checkpoint_root at a new directory'],
    );
  const path = memberPaths(resolve(config.services.run_dir), parent.path, index).checkpointRoot;
  for (const step of [membersDirOf(parent.path), path]) {
    if (existsSync(step) && (lstatSync(step).isSymbolicLink() || !lstatSync(step).isDirectory()))
      throw new SdpError(
        ErrorCodes.SERVICES_UNSAFE_PATH,
        `${step} is ${lstatSync(step).isSymbolicLink() ? 'a symbolic link' : 'not a directory'}: refused`,
        [`it lies in ${parent.key}, where the ETL members' checkpoint stores go: move it away`],
      );
  }
  return initRoot({ key: `checkpoint store of ETL member ${index}`, path, kind: 'checkpoints' }, repository);
}

/** What may be in the brokers' data dir: node dirs, the class path files, the marker. */
function unexpectedKafkaEntries(dataDir: string): string[] {
  return readdirSync(dataDir).filter(
    (name) => !/^node-\d+$/.test(name) && !/^classpath-.+\.txt$/.test(name) && name !== ROOT_MARKER_FILE,
  );
}

/**
 * Throws unless the brokers' data dir may be deleted: not a dangerous path, not a symlink, and
 * either marked `kafka` or holding only what the local cluster writes.
 */
export function assertKafkaDataDeletable(config: Config, repository: string = process.cwd()): string {
  const root = dataRoots(config).find((r) => r.kind === 'kafka')!;
  assertSafe(root, repository);
  if (!existsSync(root.path)) return root.path;
  const read = readRootMarker(root.path);
  if (read.status === 'invalid')
    throw new SdpError(
      ErrorCodes.SERVICES_UNSAFE_PATH,
      `${root.path}/${ROOT_MARKER_FILE} is not a valid marker (${read.reason}): refused`,
      ['check kafka.local.data_dir in config.yml'],
    );
  const marker = read.status === 'ok' ? read.marker : undefined;
  if (marker && marker.kind !== 'kafka') {
    throw new SdpError(
      ErrorCodes.SERVICES_UNSAFE_PATH,
      `${root.path} is marked as the platform's ${marker.kind} root, not the brokers' data: refused`,
      ['check kafka.local.data_dir in config.yml'],
    );
  }
  const unexpected = unexpectedKafkaEntries(root.path);
  if (!marker && unexpected.length > 0) {
    throw new SdpError(
      ErrorCodes.SERVICES_UNSAFE_PATH,
      `${root.path} (kafka.local.data_dir) has no ${ROOT_MARKER_FILE} marker and holds what the local brokers do not write (${unexpected.slice(0, 5).join(', ')}): refused`,
      ['check kafka.local.data_dir; `make init-volumes` marks the data roots'],
    );
  }
  return root.path;
}
