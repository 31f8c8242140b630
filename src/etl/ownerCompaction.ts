/**
 * The owner's compaction inside `run`/`etl` (architecture.md, "Compaction" and "Who rewrites a partition's files"):
 * the task of input partition p merges its own units' small files as one more commit of its own. Its I/O; the rules
 * are checkpoint/ownerCompactionRule.ts. The checkpointer runs the commit and the swap on the task's chain, so no roll
 * of the partition commits meanwhile nor renames into a unit while its version is built; the merge itself (seconds for
 * a day) runs beside the rolls on a worker thread, reading files no roll changes.
 *
 * One merge: merged tmp file with the task's writer id (a takeover treats it as any tmp file of the partition) →
 * `commit` (a Kafka transaction with the partition's last offset and metadata naming the merge) → the unit's new
 * version, checked against the unit again, exchanged. A refused commit deletes the tmp file and swaps nothing; a
 * crash after the commit leaves the swap to the next takeover (etl/partitionTakeover.ts).
 *
 * The steps after the plan are the same for every owner whose commit is a Kafka transaction: stage-2 task r merges its
 * `r<r>` unit with them too (etl/stage2TaskCompaction.ts), its commit passed as a callback.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CommitMerge } from '../checkpoint/commitMetadata.js';
import type { CommittedMerge } from '../checkpoint/committedMerge.js';
import { commitMergeOf, planOwnerMerges, replacedByMerge } from '../checkpoint/ownerCompactionRule.js';
import { writeMergedTmp } from '../lake/compaction.js';
import type { PlannedMerge, UnitFile } from '../lake/compactionPlan.js';
import { dirEntries } from '../lake/dirEntries.js';
import { pathExists, removeIfExists } from '../lake/durableFs.js';
import { dtOfMs, rawUnit, rejectedUnit, unitPath } from '../lake/layout.js';
import { listPartitionFiles } from '../lake/partitionTmpFiles.js';
import { SWAP_DIR, type SwapOutcome, swapPartitionFiles, swapStagingDir, vacuumSwaps } from '../lake/readerSafeSwap.js';
import { type ExpiryOwner, expiresUnit, ownedUnits } from '../lake/ownerExpiryRule.js';
import type { TableName } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';
import { hitFault, type MergeFaults, OWNER_MERGE_FAULTS } from '../system/faults.js';
import { settleCommittedMerge } from './mergeCompletion.js';

export interface OwnerPartition {
  lakeRoot: string;
  topic: string;
  partition: number;
  /** The topic's raw table. */
  table: 'clickstream' | 'iot';
}

/** The merges the owner makes now among its committed files (sizes from stat; a file gone meanwhile is skipped). */
export async function planPartitionMerges(
  owner: OwnerPartition,
  targetBytes: number,
  nowMs: number = Date.now(),
): Promise<PlannedMerge[]> {
  const { lakeRoot, topic, partition, table } = owner;
  const { finalFiles } = await listPartitionFiles(lakeRoot, [table, '_rejected'], topic, partition);
  return planOwnerMerges(await withSizes(lakeRoot, finalFiles), topic, partition, table, targetBytes, dtOfMs(nowMs));
}

/** Lake-relative committed files with their sizes (stat); a file gone meanwhile is left out. */
export async function withSizes(lakeRoot: string, finalFiles: readonly string[]): Promise<UnitFile[]> {
  const files: UnitFile[] = [];
  for (const file of finalFiles) {
    const size = await stat(path.join(lakeRoot, file)).then(
      (st) => st.size,
      () => undefined,
    );
    if (size !== undefined) files.push({ path: file, sizeBytes: size });
  }
  return files;
}

/**
 * The merged tmp file of `merge` with the owner's writer id. Reads committed files no roll changes (never the
 * newest commit's), so it runs beside the task's rolls; only `publishOwnerMerge` belongs on the task's chain.
 */
export async function prepareOwnerMerge(
  lakeRoot: string,
  merge: PlannedMerge,
  writer: string,
  faults: MergeFaults = OWNER_MERGE_FAULTS,
): Promise<string> {
  const mergedTmp = await writeMergedTmp(lakeRoot, merge, writer);
  hitFault(faults.mergedTmp);
  return mergedTmp;
}

/**
 * On the task's chain: `commit(merge)`, then the unit's exchange (recheck on). Resolves how the swap ended
 * ('discarded' too when an input left the unit before the commit: nothing committed). Rejects with the commit's error
 * after deleting the tmp file (nothing swapped), or with a file error after the commit: the tmp file and any version
 * built are removed, so the next takeover finds nothing to complete and the inputs stay.
 */
export function publishOwnerMerge(
  lakeRoot: string,
  merge: PlannedMerge,
  mergedTmp: string,
  commit: (merge: CommitMerge) => Promise<void>,
  nowMs: () => number = Date.now,
): Promise<SwapOutcome> {
  return publishMerge(lakeRoot, merge, mergedTmp, () => commit(commitMergeOf(merge)), nowMs);
}

/**
 * {@link publishOwnerMerge} for any owner and commit point: a partition's or a stage-2 task's Kafka transaction naming
 * `merge` (whatever its metadata), or the process aggregator's journal event in the checkpoint store
 * (etl/aggregatorCompaction.ts).
 */
