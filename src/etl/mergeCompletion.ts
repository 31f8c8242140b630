/**
 * The completion of a merge past its commit point, found by the next owner with its merged tmp file still there
 * (architecture.md, "Compaction"): a raw partition's or a stage-2 task's takeover (the commit names the merged range)
 * and the process aggregator's recovery (its journal event names the inputs). One rule for all three.
 *
 * The tmp file at the path the commit names is not necessarily the one that commit covered: an exchange that failed
 * after the commit deletes it, the next round plans the same merge under the same path, and a crash while the worker
 * streams it leaves a truncated file there. So the file is exchanged only if its footer is readable and counts the rows
 * of the inputs it replaces, as `writeMergedTmp` checked when it was written; otherwise it is deleted and the inputs
 * stay: never a row lost, never one twice.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { removeIfExists } from '../lake/durableFs.js';
import { readRowCount } from '../lake/parquetFooter.js';
import { type SwapOutcome, swapPartitionFiles, swapStagingDir } from '../lake/readerSafeSwap.js';
import type { TableName } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';

export interface MergeToSettle {
  /** Lake-relative: the unit (`tables/<table>/dt=<D>/<unit>`) and the merged tmp file the commit names. */
  unitDir: string;
  tmpPath: string;
  mergedName: string;
  /**
   * The unit's files the merged file replaces, read from its listing now (the caller's rule: a range or the journaled
   * names); undefined or empty when the unit no longer holds them all.
   */
  replaced: (listing: readonly string[]) => readonly string[] | undefined;
}

/** Why the tmp file cannot stand for the inputs (undefined: it can). */
async function rowCheck(liveDir: string, mergedTmp: string, replaced: readonly string[]): Promise<string | undefined> {
  let expected = 0;
  for (const name of replaced) {
    try {
      expected += await readRowCount(path.join(liveDir, name));
    } catch (err) {
      return `input ${name} has no readable footer (${String(err)})`;
    }
  }
  let rows: number;
  try {
    rows = await readRowCount(mergedTmp);
  } catch (err) {
    return `the merged tmp file has no readable footer (${String(err)}): written after the commit, interrupted`;
  }
  if (rows !== expected) return `the merged tmp file holds ${rows} rows, its ${replaced.length} inputs ${expected}`;
  return undefined;
}

/**
 * Exchanges the unit (the old version waits in `_swap` for the vacuum) or discards the tmp file; logs the outcome
 * with `where` (warn when the tmp file failed its check). Idempotent: a unit that holds the merged file already only
 * loses the tmp link.
 */
export async function settleCommittedMerge(
  lakeRoot: string,
  merge: MergeToSettle,
  logger: Logger,
  where: Record<string, unknown>,
): Promise<SwapOutcome> {
  const liveDir = path.join(lakeRoot, merge.unitDir);
  const mergedTmp = path.join(lakeRoot, merge.tmpPath);
  const listing = await readdir(liveDir).catch(() => [] as string[]);
  const fields = { component: 'compaction', ...where, unit: merge.unitDir, merged: merge.mergedName };
  const discard = async (reason: string, suspect: boolean): Promise<SwapOutcome> => {
    await removeIfExists(mergedTmp);
    const entry = { ...fields, outcome: 'discarded' as const, reason };
    if (suspect)
      logger.warn(entry, 'compaction named by the last commit discarded: its merged tmp file failed its check');
    else logger.info(entry, 'compaction named by the last commit settled');
    return 'discarded';
  };
  let replaced: readonly string[] = [];
  if (!listing.includes(merge.mergedName)) {
    const found = merge.replaced(listing);
    // Its unit gone (retention), holding not all of its inputs, or compacted otherwise since: the merged file would
    // only add rows twice. The inputs' rows are all there, unmerged.
    if (found === undefined || found.length === 0)
      return discard('the unit no longer holds the inputs (expired or compacted otherwise)', false);
    const failed = await rowCheck(liveDir, mergedTmp, found);
    if (failed !== undefined) return discard(failed, true);
    replaced = found;
  }
  const [table, dtName, unit] = merge.unitDir.split('/').slice(1);
  const outcome = await swapPartitionFiles({
    liveDir,
    stagingDir: swapStagingDir(lakeRoot, table as TableName, dtName!.slice('dt='.length), unit!, merge.mergedName),
    replaced,
    mergedTmp,
    mergedName: merge.mergedName,
  });
  logger.info({ ...fields, outcome }, 'compaction named by the last commit settled');
  return outcome;
}
