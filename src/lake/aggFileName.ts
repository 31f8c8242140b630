/**
 * The process-mode window aggregator's file names in its `agg` unit (architecture.md, "Who rewrites a partition's
 * files" and "Compaction"): `part-<checkpointId>.parquet`, the windows one checkpoint emitted into that dt, and
 * `part-<firstId>-<lastId>.parquet`, the aggregator's compaction of the unit's files of checkpoints first..last (named
 * by lake/compactionPlan.ts `mergedFileName`, as every merged file).
 * Ids 20 digits, zero-padded, so lexical order is numeric order.
 *
 * - No other writer's name: a partition's and a stage-2 task's (`part-<r>-<first>-<last>`) have three numbers.
 * - No collision: a unit's ranges never intersect (a merge takes a run of the unit's files in id order, never the
 *   newest checkpoint's), and a new checkpoint id is above every id the lake names, also after `data clean
 *   --checkpoints` (the rebuild continues after the largest `lastId`, checkpoint/offsetsFromLake.ts) and after
 *   retention (the expiry record keeps the largest expired one).
 */

/** The name's pattern, first id then the optional last id as groups; for the parsers' path regexes. */
export const AGG_NAME_PATTERN = 'part-(\\d{20})(?:-(\\d{20}))?\\.parquet';

const NAME = new RegExp(`^${AGG_NAME_PATTERN}$`);

/** The checkpoint ids a name covers (one checkpoint: first = last); undefined for any other name. */
export function parseAggFileName(name: string): { first: bigint; last: bigint } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const first = BigInt(m[1]!);
  const last = BigInt(m[2] ?? m[1]!);
  return first <= last ? { first, last } : undefined;
}
