import path from 'node:path';
import type { AggMerge } from '../checkpoint/checkpointState.js';
import { planUnitMerges } from '../checkpoint/ownerCompactionRule.js';
import type { PlannedMerge } from '../lake/compactionPlan.js';
import { listDtFiles } from '../lake/dirEntries.js';
import { pathExists } from '../lake/durableFs.js';
import { AGG_UNIT, dtOfMs } from '../lake/layout.js';
import type { SwapOutcome } from '../lake/readerSafeSwap.js';
import type { Logger } from '../log/logger.js';
import { settleCommittedMerge } from './mergeCompletion.js';
import { AGG_MERGE_FAULTS } from '../system/faults.js';
import { publishMerge, vacuumedUnits, vacuumUnits, withSizes } from './ownerCompaction.js';

const AGG_TABLE = 'clickstream_agg';

/** The merges the aggregator makes now among the committed files of its units (sizes from stat). */
export async function planAggregatorMerges(
  lakeRoot: string,
  targetBytes: number,
  nowMs: number = Date.now(),
): Promise<PlannedMerge[]> {
  const inUnits = (await listDtFiles(lakeRoot, AGG_TABLE, (unit) => unit === AGG_UNIT)).flatMap((dt) => dt.files);
  // A file of the dt directory itself (a tmp file, or a name from before units) is no input: not even stat'ed.
  const files = await withSizes(
    lakeRoot,
    inUnits.filter((file) => file.split('/').length === 5),
  );
  return planUnitMerges(files, AGG_TABLE, AGG_UNIT, targetBytes, dtOfMs(nowMs));
}

/** The journal event that commits `merge` (paths lake-relative, so the lake can move). */
export function aggMergeEvent(lakeRoot: string, merge: PlannedMerge, mergedTmp: string): AggMerge {
  return {
    type: 'aggMerge',
    unitDir: `tables/${AGG_TABLE}/dt=${merge.dt}/${AGG_UNIT}`,
    inputs: [...merge.inputs],
    merged: merge.merged,
    tmp: path.relative(lakeRoot, mergedTmp).split(path.sep).join('/'),
  };
}

/**
 * In the checkpointer's mailbox: `journal` the merge, then exchange the unit (recheck on). Resolves and rejects as
 * etl/ownerCompaction.ts `publishOwnerMerge` (the journal's error: the tmp file deleted, nothing swapped).
 */
export function publishAggMerge(
  lakeRoot: string,
  merge: PlannedMerge,
  mergedTmp: string,
  journal: (event: AggMerge) => Promise<void>,
): Promise<SwapOutcome> {
  return publishMerge(
    lakeRoot,
    merge,
    mergedTmp,
    () => journal(aggMergeEvent(lakeRoot, merge, mergedTmp)),
    Date.now,
    AGG_MERGE_FAULTS,
  );
}

/**
 * At the start, before the aggregator's tmp files are swept: the exchange of the latest journaled merge whose tmp file
 * is still there (undefined when it is not: exchanged, or settled before). A unit that holds the merged file only loses
 * the tmp link; one that lacks an input (its dt expired, or `lake compact` merged it otherwise with the platform
 * stopped) keeps its files, and so does one whose tmp file fails etl/mergeCompletion.ts's row check (a later round's
 * write under the same name, interrupted); the tmp file goes: never a row twice, never one lost.
 */
export async function completeJournaledAggMerge(
  lakeRoot: string,
  merge: AggMerge,
  logger: Logger,
): Promise<SwapOutcome | undefined> {
  if (!(await pathExists(path.join(lakeRoot, merge.tmp)))) return undefined;
  return settleCommittedMerge(
    lakeRoot,
    {
      unitDir: merge.unitDir,
      tmpPath: merge.tmp,
      mergedName: merge.merged,
      replaced: (listing) => (merge.inputs.every((name) => listing.includes(name)) ? merge.inputs : undefined),
    },
    logger,
    { owner: 'aggregator' },
  );
}

/**
 * Deletes the old versions in `_swap` of the `agg` units, and of the `r<r>` units nobody owns in process mode
 * (`vacuumedUnits`), once `lake.vacuum_grace` passed; returns how many.
 */
export async function vacuumAggUnits(lakeRoot: string, graceMs: number, nowMs: number): Promise<number> {
  return vacuumUnits(lakeRoot, await vacuumedUnits(lakeRoot, { kind: 'aggregator' }), graceMs, nowMs);
}
