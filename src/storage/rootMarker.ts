/**
 * The marker that makes a directory one of the platform's storage roots: a file `.sdp-root`
 * holding `{"kind": "datalake" | "checkpoints" | "kafka", "created": ISO-8601}`. Written by
 * `init-volumes` or by the first run into a root it creates (or finds empty); the clean commands
 * delete only inside a root carrying the marker of the expected kind (architecture.md, "Storage roots and cleaning").
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';

export const ROOT_MARKER_FILE = '.sdp-root';
export const ROOT_KINDS = ['datalake', 'checkpoints', 'kafka'] as const;
export type RootKind = (typeof ROOT_KINDS)[number];

export interface RootMarker {
  kind: RootKind;
  created: string;
}

export type MarkerRead =
  | { status: 'ok'; marker: RootMarker }
  | { status: 'missing' }
  | { status: 'invalid'; reason: string };

/** Parses a marker file's text; pure. */
export function parseRootMarker(text: string): MarkerRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 'invalid', reason: 'not JSON' };
  }
  if (value === null || typeof value !== 'object') return { status: 'invalid', reason: 'not a JSON object' };
  const { kind, created } = value as Record<string, unknown>;
  if (typeof kind !== 'string' || !(ROOT_KINDS as readonly string[]).includes(kind))
    return { status: 'invalid', reason: `kind ${JSON.stringify(kind)} is not one of ${ROOT_KINDS.join(', ')}` };
  if (typeof created !== 'string' || Number.isNaN(Date.parse(created)))
    return { status: 'invalid', reason: `created ${JSON.stringify(created)} is not an ISO-8601 time` };
  return { status: 'ok', marker: { kind: kind as RootKind, created } };
}

/** Reads `<root>/.sdp-root`; a marker that is a symlink or not a regular file is invalid. */
export function readRootMarker(root: string): MarkerRead {
  const file = join(root, ROOT_MARKER_FILE);
  let stat: import('node:fs').Stats;
  try {
    stat = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return { status: 'missing' };
    throw err;
  }
  if (!stat.isFile()) return { status: 'invalid', reason: `${ROOT_MARKER_FILE} is not a regular file` };
  return parseRootMarker(readFileSync(file, 'utf8'));
}

export function writeRootMarker(root: string, kind: RootKind, now: Date = new Date()): RootMarker {
  const marker: RootMarker = { kind, created: now.toISOString() };
  mkdirSync(root, { recursive: true });
  const file = join(root, ROOT_MARKER_FILE);
  try {
    writeFileSync(file, `${JSON.stringify(marker)}\n`);
  } catch (err) {
    // A failed write (ENOSPC) names no path: add it, so the error can say which root.
    if (err instanceof Error && !('path' in err)) Object.assign(err, { path: file });
    throw err;
  }
  return marker;
}

export type EnsureResult = 'written' | 'present' | 'unmarked';

/**
 * At start: marks a root that does not exist yet or is empty; leaves a marked one alone; a
 * non-empty root without a marker stays unmarked (it may not be ours: the clean commands refuse
 * it until `init-volumes` marks it). A root marked for another kind is an error: two settings
 * point at the same directory, or a setting points at the wrong one.
 */
export function ensureRootMarker(root: string, kind: RootKind): EnsureResult {
  const read = readRootMarker(root);
  if (read.status === 'ok') {
    if (read.marker.kind !== kind) {
      throw new SdpError(
        ErrorCodes.STORAGE_ROOT_KIND,
        `${root} is marked as the platform's ${read.marker.kind} root, not its ${kind} root`,
        [
          `${join(root, ROOT_MARKER_FILE)} says kind ${read.marker.kind}: point the ${kind} setting at another directory`,
        ],
      );
    }
    return 'present';
  }
  if (read.status === 'invalid') return 'unmarked';
  if (!existsSync(root) || readdirSync(root).length === 0) {
    writeRootMarker(root, kind);
    return 'written';
  }
  return 'unmarked';
}