export async function publishMerge(
  lakeRoot: string,
  merge: PlannedMerge,
  mergedTmp: string,
  commit: () => Promise<void>,
  nowMs: () => number = Date.now,
  faults: MergeFaults = OWNER_MERGE_FAULTS,
): Promise<SwapOutcome> {
  const liveDir = unitPath(lakeRoot, merge.table, merge.dt, merge.unit);
  const live = new Set(await readdir(liveDir).catch(() => [] as string[]));
  if (live.has(merge.merged) || !merge.inputs.every((name) => live.has(name))) {
    await removeIfExists(mergedTmp);
    return 'discarded';
  }
  try {
    await commit();
  } catch (err) {
    await removeIfExists(mergedTmp);
    throw err;
  }
  hitFault(faults.commit);
  const stagingDir = swapStagingDir(lakeRoot, merge.table, merge.dt, merge.unit, merge.merged);
  try {
    return await swapPartitionFiles(
      { liveDir, stagingDir, replaced: merge.inputs, mergedTmp, mergedName: merge.merged, recheck: true },
      nowMs(),
      {
        built: () => hitFault(faults.versionBuilt),
        exchanged: () => hitFault(faults.exchange),
      },
    );
  } catch (err) {
    // Not exchanged: nothing of the attempt stays. Exchanged: the version in _swap is the old one, for the vacuum.
    if (!(await pathExists(path.join(liveDir, merge.merged)))) await rm(stagingDir, { recursive: true, force: true });
    await removeIfExists(mergedTmp);
    throw err;
  }
}

/**
 * Deletes the old versions of the owner's units in `_swap` once `lake.vacuum_grace` passed, whoever compacted them
 * (`lake compact` before, or this owner); returns how many.
 */
export async function vacuumOwnUnits(owner: OwnerPartition, graceMs: number, nowMs: number): Promise<number> {
  const units: Array<[TableName, string]> = [
    [owner.table, rawUnit(owner.partition)],
    ['_rejected', rejectedUnit(owner.topic, owner.partition)],
  ];
  return vacuumUnits(owner.lakeRoot, units, graceMs, nowMs);
}

/** The old versions in `_swap` of any owner's `units` ([table, unit]) older than `graceMs`, deleted; returns how many. */
export async function vacuumUnits(
  lakeRoot: string,
  units: ReadonlyArray<readonly [TableName, string]>,
  graceMs: number,
  nowMs: number,
): Promise<number> {
  let removed = 0;
  for (const [table, unit] of units) {
    const swapTable = path.join(lakeRoot, SWAP_DIR, table);
    for (const dt of await dirEntries(swapTable)) {
      if (dt.isDirectory()) removed += (await vacuumSwaps(path.join(swapTable, dt.name), unit, graceMs, nowMs)).length;
    }
  }
  return removed;
}

/**
 * The units whose old versions in `_swap` `owner` vacuums: its own, and the `clickstream_agg` units nobody owns that
 * it expires too (lake/ownerExpiryRule.ts `expiresUnit`: the aggregator in process mode, stage-2 task 0 in members
 * mode), as `_swap/clickstream_agg/dt=*` lists them (`<unit>.<merged name>`, lake/readerSafeSwap.ts). Without it the
 * versions a unit left there before a switch of `etl.windows` would stay for ever.
 */
export async function vacuumedUnits(lakeRoot: string, owner: ExpiryOwner): Promise<Array<[TableName, string]>> {
  const units = new Map(ownedUnits(owner).map((u): [string, [TableName, string]] => [u.unit, [u.table, u.unit]]));
  const swapTable = path.join(lakeRoot, SWAP_DIR, 'clickstream_agg');
  for (const dt of await dirEntries(swapTable)) {
    if (!dt.isDirectory()) continue;
    for (const entry of await dirEntries(path.join(swapTable, dt.name))) {
      const unit = entry.name.split('.')[0]!;
      if (entry.isDirectory() && !units.has(unit) && expiresUnit(owner, 'clickstream_agg', unit))
        units.set(unit, ['clickstream_agg', unit]);
    }
  }
  return [...units.values()];
}

/**
 * The swap of a compaction the last commit named, before the owner reads on (architecture.md, "Compaction"): the
 * unit's files inside the merged range are the merge's inputs (checkpoint/ownerCompactionRule.ts), and the tmp file
 * is exchanged only if it passes etl/mergeCompletion.ts's check. Used by the takeover of an input partition and of a
 * stage-2 task.
 */
export function completeCommittedMerge(
  lakeRoot: string,
  merge: CommittedMerge,
  logger: Logger,
  where: Record<string, unknown>,
): Promise<SwapOutcome> {
  return settleCommittedMerge(
    lakeRoot,
    {
      unitDir: merge.unitDir,
      tmpPath: merge.tmpPath,
      mergedName: merge.mergedName,
      replaced: (listing) => replacedByMerge(listing, merge, merge.mergedName),
    },
    logger,
    where,
  );
}

/** The log fields of one merge, the same for every owner's "unit compacted by its owner" line. */
export function mergeLogFields(merge: PlannedMerge) {
  return {
    table: merge.table,
    dt: merge.dt,
    unit: merge.unit,
    files: merge.inputs.length,
    bytes: merge.inputBytes,
    merged: merge.merged,
  };
}
