/**
 * The rules of the owner's compaction inside `run`/`etl` (architecture.md, "Compaction" and "Who rewrites a
 * partition's files"). Pure: names, sizes and listings in, decisions out; etl/ownerCompaction.ts does the I/O.
 *
 * - *What the owner of (topic, p) merges*: the planner's merges (lake/compactionPlan.ts: never a file of the
 *   partition's newest commit) restricted to its own units, `p<p>` of the topic's table and `p<p>-<topic>` of
 *   `_rejected`.
 * - *What a committed merge replaces*: the unit's files whose range lies inside the merged one. Offsets of a commit are
 *   at or below its raw floor and a later roll's are above it, so those are exactly the merge's inputs.
 * - *Whether to exchange*: the unit's listing right before the exchange must be the one the new version was built
 *   from, and must not hold the merged file. A member frozen between its compaction commit and its exchange may wake
 *   after the next owner completed the swap and rolled new files into the unit: its version would drop them.
 */
import type { CommitMerge } from './commitMetadata.js';
import { type PlannedMerge, planCompaction, type UnitFile } from '../lake/compactionPlan.js';
import { rawUnit, rejectedUnit } from '../lake/layout.js';

const RANGE = /-(\d{20})-(\d{20})\.parquet$/;

/** The merges the owner of `topic`'s partition `partition` makes among its files (`table`: the topic's raw table). */
export function planOwnerMerges(
  files: readonly UnitFile[],
  topic: string,
  partition: number,
  table: 'clickstream' | 'iot',
  targetBytes: number,
): PlannedMerge[] {
  const own = new Set([`${table}/${rawUnit(partition)}`, `_rejected/${rejectedUnit(topic, partition)}`]);
  const mine = files.filter((f) => {
    const parts = f.path.split('/');
    return parts.length === 5 && own.has(`${parts[1]}/${parts[3]}`);
  });
  // The raw and `_rejected` files of a roll share one newest commit: both tables map to the partition's topic.
  return planCompaction(mine, targetBytes, { clickstream: topic, iot: topic }).filter((m) =>
    own.has(`${m.table}/${m.unit}`),
  );
}

/** The merge a compaction commit names for `merge` (its merged name's range). */
export function commitMergeOf(merge: PlannedMerge): CommitMerge {
  const m = RANGE.exec(merge.merged);
  if (!m || (merge.table !== 'clickstream' && merge.table !== 'iot' && merge.table !== '_rejected'))
    throw new RangeError(`not a partition's merged file: ${merge.table} ${merge.merged}`);
  return { table: merge.table, dt: merge.dt, first: BigInt(m[1]!).toString(), last: BigInt(m[2]!).toString() };
}

/**
 * The names of a unit listing a committed merge replaces: the files inside its range, the merged one aside. Undefined
 * when a file straddles the range: the unit was compacted otherwise since (`lake compact` with the platform stopped,
 * runs cut elsewhere), and the merged file would hold rows that file holds too.
 */
export function replacedByMerge(
  listing: readonly string[],
  merge: CommitMerge,
  mergedName: string,
): string[] | undefined {
  const first = BigInt(merge.first);
  const last = BigInt(merge.last);
  const inside: string[] = [];
  for (const name of listing) {
    const m = RANGE.exec(name);
    if (name === mergedName || m === null) continue;
    const [f, l] = [BigInt(m[1]!), BigInt(m[2]!)];
    if (f >= first && l <= last) inside.push(name);
    else if (f <= last && l >= first) return undefined;
  }
  return inside.sort();
}

export type ExchangeDecision = 'exchange' | 'already-merged' | 'unit-changed';

/** Whether the version built from `builtFrom` may replace the unit that lists `now` (see the module comment). */
export function exchangeDecision(
  builtFrom: readonly string[],
  now: readonly string[],
  mergedName: string,
): ExchangeDecision {
  if (now.includes(mergedName)) return 'already-merged';
  if (now.length !== builtFrom.length) return 'unit-changed';
  const before = new Set(builtFrom);
  return now.every((name) => before.has(name)) ? 'exchange' : 'unit-changed';
}
