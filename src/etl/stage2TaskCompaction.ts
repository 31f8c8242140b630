/**
 * Stage-2 task r compacts its own unit `r<r>` of `clickstream_agg` inside `run`/`etl` (architecture.md, "Compaction",
 * "Inside the ETL"; `etl.windows: members`): the owner of the files merges them as one more commit of its own, as the
 * task of an input partition does (etl/ownerCompaction.ts has the steps: merged tmp file, commit, exchange, vacuum).
 * What is the task's own: which files (rules checkpoint/ownerCompactionRule.ts `planUnitMerges`), and its commit: a
 * transaction under r's transactional id with the offset r last committed and that commit's metadata again, plus the
 * merge (`m`, windows/stage2CommitMetadata.ts). No snapshot is written: the state topic's latest one still belongs to
 * that offset, as the takeover requires (windows/stage2TakeoverPlan.ts).
 */
import { mergedRangeOf, planUnitMerges } from '../checkpoint/ownerCompactionRule.js';
import type { PartitionTransactions } from '../kafka/partitionTransactions.js';
import { listAggTaskFiles } from '../lake/aggTaskFiles.js';
import type { PlannedMerge } from '../lake/compactionPlan.js';
import { aggTaskUnit, dtOfMs } from '../lake/layout.js';
import { encodeStage2CommitMetadata, type Stage2CommitFiles } from '../windows/stage2CommitMetadata.js';
import { vacuumedUnits, vacuumUnits, withSizes } from './ownerCompaction.js';

/** The merges task `partition` makes now among its committed files (sizes from stat; a file gone is skipped). */
export async function planStage2TaskMerges(
  lakeRoot: string,
  partition: number,
  targetBytes: number,
  nowMs: number = Date.now(),
): Promise<PlannedMerge[]> {
  const { finalFiles } = await listAggTaskFiles(lakeRoot, partition);
  const files = await withSizes(lakeRoot, finalFiles);
  return planUnitMerges(files, 'clickstream_agg', aggTaskUnit(partition), targetBytes, dtOfMs(nowMs));
}

export interface Stage2MergeCommit {
  transactions: PartitionTransactions;
  repartitionTopic: string;
  partition: number;
  /** The offset r's last commit moved the group to, and the files that commit named (null: none). */
  next: bigint;
  named: Stage2CommitFiles | null;
  topicId: string | null;
  /** The merged tmp file's writer id (this process's store id). */
  writer: string;
}

/** The compaction commit of `merge`: r's offset as it stands, its last commit's files again, and `m`. */
export async function commitStage2Merge(facts: Stage2MergeCommit, merge: PlannedMerge): Promise<void> {
  if (merge.table !== 'clickstream_agg' || merge.unit !== aggTaskUnit(facts.partition))
    throw new RangeError(`not a merged file of stage-2 task ${facts.partition}: ${merge.table} ${merge.merged}`);
  const metadata = encodeStage2CommitMetadata({
    v: 2,
    topicId: facts.topicId,
    writer: facts.writer,
    files: facts.named,
    merge: { dt: merge.dt, ...mergedRangeOf(merge) },
  });
  await facts.transactions.commit(
    [],
    [{ topic: facts.repartitionTopic, partition: facts.partition, offset: facts.next, metadata }],
  );
}

/**
 * The old versions of r's unit in `_swap` past `graceMs`, deleted (whoever compacted it); task 0, knowing the
 * repartition topic's partition count (`partitions`), also those of the `clickstream_agg` units nobody owns
 * (`vacuumedUnits`). Returns how many.
 */
export async function vacuumStage2Unit(
  lakeRoot: string,
  partition: number,
  partitions: number | undefined,
  graceMs: number,
  nowMs: number,
): Promise<number> {
  const units = await vacuumedUnits(lakeRoot, { kind: 'task', partition, partitions });
  return vacuumUnits(lakeRoot, units, graceMs, nowMs);
}
