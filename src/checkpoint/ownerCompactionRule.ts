/**
 * The rules of the owner's compaction inside `run`/`etl` (architecture.md, "Compaction" and "Who rewrites a
 * partition's files"). Pure: names, sizes and listings in, decisions out; etl/ownerCompaction.ts does the I/O.
 *
 * - *What the process aggregator merges* (`etl.windows: process`): the same, over its `agg` units, checkpoint ids for
 *   offsets (lake/aggFileName.ts).
 * - *What the owner of (topic, p) merges*: the planner's merges (lake/compactionPlan.ts: never a file of the
 *   partition's newest commit) restricted to its own units, `p<p>` of the topic's table and `p<p>-<topic>` of
 *   `_rejected`. Stage-2 task r (`etl.windows: members`) merges its unit `r<r>` of `clickstream_agg` the same way.
 * - *What a committed merge replaces*: the unit's files whose range lies inside the merged one. Offsets of a commit are
 *   at or below its raw floor and a later roll's are above it, so those are exactly the merge's inputs.
 * - *Whether to exchange*: the unit's listing right before the exchange must be the one the new version was built
 *   from, and must not hold the merged file. A member frozen between its compaction commit and its exchange may wake
 *   after the next owner completed the swap and rolled new files into the unit: its version would drop them.
 */
import type { CommitMerge } from './commitMetadata.js';
import { mergedFileName, type PlannedMerge, planCompaction, type UnitFile } from '../lake/compactionPlan.js';
import { parseAggFileName } from '../lake/aggFileName.js';
import { rawUnit, rejectedUnit } from '../lake/layout.js';
import type { TableName } from '../lake/tables.js';

/** `-<first>-<last>.parquet` at the end of a file name with an offset (or checkpoint id) range: the one such pattern. */
const RANGE = /-(\d{20})-(\d{20})\.parquet$/;

/**
 * The merges the owner of `topic`'s partition `partition` makes among its files (`table`: the topic's raw table).
 * In `today`'s dt (UTC), still written at the full rate, a merge also leaves out each leading input larger than the
 * inputs after it together (`geometric`): otherwise every interval would rewrite the day's growing merged file whole
 * (some 140 rewrites of up to 128 MB a partition a day at the default rates); this way a byte is rewritten about
 * log2(day / roll) times. Older dts only get late events and are merged as `lake compact` merges them.
 */
export function planOwnerMerges(
  files: readonly UnitFile[],
  topic: string,
  partition: number,
  table: 'clickstream' | 'iot',
  targetBytes: number,
  today: string,
): PlannedMerge[] {
  const own = new Set([`${table}/${rawUnit(partition)}`, `_rejected/${rejectedUnit(topic, partition)}`]);
  const mine = files.filter((f) => {
    const parts = f.path.split('/');
    return parts.length === 5 && own.has(`${parts[1]}/${parts[3]}`);
  });
  // The raw and `_rejected` files of a roll share one newest commit: both tables map to the partition's topic.
  const merges = planCompaction(mine, targetBytes, { clickstream: topic, iot: topic });
  return currentDayRule(
    merges.filter((m) => own.has(`${m.table}/${m.unit}`)),
    mine,
    today,
  );
}

/**
 * The merges the owner of one unit makes among its files: the process-mode window aggregator's `agg` units of
 * `clickstream_agg` (checkpoint ids for offsets), or stage-2 task r's `r<r>`. The planner's (never a file of the
 * owner's newest commit or checkpoint: it may still be named in a rename to complete), restricted to `unit` of
 * `table`, with the same rule for `today`'s dt as {@link planOwnerMerges}.
 */
export function planUnitMerges(
  files: readonly UnitFile[],
  table: TableName,
  unit: string,
  targetBytes: number,
  today: string,
): PlannedMerge[] {
  const mine = files.filter((f) => {
    const parts = f.path.split('/');
    return parts.length === 5 && parts[1] === table && parts[3] === unit;
  });
  const merges = planCompaction(mine, targetBytes, { clickstream: 'clickstream', iot: 'iot' });
  return currentDayRule(
    merges.filter((m) => m.table === table && m.unit === unit),
    mine,
    today,
  );
}

/** `merges` with the rule for `today`'s dt: each leading input larger than the inputs after it together stays out. */
function currentDayRule(merges: readonly PlannedMerge[], files: readonly UnitFile[], today: string): PlannedMerge[] {
  const sizes = new Map(files.map((f) => [f.path, f.sizeBytes]));
  return merges.flatMap((m) => {
    if (m.dt < today) return [m];
    const sizeOf = (name: string): number => sizes.get(`tables/${m.table}/dt=${m.dt}/${m.unit}/${name}`) ?? 0;
    const kept = geometric(m.inputs.map((name) => ({ name, bytes: sizeOf(name) })));
    return kept.length === m.inputs.length ? [m] : kept.length >= 2 ? [retarget(m, kept)] : [];
  });
}

/** The inputs from the first one that is no larger than the inputs after it together (offset order kept). */
function geometric(inputs: ReadonlyArray<{ name: string; bytes: number }>): Array<{ name: string; bytes: number }> {
  let after = inputs.reduce((sum, f) => sum + f.bytes, 0);
  for (let i = 0; i < inputs.length; i++) {
    after -= inputs[i]!.bytes;
    if (inputs[i]!.bytes <= after) return inputs.slice(i);
  }
  return [];
}

/** `merge` over its last inputs only: the merged name starts at the first of them. */
function retarget(merge: PlannedMerge, kept: ReadonlyArray<{ name: string; bytes: number }>): PlannedMerge {
  // An aggregator's `part-<checkpointId>` has one id: its first.
  const head = RANGE.exec(kept[0]!.name);
  const first = head ? BigInt(head[1]!) : parseAggFileName(kept[0]!.name)!.first;
  const range = RANGE.exec(merge.merged)!;
  const prefix = merge.merged.slice(0, merge.merged.length - range[0].length);
  return {
    ...merge,
    inputs: kept.map((f) => f.name),
    inputBytes: kept.reduce((sum, f) => sum + f.bytes, 0),
    merged: mergedFileName(prefix, first, BigInt(range[2]!)),
  };
}

/** The offset range (decimal, unpadded) of a planned merge's merged name `…-<first>-<last>.parquet`. */
export function mergedRangeOf(merge: PlannedMerge): { first: string; last: string } {
  const m = RANGE.exec(merge.merged);
  if (!m) throw new RangeError(`not a merged file name: ${merge.table} ${merge.merged}`);
  return { first: BigInt(m[1]!).toString(), last: BigInt(m[2]!).toString() };
}

/** The merge a compaction commit of an input partition names for `merge` (its merged name's range). */
export function commitMergeOf(merge: PlannedMerge): CommitMerge {
  if (merge.table !== 'clickstream' && merge.table !== 'iot' && merge.table !== '_rejected')
    throw new RangeError(`not a partition's merged file: ${merge.table} ${merge.merged}`);
  return { table: merge.table, dt: merge.dt, ...mergedRangeOf(merge) };
}

/**
 * The names of a unit listing a committed merge replaces: the files inside its range, the merged one aside. Undefined
 * when a file straddles the range: the unit was compacted otherwise since (`lake compact` with the platform stopped,
 * runs cut elsewhere), and the merged file would hold rows that file holds too.
 */
export function replacedByMerge(
  listing: readonly string[],
  merge: Pick<CommitMerge, 'first' | 'last'>,
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
