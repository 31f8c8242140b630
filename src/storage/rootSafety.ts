/**
 * The rules that keep a clean command from deleting the wrong thing (architecture.md,
 * "Storage roots and cleaning"). Pure: the caller gathers the facts (lstat, realpath, marker, home, repository)
 * and gets back every reason to refuse; an empty list means the root may be emptied.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { MarkerRead, RootKind } from './rootMarker.js';

export interface RootFacts {
  /** The root as configured (before resolving). */
  configured: string;
  /** `path.resolve(configured)`. */
  resolved: string;
  /** realpath of the root (symlinks in its parents resolved); undefined when it does not exist. */
  real: string | undefined;
  exists: boolean;
  isSymlink: boolean;
  isDirectory: boolean;
  marker: MarkerRead;
  homeDir: string;
  repoDir: string;
  /** The other platform roots (resolved): a root containing one of them is refused. */
  otherRoots: readonly string[];
}

/** true when `child` is `parent` or lies below it. */
export function isWithin(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Every reason to refuse emptying this root; [] means it is safe. */
export function refusalsFor(kind: RootKind, facts: RootFacts): string[] {
  const reasons: string[] = [];
  const { configured, resolved } = facts;
  if (configured.trim() === '') return ['the configured path is empty'];
  if (configured.split(/[\\/]+/).includes('..'))
    reasons.push(`${configured} contains a '..' segment: give the root without '..'`);
  const candidates = [resolved, ...(facts.real && facts.real !== resolved ? [facts.real] : [])];
  for (const path of candidates) {
    if (resolve(path) === resolve(sep)) reasons.push(`${path} is the file-system root /`);
    else if (isWithin(path, facts.homeDir))
      reasons.push(`${path} is the home directory ${facts.homeDir} or contains it`);
    if (isWithin(path, facts.repoDir)) reasons.push(`${path} is the repository ${facts.repoDir} or contains it`);
    for (const other of facts.otherRoots) {
      if (other !== resolved && isWithin(path, other))
        reasons.push(`${path} contains another storage root of the platform (${other})`);
    }
  }
  if (!facts.exists) return reasons;
  if (facts.isSymlink)
    reasons.push(`${resolved} is a symlink: give the real directory (symlinks are never followed when deleting)`);
  else if (!facts.isDirectory) reasons.push(`${resolved} is not a directory`);
  if (facts.real !== undefined && facts.real !== resolved && !facts.isSymlink) {
    reasons.push(`${resolved} resolves to ${facts.real} through a symlinked parent: give the real path`);
  }
  if (facts.marker.status === 'missing') {
    reasons.push(
      `${resolved} has no .sdp-root marker, so it is not known as the platform's ${kind} root (\`make init-volumes\` marks the configured roots)`,
    );
  } else if (facts.marker.status === 'invalid') {
    reasons.push(`${resolved}/.sdp-root is not a valid marker (${facts.marker.reason})`);
  } else if (facts.marker.marker.kind !== kind) {
    reasons.push(`${resolved} is marked as the platform's ${facts.marker.marker.kind} root, not its ${kind} root`);
  }
  return [...new Set(reasons)];
}
