/**
 * What a new owner of an input partition does before it reads it (architecture.md, "Growing past one
 * machine", the takeover order): fence the previous holder of the partition's transactional id
 * (InitProducerId aborts its open transaction, and none of its commits succeeds after this), read
 * the committed offset and its metadata stably, complete the renames the last commit named, delete
 * every other tmp file of the partition, and say where each sink resumes. The caller seeks and
 * resumes. The rule is a pure module (checkpoint/takeoverPlan.ts); this is its I/O.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCommitMetadata } from '../checkpoint/commitMetadata.js';
import { planTakeover, type TakeoverPlan } from '../checkpoint/takeoverPlan.js';
import type { Config } from '../config/schema.js';
import type { PartitionTransactions } from '../kafka/partitionTransactions.js';
import { fetchStableOffsets } from '../kafka/wire/offsetFetch.js';
import { completeRename, removeIfExists } from '../lake/durableFs.js';
import { listPartitionFiles } from '../lake/partitionTmpFiles.js';
import type { TableName } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';

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
  let renamed = 0;
  let missing = 0;
  for (const { from, to } of plan.renames) {
    const outcome = await completeRename(join(lakeRoot, from), join(lakeRoot, to));
    if (outcome === 'renamed') renamed += 1;
    else if (outcome === 'missing') {
      missing += 1;
      facts.logger.error({ topic, partition, from, to }, 'a committed file is missing: neither its tmp nor its final');
    }
  }
  let deleted = 0;
  let kept = 0;
  for (const tmp of plan.deletes) {
    // Only what was written before this fence: a takeover that ran slow, during which the group moved the
    // partition on, must not delete the tmp file of the next owner's first roll (written after its own, later
    // fence). A later zombie's tmp file is deleted by that zombie when its commit is fenced, or by the next takeover.
    const modifiedMs = await stat(join(lakeRoot, tmp)).then(
      (st) => st.mtimeMs,
      () => undefined,
    );
    if (modifiedMs === undefined) continue;
    if (modifiedMs > fencedAtMs) {
      kept += 1;
      continue;
    }
    if (await removeIfExists(join(lakeRoot, tmp))) deleted += 1;
  }
  if (kept > 0) facts.logger.info({ topic, partition, tmp_kept: kept }, 'tmp files written after the fence kept');
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
