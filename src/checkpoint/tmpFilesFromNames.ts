/**
 * What a takeover without commit metadata does with a partition's tmp files (architecture.md, "Rebuilding from the
 * lake" and "The takeover order"): the file names are the truth. A tmp file whose range a final file also names was
 * committed and its rename interrupted: it is renamed, unless its final name exists already (renaming over a file
 * readers may hold open would change it) or another tmp file of the same final name came first (a copy). Every other
 * tmp file is deleted. Pure; the raw partitions' plan and the window stage's share it.
 */
import type { Rename } from './checkpointState.js';

/** A tmp or final file as the partition's file-name parser gives it: its path, final path and offset range. */
export interface RangedFile {
  path: string;
  final: string;
  first: string;
  last: string;
}

export function tmpFilesFromNames(
  tmp: readonly RangedFile[],
  finals: readonly RangedFile[],
): { renames: Rename[]; deletes: string[] } {
  const finalPaths = new Set(finals.map((f) => f.final));
  const committedRanges = new Set(finals.map(rangeKey));
  const renames: Rename[] = [];
  const deletes: string[] = [];
  const renamedTo = new Set<string>();
  for (const t of [...tmp].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (committedRanges.has(rangeKey(t)) && !finalPaths.has(t.final) && !renamedTo.has(t.final)) {
      renames.push({ from: t.path, to: t.final });
      renamedTo.add(t.final);
    } else {
      deletes.push(t.path);
    }
  }
  return { renames, deletes };
}

function rangeKey(f: RangedFile): string {
  return `${f.first}-${f.last}`;
}
