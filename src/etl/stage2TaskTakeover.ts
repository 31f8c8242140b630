/**
 * What a new owner of stage-2 task r does before it reads repartition partition r (architecture.md, "Windows across
 * members", in the takeover order of "The takeover order"): fence the previous holder of r's transactional id
 * (InitProducerId aborts its open transaction; none of its commits succeeds after this), read the committed offset and
 * its metadata stably, read the latest snapshot of r from the state topic, complete the renames the last commit named,
 * delete every other tmp file of r, complete the swap of a compaction the last commit named (architecture.md,
 * "Compaction"), and say where the task resumes with which state. The rule is a pure module
 * (windows/stage2TakeoverPlan.ts); this is its I/O, the caller seeks and resumes.
 */
import type { PartitionTransactions } from '../kafka/partitionTransactions.js';
import type { StableOffset } from '../kafka/wire/offsetFetch.js';
import { aggEmittedUntilMs } from '../lake/aggEmittedUntil.js';
import { listAggTaskFiles } from '../lake/aggTaskFiles.js';
import type { Logger } from '../log/logger.js';
import type { SwapOutcome } from '../lake/readerSafeSwap.js';
import { completeCommittedMerge } from './ownerCompaction.js';
import { applyTakeoverFiles } from './takeoverFiles.js';
import { decodeStage2CommitMetadata, type Stage2CommitFiles } from '../windows/stage2CommitMetadata.js';
import { planStage2Takeover, type Stage2TakeoverPlan } from '../windows/stage2TakeoverPlan.js';
import type { Stage2Options, Stage2State } from '../windows/stage2Windows.js';

export interface Stage2TakeoverFacts {
  lakeRoot: string;
  logger: Logger;
  /** r, R and the window size. */
  options: Stage2Options;
  /** The task's transactional producer, not yet taken over. */
  transactions: PartitionTransactions;
  /** The repartition topic's id now (null if the broker does not tell). */
  topicId: string | null;
  /** The group's committed offset and metadata of r, read stably (wire/offsetFetch.ts). */
  fetchCommitted(): Promise<StableOffset>;
  /** The latest snapshot of r in the state topic (kafka/stateTopicReader.ts); null if none. */
  readState(): Promise<Buffer | null>;
  /**
   * Asked before the tmp files are deleted: false (r was revoked meanwhile) deletes none, since its next owner may be
   * writing some already. Default: always owned.
   */
  stillOwned?(): boolean;
}

export interface Stage2TaskStart {
  state: Stage2State;
  /** The next repartition offset to read. */
  resume: bigint;
  source: Stage2TakeoverPlan['source'];
  renamed: number;
  /** Committed files neither tmp nor final: logged as errors (retention, or lost data). */
  missing: number;
  deleted: number;
  /** The files the last commit named (its metadata's), carried again by a compaction commit; null: none or unknown. */
  committedFiles: Stage2CommitFiles | null;
  /** How the swap of a merge the last commit named ended; undefined: none to complete. */
  merged?: SwapOutcome;
  durationMs: number;
}

export async function takeOverStage2Task(facts: Stage2TakeoverFacts): Promise<Stage2TaskStart> {
  const startedMs = Date.now();
  const { lakeRoot, options } = facts;
  const r = options.partition;
  // Fence first: whatever the previous holder still sends after this cannot commit.
  await facts.transactions.takeOver();
  const fencedAtMs = Date.now();
  const committed = await facts.fetchCommitted();
  const metadata = decodeStage2CommitMetadata(committed.metadata, `repartition partition ${r}`);
  const snapshot = await facts.readState();
  const files = await listAggTaskFiles(lakeRoot, r);
  const fresh = metadata === null && snapshot === null;
  const emittedUntilMs = fresh ? await aggEmittedUntilMs(lakeRoot, r, options.partitions) : undefined;
  const plan = planStage2Takeover({
    options,
    committed: { offset: committed.offset, metadata, topicId: facts.topicId },
    snapshot,
    tmpFiles: files.tmpFiles,
    finalFiles: files.finalFiles,
    ...(emittedUntilMs !== undefined ? { emittedUntilMs } : {}),
  });
  // Deletes only while still the owner (a revoke during a slow takeover), and only what predates the fence.
  const { renamed, missing, deleted } = await applyTakeoverFiles({
    lakeRoot,
    renames: plan.renames,
    deletes: (facts.stillOwned?.() ?? true) ? plan.deletes : [],
    fencedAtMs,
    logger: facts.logger,
    where: { repartition_partition: r },
  });
  // Before r is read: the unit the merge names must list the merged file, not its inputs, once this task rolls into it.
  const merged =
    plan.merge && (facts.stillOwned?.() ?? true)
      ? await completeCommittedMerge(lakeRoot, plan.merge, facts.logger, { repartition_partition: r })
      : undefined;
  return {
    state: plan.state,
    resume: plan.resume,
    source: plan.source,
    renamed,
    missing,
    deleted,
    committedFiles: plan.source === 'commit' ? (metadata?.files ?? null) : null,
    ...(merged !== undefined ? { merged } : {}),
    durationMs: Date.now() - startedMs,
  };
}
