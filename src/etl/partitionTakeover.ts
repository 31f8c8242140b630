/**
 * What a new owner of an input partition does before it reads it (architecture.md, "Growing past one
 * machine", the takeover order): fence the previous holder of the partition's transactional id
 * (InitProducerId aborts its open transaction, and none of its commits succeeds after this), read
 * the committed offset and its metadata stably, complete the renames the last commit named, delete
 * every other tmp file of the partition, and say where each sink resumes. The caller seeks and
 * resumes. The rule is a pure module (checkpoint/takeoverPlan.ts); this is its I/O.
 */
import { decodeCommitMetadata } from '../checkpoint/commitMetadata.js';
import { planTakeover, type TakeoverPlan } from '../checkpoint/takeoverPlan.js';
import type { Config } from '../config/schema.js';
import type { PartitionTransactions } from '../kafka/partitionTransactions.js';
import { fetchStableOffsets } from '../kafka/wire/offsetFetch.js';
import { listPartitionFiles } from '../lake/partitionTmpFiles.js';
import type { TableName } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';
import { completeCommittedMerge } from './ownerCompaction.js';
import { applyTakeoverFiles } from './takeoverFiles.js';

export interface TakeoverFacts {
  config: Config;
  logger: Logger;
  lakeRoot: string;
  groupId: string;
  topic: string;
  partition: number;
  /** The tables whose files this partition writes: its raw table and `_rejected`. */
  tables: readonly TableName[];
  /** The topic's current id (null if the broker does not tell). */
  topicId: string | null;
  transactions: PartitionTransactions;
}

export interface TakeoverResult {
  /** Last offset durable in the raw lake ('-1': none). */
  raw: string;
  /** Clickstream: last offset whose page views the window stage holds; null when the commit did not say. */
  win: string | null;
  source: TakeoverPlan['source'];
  renamed: number;
  missing: number;
  deleted: number;
  durationMs: number;
}

export async function takeOverPartition(facts: TakeoverFacts): Promise<TakeoverResult> {
  const startedMs = Date.now();
  const { topic, partition, lakeRoot } = facts;
  // Fence first: whatever the previous holder still sends after this cannot commit.
  await facts.transactions.takeOver();
  const fencedAtMs = Date.now();
  const committed = (await fetchStableOffsets(facts.config, facts.groupId, topic, [partition])).get(partition);
  const files = await listPartitionFiles(lakeRoot, facts.tables, topic, partition);
  const plan = planTakeover({
    topic,
    partition,
    tables: facts.tables,
    committed: {
      offset: committed ? committed.offset.toString() : '-1',
      metadata: decodeCommitMetadata(committed?.metadata ?? null),
      topicId: facts.topicId,
    },
    tmpFiles: files.tmpFiles,
    finalFiles: files.finalFiles,
  });
  const { renamed, missing, deleted } = await applyTakeoverFiles({
    lakeRoot,
    renames: plan.renames,
    deletes: plan.deletes,
    fencedAtMs,
    logger: facts.logger,
    where: { topic, partition },
  });
  if (plan.merge)
    await completeCommittedMerge(
      lakeRoot,
      { ...plan.merge, first: plan.merge.merge.first, last: plan.merge.merge.last },
      facts.logger,
      { topic, partition },
    );
  return {
    raw: plan.resume.raw,
    win: plan.resume.win,
    source: plan.source,
    renamed,
    missing,
    deleted,
    durationMs: Date.now() - startedMs,
  };
}
