/**
 * The platform's mark on a storage root (architecture.md, "Services and operating"): a file
 * `.sdp-root` holding JSON `{"kind": "datalake" | "checkpoints" | "kafka", "created": ISO time}`.
 * `init-volumes` writes it, the platform writes it on its first run when it is missing, and the
 * cleaning commands delete only inside a root that carries it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT_MARKER_FILE = '.sdp-root';

export type RootKind = 'datalake' | 'checkpoints' | 'kafka';

export interface RootMarker {
  kind: RootKind;
  /** ISO 8601 time the marker was written. */
  created: string;
}

const KINDS: readonly RootKind[] = ['datalake', 'checkpoints', 'kafka'];

export function rootMarkerPath(root: string): string {
  return join(root, ROOT_MARKER_FILE);
}

/** Parses a marker file's text; undefined when it is not a valid marker. */
export function parseRootMarker(text: string): RootMarker | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object') return undefined;
    const { kind, created } = value as Record<string, unknown>;
    if (typeof kind !== 'string' || !KINDS.includes(kind as RootKind) || typeof created !== 'string' || Number.isNaN(Date.parse(created))) return undefined;
    return { kind: kind as RootKind, created };
  } catch {
    return undefined;
  }
}

/** The marker of `root`, or undefined when it has none (or an unreadable one). */
export function readRootMarker(root: string): RootMarker | undefined {
  try {
    return parseRootMarker(readFileSync(rootMarkerPath(root), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Creates `root` (mode 0750 for new directories) and writes its marker unless a marker file is
 * already there; returns whether it wrote one. An existing marker is never overwritten.
 */
export function ensureRootMarker(root: string, kind: RootKind, now: Date = new Date()): { written: boolean; marker: RootMarker | undefined } {
  mkdirSync(root, { recursive: true, mode: 0o750 });
  const file = rootMarkerPath(root);
  if (existsSync(file)) return { written: false, marker: readRootMarker(root) };
  const marker: RootMarker = { kind, created: now.toISOString() };
  try {
    writeFileSync(file, `${JSON.stringify(marker)}\n`, { flag: 'wx', mode: 0o640 });
  } catch (err) {
    // Another process wrote it between our check and our write: theirs stands.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { written: false, marker: readRootMarker(root) };
    throw err;
  }
  return { written: true, marker };
}

/**
 * The first run's mark: writes the marker only when `root` does not exist yet or is an empty
 * directory, so a run never claims a directory that already held something else.
 */
export function markNewRoot(root: string, kind: RootKind): boolean {
  try {
    if (readdirSync(root).length > 0) return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
  }
  return ensureRootMarker(root, kind).written;
}
