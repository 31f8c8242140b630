/**
 * What a takeover without commit metadata does with a partition's tmp files (architecture.md, "Rebuilding from the
 * lake" and "The takeover order"): the file names are the truth. A tmp file whose range a final file also names was
 * committed and its rename interrupted: it is renamed, unless its final name exists already (renaming over a file
 * readers may hold open would change it), another tmp file of the same final name came first (a copy), or it is a
 * compaction's merged file (`overlapsItsUnit`). Every other tmp file is deleted. Pure; the raw partitions' plan and the window stage's share it.
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
    if (
      committedRanges.has(rangeKey(t)) &&
      !finalPaths.has(t.final) &&
      !renamedTo.has(t.final) &&
      !overlapsItsUnit(t, finals)
    ) {
      renames.push({ from: t.path, to: t.final });
      renamedTo.add(t.final);
    } else {
      deletes.push(t.path);
    }
  }
  return { renames, deletes };
}

/**
 * A tmp file whose range meets a committed file of its own unit under another name is a compaction's merged file
 * (architecture.md, "Compaction"): a unit's ranges never intersect, so a roll's tmp file never does. Without the commit
 * that named it there is no telling whether it was published, and renaming it beside its inputs would show their rows
 * twice: it is deleted (the inputs stay, unmerged). Its range may still equal a file of another table's unit, merged
 * over the same rolls.
 */
function overlapsItsUnit(t: RangedFile, finals: readonly RangedFile[]): boolean {
  const unit = t.final.slice(0, t.final.lastIndexOf('/') + 1);
  const [first, last] = [BigInt(t.first), BigInt(t.last)];
  return finals.some(
    (f) =>
      f.final !== t.final &&
      f.final.startsWith(unit) &&
      !f.final.slice(unit.length).includes('/') &&
      BigInt(f.first) <= last &&
      BigInt(f.last) >= first,
  );
}

function rangeKey(f: RangedFile): string {
  return `${f.first}-${f.last}`;
}
