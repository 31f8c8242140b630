/**
 * checkpointer: the commit point of the checkpoint protocol (architecture.md, "The checkpoint protocol" and
 * "Growing past one machine").
 *
 * - `takeOver` (query, from an ingest actor): for each partition new to this process, the takeover order
 *   (etl/partitionTakeover.ts) under `<group>-<topic>-<p>`; answers the floors and the task epoch its rolls carry.
 *   It runs off the mailbox, one topic's after another's of the same topic: other topics and commits go on meanwhile.
 * - `commit` (query): a raw roll commits with its partition's Kafka transaction (offset + metadata naming its files),
 *   then its renames, then a journal event that caches it; a window checkpoint persists its journal event (one SQLite
 *   transaction, its commit point), renames, and moves the window floor of the partitions it owns in Kafka.
 *   `onCommitted` tells the ingest actors what is durable, for their status.
 * - `recoverLake` (query, once at start): re-applies the renames of each sink's latest cached checkpoint, completes
 *   the process aggregator's journaled merge and deletes the window aggregator's uncommitted tmp files; a raw
 *   partition's are its takeover's.
 * - `compactTick` (timer): each task compacts its partition's units as one more Kafka commit; in process mode the
 *   aggregator's `agg` units are merged off the mailbox and journaled and exchanged in it (architecture.md,
 *   "Compaction").
 * - `read` (query): the current CheckpointState (offsets per sink, aggregator states).
 *
 * Recovery of the actor itself is nact's: latest snapshot + journal replay of JournalEvents.
 */
import { countMerge } from '../lake/compactionTotals.js';
import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { inExpiredDt } from '../lake/expiryRecord.js';
import { readExpiryRecord } from '../lake/expiryRecordFile.js';
import {
  aggSinkId,
  applyCheckpoint,
  rawSinkId,
  compareOffsets,
  emptyCheckpointState,
  pendingRenames,
  sinkOffset,
  type CheckpointEvent,
  type CheckpointState,
  type JournalEvent,
  type AggMerge,
  type RawCheckpoint,
  type Rename,
  NO_OFFSET,
} from '../checkpoint/checkpointState.js';
import { type CommitFile, type CommitMerge, encodeCommitMetadata } from '../checkpoint/commitMetadata.js';
import {
  mergeLogFields,
  planPartitionMerges,
  prepareOwnerMerge,
  publishOwnerMerge,
  vacuumOwnUnits,
} from '../etl/ownerCompaction.js';
import { oneMergeAtATime } from '../lake/mergeSlot.js';
import {
  completeJournaledAggMerge,
  planAggregatorMerges,
  publishAggMerge,
  vacuumAggUnits,
} from '../etl/aggregatorCompaction.js';
import type { PlannedMerge } from '../lake/compactionPlan.js';
import type { SwapOutcome } from '../lake/readerSafeSwap.js';
import {
  type ExpiryRoundReport,
  type RetentionSettings as OwnerRetentionSettings,
  runExpiryRound,
} from '../etl/ownerExpiry.js';
import { type ExpiryOwner, ownerLabel } from '../lake/ownerExpiryRule.js';
import { dtExpires } from '../lake/retention.js';
import type { Config } from '../config/schema.js';
import { takeOverPartition } from '../etl/partitionTakeover.js';
import type { Stage1Batch } from '../windows/stage1Counts.js';
import { Stage1Source } from '../windows/stage1Source.js';
import { createPartitionTransactions, isFenced, type PartitionTransactions } from '../kafka/partitionTransactions.js';
import { fetchTopicId } from '../kafka/wire/topicId.js';
import type { TableName } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';
import { listTmpFiles, removeIfExists, renameDurable } from '../lake/durableFs.js';
import { inUnitPath } from '../lake/unitMigration.js';
import { AGG_MERGE_FAULTS, hitFault } from '../system/faults.js';
import { tmpStoreId } from '../lake/layout.js';
import { parseAggTaskFileName } from '../lake/aggTaskFiles.js';
import {
  dispatch,
  queryUntilStopped,
  reply,
  spawnPersistent,
  type AnyRef,
  type PersistentContext,
  type Ref,
} from '../system/nact.js';
import type { TaskRecord } from '../kafka/partitionTransactions.js';

import { CHECKPOINTER_PERSISTENCE_KEY } from '../checkpoint/journalSchema.js';
import { ErrorCodes, isSdpError, markRetriable, SdpError } from '../errors.js';
export type CheckpointerMsg =
  /**
   * `generation`: the sender's ETL generation; a commit of another one is discarded (default 0).
   * `taskEpoch`: the takeover a raw commit belongs to (a stale one is rejected); `seed`: a rebuild from the
   * lake's file names, kept in the store only (architecture.md, "Rebuilding from the lake").
   */
  | { type: 'commit'; event: CheckpointEvent; generation?: number; taskEpoch?: number; seed?: boolean }
  /**
   * Query, from an ingest actor on assignment: take these partitions over (TakeoverReply). `owner`: the ingest, told
   * `partitionLost` when Kafka later refuses a commit no roll reports (a query's sender is gone once answered).
   */
  | { type: 'takeOver'; topic: string; partitions: number[]; owner?: AnyRef }
  /** From an ingest actor: these partitions are revoked; their transactional producers close. */
  | { type: 'release'; topic: string; partitions: number[] }
  /** Query, at shutdown: close every partition's transactional producer. */
  | { type: 'closeTasks' }
  /**
   * From a clickstream partition actor (stage 1 of the windows across members): one batch's page views, counted into
   * its partition's next commit. One of another generation or task epoch is discarded.
   */
  | {
      type: 'pageViews';
      topic: string;
      partition: number;
      taskEpoch: number;
      generation: number;
      batch: Stage1Batch;
      caughtUp: boolean;
    }
  /** From a clickstream partition actor: a fetch with nothing above the floor, or back-pressure paused or resumed it. */
  | {
      type: 'sourceState';
      topic: string;
      partition: number;
      taskEpoch: number;
      generation: number;
      caughtUp?: boolean;
      paused?: boolean;
    }
  /** From an ingest actor: the topic's partition count as far as it knows (stage 2 waits for a mark of each). */
  | { type: 'topicPartitions'; topic: string; count: number }
  /** Internal timer: commit the stage-1 marks that are due. */
  | { type: 'markTick' }
  /**
   * Internal timer (and tests): every task whose `lake.compaction_interval` passed (all with `force`) compacts its
   * units, and the process aggregator its `agg` units (architecture.md, "Compaction"). The sender, if any, gets a
   * CompactionReport once those rounds ended.
   */
  | { type: 'compactTick'; force?: boolean }
  /**
   * Internal timer (and tests): every owner here whose `lake.retention_interval` passed (all with `force`) deletes its
   * files of the expired dts (architecture.md, "Keeping the lake: retention"). The sender, if any, gets an
   * ExpiryReport once those rounds ended.
   */
  | { type: 'expireTick'; force?: boolean }
  /** Query, at shutdown after the writers' last rolls: commit every stage-1 mark with something new now. */
  | { type: 'flushMarks' }
  /** Query: the watermark, idle and paused state of every stage-1 partition this process owns (a list). */
  | { type: 'sourceStatus' }
  | { type: 'recoverLake' }
  | { type: 'read' }
  /** Internal: a raw roll's Kafka transaction (and its renames) ended; journal it and answer the roll's sender. */
  | { type: 'rollCommitted'; event: RawCheckpoint; outcome: RollOutcome; sender?: AnyRef; startedMs: number }
  /** Internal: a `takeOver` ended off the mailbox; cache the floors Kafka answered and answer its sender. */
  | { type: 'takenOver'; topic: string; outcome: TakeoverReply; sender?: AnyRef }
  /**
   * Internal query of the process aggregator's compaction round (architecture.md, "Compaction"): journal `merge`, then
   * exchange its `agg` unit, in the mailbox so that no window checkpoint renames into the unit meanwhile. Replies
   * AggPublishReply.
   */
  | { type: 'publishAggMerge'; merge: PlannedMerge; mergedTmp: string }
  /** Internal query, last in that round: the `agg` units' old versions past `lake.vacuum_grace` go (a count). */
  | { type: 'vacuumAgg' }
  /** Replayed from the journal during recovery only. */
  | JournalEvent;

/** How the mailbox ended an aggregator merge; `error`: a file step failed (the round ends, the next tries again). */
type AggPublishReply = { outcome: SwapOutcome | 'stale'; chainMs: number } | { error: unknown };

/** How a roll's Kafka transaction and renames ended: committed and renamed, refused, or a file step that failed. */
type RollOutcome = undefined | Extract<CommitReply, { rejected: string }> | { fileError: unknown };

/** `rejected`: the Kafka transaction did not commit (nothing was renamed); `fenced`: another holder took the id. */
export type CommitReply = { checkpoints: number } | { rejected: string; fenced: boolean };

export type TakeoverReply =
  | {
      ok: true;
      partitions: Array<{
        partition: number;
        /** Carried by every commit of this ownership; a commit of an earlier one is rejected. */
        taskEpoch: number;
        /** Last offset durable in the raw lake, from Kafka. */
        raw: string;
        /** Last offset the window aggregator holds (this process's store), null for a topic without windows. */
        agg: string | null;
      }>;
      /**
       * Partitions whose takeover another holder of the transactional id fenced meanwhile (a member that took them in
       * a newer rebalance): not this member's now, and no reason to restart the ETL over.
       */
      lost: LostPartition[];
    }
  | { ok: false; error: string };

type TakenPartition = Extract<TakeoverReply, { ok: true }>['partitions'][number];
export interface LostPartition {
  partition: number;
  reason: string;
}

/** Kafka as the commit point of raw rolls (architecture.md, "Growing past one machine"). */
export interface CheckpointerKafka {
  config: Config;
  groupId: string;
  /** The topic whose partitions also feed the window aggregator: its sink offset is the `win` floor. */
  windowTopic?: string;
  tablesOf: (topic: string) => TableName[];
  createTransactions?: (transactionalId: string) => PartitionTransactions;
  takeOver?: typeof takeOverPartition;
  topicIdOf?: (topic: string) => Promise<string | null>;
  /**
   * Stage 1 of the windows across members runs in the tasks of `windowTopic` (architecture.md, "Windows across
   * members"): their commits carry the page-view counts and marks to the repartition topic, and `win` is its floor.
   * Unset: the one-process window aggregator's store offset is the `win` floor.
   */
  stage1?: Stage1Settings;
  /** After every Kafka commit of a partition: the group's offset now (the next offset a new owner reads). */
  onKafkaCommitted?: (topic: string, partition: number, nextOffset: string, commit: KafkaCommit) => void;
}

/**
 * What one Kafka commit of a partition's task published: a roll's files, stage 1's marks alone (the window checkpoint
 * of `etl.windows: members`, every `etl.checkpoint_interval` while no file rolls), a merge, or offsets only.
 */
export interface KafkaCommit {
  kind: 'roll' | 'marks' | 'merge' | 'offsets';
  durationMs: number;
}

export interface Stage1Settings {
  sizeMs: number;
  watermarkDelayMs: number;
  idleTimeoutMs: number;
  /** Marks alone are committed at most this often (etl.checkpoint_interval). */
  intervalMs: number;
  repartitionTopic: string;
  /** R, once the window stage knows it; undefined before (nothing is drained then: the counts wait). */
  repartitions: () => number | undefined;
}

/** The owner's compaction inside the ETL (architecture.md, "Compaction"): `lake.*` settings. */
export interface CompactionSettings {
  intervalMs: number;
  targetBytes: number;
  vacuumGraceMs: number;
  /** Process mode: this process's window aggregator owns the `agg` units, compacted through the mailbox. */
  aggregator?: boolean;
}

/** Retention inside the ETL (architecture.md, "Keeping the lake: retention"): `lake.*` settings. */
export interface RetentionSettings extends OwnerRetentionSettings {
  /** Process mode: this process's window aggregator owns the `agg` units, expired from the actor's mailbox. */
  aggregator: boolean;
}

/** What the expiry rounds one `expireTick` started did, per owner that ran one. */
export type ExpiryReport = ExpiryRoundReport[];

/** What the compaction rounds one `compactTick` started did, per task, and the process aggregator's round first. */
export type CompactionReport = Array<
  { topic: string; partition: number; merged: number; vacuumed: number } | AggCompactionReport
>;

export interface AggCompactionReport {
  owner: 'aggregator';
  merged: number;
  vacuumed: number;
}

/**
 * How long a merge of the aggregator waits for the mailbox (window checkpoints ahead of it): generous, never hit. The
 * round's queries also end when the checkpointer stops (`queryUntilStopped`), so a stop never waits for it.
 */
const AGG_PUBLISH_TIMEOUT_MS = 600_000;

export interface LakeRecovery {
  renamed: number;
  deletedTmpFiles: string[];
}

export interface CheckpointerOptions {
  lakeRoot: string;
  logger: Logger;
  snapshotEvery: number;
  /** `durationMs`: the commit point itself (journal transaction and renames). */
  onCommitted?: (event: CheckpointEvent, state: CheckpointState, durationMs?: number) => void;
  /**
   * The ETL generation this checkpointer serves (default 0). An in-process restart spawns a new
   * checkpointer under the same name; a commit still on its way from the torn-down generation
   * must not be journalled (its tmp files may be gone, its offsets are being re-read).
   */
  generation?: number;
  /** This store's id: recovery deletes uncommitted tmp files of this store only (and legacy ones without an id). */
  storeId?: string;
  /** Unset (unit tests of the store alone): the SQLite transaction is the commit point of raw rolls too. */
  kafka?: CheckpointerKafka;
  /** Set (with `kafka` and `storeId`): each task compacts its partition's units as one more commit of its own. */
  compaction?: CompactionSettings;
  /** Set (with `kafka` and `storeId`): each owner here deletes its files of the dts that expired. */
  retention?: RetentionSettings;
}

async function applyRenames(
  lakeRoot: string,
  renames: readonly Rename[],
  betweenRenames?: () => void,
): Promise<number> {
  let renamed = 0;
  for (const { from, to } of renames) {
    if (renamed > 0) betweenRenames?.();
    // A rename stored before units lands in its unit (lake/unitMigration.ts).
    await renameDurable(join(lakeRoot, from), join(lakeRoot, inUnitPath(to)));
    renamed += 1;
  }
  return renamed;
}

/** What the checkpointer tells a partition's ingest when Kafka refused that partition's commit. */
export interface PartitionLostMsg {
  type: 'partitionLost';
  partition: number;
  taskEpoch: number;
  reason: string;
}

interface Task {
  topic: string;
  partition: number;
  transactions: PartitionTransactions;
  taskEpoch: number;
  raw: string;
  /** The window floor and the files its last Kafka commit named: a compaction commit carries them again. */
  win: string | null;
  files: CommitFile[];
  stage1?: Stage1Source;
  owner?: Ref<PartitionLostMsg>;
  /** When the task looks for small files to merge next; `compacting` while a round runs. */
  compactDueMs: number;
  compacting: boolean;
  /** When the task expires its units of old dts next (at once after a takeover); `expiring` while a round runs. */
  expireDueMs: number;
  expiring: boolean;
  /** The task's Kafka work, one transaction after another; other partitions' run beside it. */
  chain: Promise<void>;
  /** Transactions queued or running on `chain`. */
  inFlight: number;
}

function taskKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

const FILE_NAME = /^tables\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/.*-(\d{20})-(\d{20})\.parquet$/;

/** The table, dt and range of a committed file's lake-relative final name. */
function filePublished(to: string): { table: TableName; dt: string; first: string; last: string } {
  const m = FILE_NAME.exec(to.split(sep).join('/'));
  if (!m) throw new SdpError(ErrorCodes.CHECKPOINT_FAILED, `not a raw or rejected file name: ${to}`);
  return { table: m[1] as TableName, dt: m[2]!, first: BigInt(m[3]!).toString(), last: BigInt(m[4]!).toString() };
}

function isAggregateTmp(lakeRoot: string, tmp: string): boolean {
  return relative(lakeRoot, tmp).split(sep).join('/').startsWith('tables/clickstream_agg/');
}

export function spawnCheckpointer(
  parent: AnyRef,
  options: CheckpointerOptions,
  name = 'checkpointer',
): Ref<CheckpointerMsg> {
  const generation = options.generation ?? 0;
  const logger = options.logger.child({ component: 'checkpointer', generation });

  // The transactional producer of every partition this process owns, with the takeover it belongs to.
  // `raw`: the last offset durable in the raw lake as Kafka has it (the takeover's, then each commit's).
  // `stage1`: the partition's stage 1 of the windows across members; `owner`: the ingest told when the task is lost.
  const tasks = new Map<string, Task>();
  let lastTaskEpoch = 0;
  const topicIds = new Map<string, string | null>();
  /** Partition count per topic, as the ingest actors know it. */
  const partitionCounts = new Map<string, number>();
  const stage1 = options.kafka?.stage1;
  let markTimer: NodeJS.Timeout | undefined;
  // False once stopped (torn down, or failed): work still in flight closes what it opens and deletes no file, since
  // the next generation may already be writing the same names (architecture.md, "Supervision").
  let alive = true;
  /** Resolved when the actor stops: its compaction round's queries still queued then are never answered. */
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
  });
  let compactTimer: NodeJS.Timeout | undefined;
  let expireTimer: NodeJS.Timeout | undefined;
  /** When the process aggregator's `agg` units are expired next (process mode); not before `recoverLake` ran. */
  let aggExpireDueMs = 0;
  let lakeRecovered = false;
  /** When the process aggregator's `agg` units are compacted next; `aggCompacting` while its round runs. */
  let aggCompactDueMs = 0;
  let aggCompacting = false;
  /** Set when the lake's file system has no directory exchange: compaction stops for this process. */
  let compactionUnsupported = false;

  /**
   * Runs `work` after the task's earlier Kafka work. Each partition has its own transactional producer, so its
   * transactions run one at a time while other partitions' run beside them: the actor does not wait on Kafka between
   * the commits of different partitions (architecture.md, "Growing past one machine").
   */
  function onTask<T>(task: Task, work: () => Promise<T>): Promise<T> {
    const run = task.chain.then(work);
    task.inFlight += 1;
    task.chain = run.then(
      () => void (task.inFlight -= 1),
      () => void (task.inFlight -= 1),
    );
    return run;
  }

  /** Closes a task from outside its chain: its transactions in flight end first (their renames too). */
  async function closeTask(key: string): Promise<void> {
    const task = tasks.get(key);
    if (!task) return;
    tasks.delete(key);
    await task.chain;
    await closeProducer(task);
  }

  /** Closes a task from inside its own chain (after a refused commit): waiting on the chain would wait on itself. */
  async function dropFromChain(task: Task): Promise<void> {
    if (tasks.get(taskKey(task.topic, task.partition)) === task) tasks.delete(taskKey(task.topic, task.partition));
    await closeProducer(task);
  }

  async function closeProducer(task: Pick<Task, 'topic' | 'partition' | 'transactions'>): Promise<void> {
    await task.transactions
      .close()
      .catch((err: unknown) =>
        logger.warn({ err, task: taskKey(task.topic, task.partition) }, 'producer close failed'),
      );
  }

  /**
   * The `takeOver` of each topic under way (resolved when its tasks exist), one after another per topic. Off the
   * mailbox: the other topics' takeovers and every task's commits go on meanwhile, so a rebalance does not hold up the
   * partitions it leaves in place (architecture.md, "Growing past one machine").
   */
  const topicTakeovers = new Map<string, Promise<void>>();

  /** Runs `work` after the topic's earlier takeovers; the topic's chain resolves once it ended. */
  function onTopicTakeovers(topic: string, work: () => Promise<void>): void {
    const run = (topicTakeovers.get(topic) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => undefined);
    topicTakeovers.set(topic, settled);
    void settled.then(() => {
      if (topicTakeovers.get(topic) === settled) topicTakeovers.delete(topic);
    });
  }

  /** Waits for the takeovers under way of `topic` (all topics: undefined), so what follows sees their tasks. */
  async function takeoversSettled(topic?: string): Promise<void> {
    if (topic !== undefined) await topicTakeovers.get(topic);
    else await Promise.all([...topicTakeovers.values()]);
  }

  /**
   * The answer of a takeover as it stands when it is sent: a task dropped meanwhile (a refused mark, whose
   * `partitionLost` reached the ingest before this answer and was ignored there) is answered lost, not reading.
   */
  function stillOpen(topic: string, outcome: TakeoverReply): TakeoverReply {
    if (!outcome.ok) return outcome;
    const open = (p: TakenPartition): boolean => tasks.get(taskKey(topic, p.partition))?.taskEpoch === p.taskEpoch;
    const dropped = outcome.partitions.filter((p) => !open(p));
    if (dropped.length === 0) return outcome;
    return {
      ok: true,
      partitions: outcome.partitions.filter(open),
      lost: [
        ...outcome.lost,
        ...dropped.map((p) => ({ partition: p.partition, reason: 'its task ended before the takeover was answered' })),
      ],
    };
  }

  async function takeOver(
    topic: string,
    partitions: readonly number[],
    owner: Ref<PartitionLostMsg> | undefined,
  ): Promise<{ taken: TakenPartition[]; lost: LostPartition[] }> {
    const kafka = options.kafka!;
    if (!topicIds.has(topic))
      topicIds.set(topic, await (kafka.topicIdOf ?? ((t) => fetchTopicId(kafka.config, t)))(topic));
    // Side by side: each is a few round trips (InitProducerId, OffsetFetch) and a directory listing.
    const outcomes = await Promise.allSettled(partitions.map((partition) => takeOverOne(topic, partition, owner)));
    const taken: TakenPartition[] = [];
    const lost: LostPartition[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') taken.push(outcome.value);
      else if (isFenced(outcome.reason))
        lost.push({
          partition: partitions[i]!,
          reason: outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason),
        });
      else throw outcome.reason; // Kafka did not answer: the ETL restarts and takes every partition over again
    }
    return { taken, lost };
  }

  /**
   * Fences the partition's transactional id, reads its committed offset and metadata, completes what they name and
   * opens its task. Fenced in turn (another member took the id in a newer rebalance): the task is dropped and the
   * error rethrown for the caller to report the partition lost.
   */
  async function takeOverOne(
    topic: string,
    partition: number,
    owner: Ref<PartitionLostMsg> | undefined,
  ): Promise<TakenPartition> {
    const kafka = options.kafka!;
    const topicId = topicIds.get(topic) ?? null;
    const key = taskKey(topic, partition);
    await closeTask(key);
    // A takeover queued behind another of its topic may start after the stop: its fence would hit the next
    // generation, which may own the partition by then.
    if (!alive) throw new SdpError(ErrorCodes.CHECKPOINT_FAILED, `${key}: not taken over, the checkpointer stopped`);
    const transactionalId = `${kafka.groupId}-${topic}-${partition}`;
    const transactions =
      kafka.createTransactions?.(transactionalId) ??
      createPartitionTransactions(kafka.config, logger, { transactionalId, groupId: kafka.groupId });
    let opened: Task | undefined;
    try {
      const result = await (kafka.takeOver ?? takeOverPartition)({
        config: kafka.config,
        logger,
        lakeRoot: options.lakeRoot,
        groupId: kafka.groupId,
        topic,
        partition,
        tables: kafka.tablesOf(topic),
        topicId,
        transactions,
      });
      if (!alive) {
        await closeProducer({ topic, partition, transactions });
        throw new SdpError(ErrorCodes.CHECKPOINT_FAILED, `${key}: taken over after the checkpointer stopped`);
      }
      lastTaskEpoch += 1;
      const task: Task = {
        topic,
        partition,
        transactions,
        taskEpoch: lastTaskEpoch,
        raw: result.raw,
        win: result.win,
        files: [],
        ...(owner ? { owner } : {}),
        chain: Promise.resolve(),
        inFlight: 0,
        compactDueMs: Date.now() + (options.compaction?.intervalMs ?? 0),
        compacting: false,
        expireDueMs: 0,
        expiring: false,
      };
      let agg: string | null = null;
      if (kafka.windowTopic === topic && stage1) {
        // Stage 2 holds the page views up to the committed `win` (none without our metadata: from the start).
        agg = result.win ?? NO_OFFSET;
        task.stage1 = new Stage1Source({
          partition,
          sizeMs: stage1.sizeMs,
          winFloor: agg,
          watermarkDelayMs: stage1.watermarkDelayMs,
          idleTimeoutMs: stage1.idleTimeoutMs,
          nowMs: Date.now(),
        });
      } else if (kafka.windowTopic === topic) agg = sinkOffset(latestState, aggSinkId(topic), partition);
      if (result.source !== 'metadata') task.win = agg;
      tasks.set(key, task);
      opened = task;
      // A partition rebuilt from file names (a new, expired or reset group) gets its floors and our metadata in
      // the group at once, so Kafka tools show its lag from where it stands and the next takeover finds them.
      // Waited for: a takeover fenced here answers the partition lost before anything of it is read.
      if (result.source !== 'metadata')
        await onTask(task, () => commitOffsets(task, 'offsets', topic, partition, result.raw, agg, [], []));
      logger.info(
        {
          topic,
          partition,
          transactional_id: transactionalId,
          raw_offset: result.raw,
          source: result.source,
          renames_completed: result.renamed,
          tmp_deleted: result.deleted,
          duration_ms: result.durationMs,
        },
        'partition taken over',
      );
      return { partition, taskEpoch: task.taskEpoch, raw: result.raw, agg };
    } catch (err) {
      if (!isFenced(err)) throw err;
      // A producer is discarded after any transaction error; the files this takeover saw are the next owner's.
      if (opened && tasks.get(key) === opened) tasks.delete(key);
      await closeProducer({ topic, partition, transactions });
      throw err;
    }
  }

  /**
   * A roll's Kafka transaction (its offset with metadata naming its files), then its renames, on the partition's
   * chain. Never renamed after a refused commit; a fenced roll's tmp files are nobody's and go.
   */
  function commitRoll(
    state: CheckpointState,
    event: RawCheckpoint,
    taskEpoch: number | undefined,
  ): Promise<RollOutcome> {
    const kafka = options.kafka!;
    const key = taskKey(event.topic, event.partition);
    const task = tasks.get(key);
    // A roll of an ownership that ended (revoked, or taken over again): its tmp files are left to the next
    // takeover, since the current owner's roll may carry the same name.
    const stale = (): RollOutcome => ({
      rejected: `${event.sink}: not the current owner's roll (task ${taskEpoch ?? 'none'})`,
      fenced: false,
    });
    if (!task || task.taskEpoch !== taskEpoch) return Promise.resolve(stale());
    // Without stage 1 the window floor is the aggregator's, as this store has it now.
    const aggWin =
      kafka.windowTopic === event.topic ? sinkOffset(state, aggSinkId(event.topic), event.partition) : null;
    return onTask(task, async (): Promise<RollOutcome> => {
      if (tasks.get(key) !== task) return stale();
      const { win, records } = task.stage1 ? rollStage1(task.stage1, event.topic) : { win: aggWin, records: [] };
      try {
        await commitOffsets(task, 'roll', event.topic, event.partition, event.offset, win, event.renames, records);
        task.raw = event.offset;
      } catch (err) {
        const fenced = isFenced(err);
        await dropFromChain(task);
        // Stopped meanwhile: the next takeover deletes them (only files written before its fence).
        if (fenced && alive) for (const { from } of event.renames) await removeIfExists(join(options.lakeRoot, from));
        logger.warn({ err, sink: event.sink, offset: event.offset, fenced }, 'kafka commit of a roll failed');
        return { rejected: err instanceof Error ? err.message : String(err), fenced };
      }
      try {
        if (event.renames.length > 0) hitFault('after-commit-before-rename');
        await applyRenames(options.lakeRoot, event.renames, () => hitFault('between-renames'));
      } catch (err) {
        return { fileError: err };
      }
      return undefined;
    });
  }

  /**
   * What a commit of a stage-1 task carries: its counts and marks since the last commit, routed to the repartition
   * partitions, and the floor they reach. Nothing is drained before R is known: the counts wait for the next commit.
   */
  function stage1Commit(source: Stage1Source, topic: string): { win: string; records: TaskRecord[] } {
    const R = stage1!.repartitions();
    if (R === undefined) return { win: source.winFloor ?? NO_OFFSET, records: [] };
    const drained = source.drain(Date.now(), partitionCountOf(topic), R);
    const records = drained.records.map((m) => ({
      topic: stage1!.repartitionTopic,
      partition: m.partition,
      key: m.key,
      value: m.value,
    }));
    return { win: drained.win ?? NO_OFFSET, records };
  }

  /**
   * What a roll's commit carries of stage 1: the counts and mark when one is due (`etl.checkpoint_interval`), else
   * nothing and the floor as it stands. Records to the repartition topic add R partitions to the transaction (more
   * requests and markers per commit), so carrying them at every roll made a catch-up's commits the bottleneck; the
   * group offset (min(raw, win) + 1) then lags the raw floor by at most an interval, and a new owner skips the raw
   * records its predecessor made durable.
   */
  function rollStage1(source: Stage1Source, topic: string): { win: string; records: TaskRecord[] } {
    if (!source.markDue(Date.now(), stage1!.intervalMs, partitionCountOf(topic)))
      return { win: source.winFloor ?? NO_OFFSET, records: [] };
    return stage1Commit(source, topic);
  }

  function partitionCountOf(topic: string): number {
    let count = partitionCounts.get(topic) ?? 0;
    for (const task of tasks.values())
      if (task.topic === topic && task.partition + 1 > count) count = task.partition + 1;
    return count;
  }

  /**
   * Every stage-1 task whose mark is due commits it alone (no roll): counts, watermark and idle flag reach stage 2
   * within `etl.checkpoint_interval` even while no file rolls. A refused one drops the partition, as a refused roll
   * does: its ingest takes it over again. A task with a transaction under way is skipped unless `force`: that one
   * carries the counts. Resolves when the marks started here are committed.
   */
  function commitMarks(force: boolean): Promise<void> {
    const nowMs = Date.now();
    const started: Promise<void>[] = [];
    for (const task of [...tasks.values()]) {
      const { stage1: source, topic, partition } = task;
      if (!source || stage1!.repartitions() === undefined) continue;
      if (!force && task.inFlight > 0) continue;
      if (!source.markDue(nowMs, force ? 0 : stage1!.intervalMs, partitionCountOf(topic))) continue;
      started.push(
        onTask(task, async () => {
          if (tasks.get(taskKey(topic, partition)) !== task) return;
          const { win, records } = stage1Commit(source, topic);
          try {
            await commitOffsets(task, 'marks', topic, partition, task.raw, win, [], records);
          } catch (err) {
            await dropTask(task, err, 'kafka commit of window marks failed');
          }
        }),
      );
    }
    return Promise.all(started).then(() => undefined);
  }

  /** After a refused commit that no roll reports: the producer goes and the ingest takes the partition over again. */
  async function dropTask(task: Task, err: unknown, what: string): Promise<void> {
    await dropFromChain(task);
    logger.warn({ err, task: taskKey(task.topic, task.partition), fenced: isFenced(err) }, what);
    if (task.owner)
      dispatch(task.owner, {
        type: 'partitionLost',
        partition: task.partition,
        taskEpoch: task.taskEpoch,
        reason: `${what}: ${err instanceof Error ? err.message : String(err)}`,
      });
  }

  /** The partition's offset with metadata naming the files and floors, in one transaction (`<group>-<topic>-<p>`). */
  async function commitOffsets(
    task: Task,
    kind: KafkaCommit['kind'],
    topic: string,
    partition: number,
    raw: string,
    win: string | null,
    renames: readonly Rename[],
    records: readonly TaskRecord[],
    compaction?: { files: CommitFile[]; merge: CommitMerge },
  ): Promise<void> {
    const next = (win !== null && compareOffsets(win, raw) < 0 ? BigInt(win) : BigInt(raw)) + 1n;
    const files = compaction?.files ?? renames.map((r) => filePublished(r.to));
    const metadata = encodeCommitMetadata({
      v: 1,
      topicId: topicIds.get(topic) ?? null,
      raw,
      win,
      writer: options.storeId ?? '',
      files,
      ...(compaction ? { merge: compaction.merge } : {}),
    });
    const startedMs = Date.now();
    await task.transactions.commit(records, [{ topic, partition, offset: next, metadata }]);
    task.win = win;
    task.files = files;
    options.kafka?.onKafkaCommitted?.(topic, partition, next.toString(), { kind, durationMs: Date.now() - startedMs });
  }

  /**
   * After a window checkpoint: the window floor of every partition this process owns moved, so the group's offset
   * (the smaller floor + 1) moves too, in an offsets-only transaction. A failure is only logged: the partition's next
   * roll finds its producer gone and the ETL takes its partitions over again.
   */
  function commitWindowFloors(event: Extract<CheckpointEvent, { type: 'agg' }>): void {
    for (const [p, win] of Object.entries(event.offsets)) {
      const partition = Number(p);
      const key = taskKey(event.topic, partition);
      const task = tasks.get(key);
      if (!task) continue;
      void onTask(task, async () => {
        if (tasks.get(key) !== task) return;
        try {
          await commitOffsets(task, 'offsets', event.topic, partition, task.raw, win, [], []);
        } catch (err) {
          await dropFromChain(task);
          logger.warn(
            { err, topic: event.topic, partition, fenced: isFenced(err) },
            'kafka commit of a window floor failed',
          );
        }
      });
    }
  }

  /**
   * The compaction rounds due now (every task with `force`), side by side across tasks, one round per task at a time
   * (architecture.md, "Compaction"). Off without settings, a store id (the writer id of the merged tmp files) or
   * after a file system without exchange answered.
   */
  function startCompactions(force: boolean): Promise<CompactionReport> {
    const settings = options.compaction;
    if (!settings || !options.kafka || !options.storeId || compactionUnsupported) return Promise.resolve([]);
    const nowMs = Date.now();
    const rounds: Promise<CompactionReport[number]>[] = [];
    for (const task of [...tasks.values()]) {
      if (task.compacting || task.expiring || (!force && nowMs < task.compactDueMs)) continue;
      task.compacting = true;
      rounds.push(
        compactTask(task, settings, options.storeId).finally(() => {
          task.compacting = false;
          task.compactDueMs = Date.now() + settings.intervalMs;
        }),
      );
    }
    return Promise.all(rounds);
  }

  /**
   * One round of a task: plan among its files and write each merged tmp file beside its rolls (reads only), then on
   * its chain commit the merge with the partition's last offset and floors and exchange the unit; last, vacuum its
   * units' old versions. A refused commit drops the task as a refused roll does; a file error ends the round.
   */
  async function compactTask(
    task: Task,
    settings: CompactionSettings,
    writer: string,
  ): Promise<CompactionReport[number]> {
    const { topic, partition } = task;
    const key = taskKey(topic, partition);
    const current = (): boolean => tasks.get(key) === task;
    const table = options.kafka!.tablesOf(topic).find((t) => t === 'clickstream' || t === 'iot');
    const report = { topic, partition, merged: 0, vacuumed: 0 };
    if (!table) return report;
    const owner = { lakeRoot: options.lakeRoot, topic, partition, table };
    const fields = { component: 'compaction', topic, partition };
    try {
      // A dt that expired is its retention round's to delete, not worth merging (architecture.md, "Keeping the lake").
      const retention = options.retention;
      const merges = (await planPartitionMerges(owner, settings.targetBytes)).filter(
        (m) => retention === undefined || !dtExpires(m.dt, Date.now(), retention.days),
      );
      for (const merge of merges) {
        if (!current()) break;
        const startedMs = Date.now();
        const mergedTmp = await oneMergeAtATime(() => prepareOwnerMerge(options.lakeRoot, merge, writer));
        let refused: unknown;
        const commit = async (m: CommitMerge): Promise<void> => {
          try {
            await commitOffsets(task, 'merge', topic, partition, task.raw, task.win, [], [], {
              files: task.files,
              merge: m,
            });
          } catch (err) {
            refused = err;
            throw err;
          }
        };
        const mergedMs = Date.now();
        let chainMs = 0;
        const outcome = await onTask(task, async () => {
          const onChainMs = Date.now();
          if (!current()) {
            // Once stopped, the next generation may be writing the same name; its takeover deletes this one.
            if (alive) await removeIfExists(mergedTmp);
            return 'stale' as const;
          }
          try {
            return await publishOwnerMerge(options.lakeRoot, merge, mergedTmp, commit);
          } catch (err) {
            if (refused === undefined) throw err;
            await dropTask(task, err, 'kafka commit of a compaction failed');
            return 'refused' as const;
          } finally {
            chainMs = Date.now() - onChainMs;
          }
        });
        logger.info(
          {
            ...fields,
            ...mergeLogFields(merge),
            outcome,
            ms: Date.now() - startedMs,
            // The merge (beside the rolls), and the commit and swap on the task's chain (what its rolls waited).
            merge_ms: mergedMs - startedMs,
            chain_ms: chainMs,
          },
          'unit compacted by its owner',
        );
        countMerge(mergeLogFields(merge), outcome);
        if (outcome === 'swapped') report.merged += 1;
        if (outcome === 'stale' || outcome === 'refused') return report;
      }
      report.vacuumed = await onTask(task, () =>
        current() ? vacuumOwnUnits(owner, settings.vacuumGraceMs, Date.now()) : Promise.resolve(0),
      );
    } catch (err) {
      if (isSdpError(err) && err.code === ErrorCodes.LAKE_SWAP_UNSUPPORTED) compactionUnsupported = true;
      logger.warn({ ...fields, err }, 'compaction round failed; the next interval tries again');
    }
    return report;
  }

  /**
   * The process aggregator's compaction round when due (with `force` at once), once the lake was recovered
   * (architecture.md, "Compaction"): plan among its `agg` units, each merged tmp file off the mailbox on the merge
   * worker (one merge per process at a time), then `publishAggMerge` and `vacuumAgg` in the mailbox. A file error
   * ends the round; the next interval tries again.
   */
  async function compactAggregator(force: boolean, self: Ref<CheckpointerMsg>): Promise<AggCompactionReport[]> {
    const settings = options.compaction;
    const writer = options.storeId;
    if (!settings?.aggregator || !writer || compactionUnsupported || !lakeRecovered || aggCompacting) return [];
    if (!force && Date.now() < aggCompactDueMs) return [];
    aggCompacting = true;
    const report: AggCompactionReport = { owner: 'aggregator', merged: 0, vacuumed: 0 };
    const fields = { component: 'compaction', owner: 'aggregator' };
    try {
      // A dt that expired is its retention round's to delete, not worth merging (architecture.md, "Keeping the lake").
      const retention = options.retention;
      const merges = (await planAggregatorMerges(options.lakeRoot, settings.targetBytes)).filter(
        (m) => retention === undefined || !dtExpires(m.dt, Date.now(), retention.days),
      );
      for (const merge of merges) {
        if (!alive) return [report];
        const startedMs = Date.now();
        const mergedTmp = await oneMergeAtATime(() =>
          prepareOwnerMerge(options.lakeRoot, merge, writer, AGG_MERGE_FAULTS),
        );
        const mergedMs = Date.now();
        const published = await queryUntilStopped<CheckpointerMsg, AggPublishReply>(
          self,
          () => ({ type: 'publishAggMerge', merge, mergedTmp }),
          AGG_PUBLISH_TIMEOUT_MS,
          stopped,
        );
        if ('error' in published) throw published.error;
        logger.info(
          {
            ...fields,
            ...mergeLogFields(merge),
            outcome: published.outcome,
            ms: Date.now() - startedMs,
            // The merge (beside the checkpoints), and the journal and swap in the mailbox (what checkpoints waited).
            merge_ms: mergedMs - startedMs,
            chain_ms: published.chainMs,
          },
          'unit compacted by its owner',
        );
        countMerge(mergeLogFields(merge), published.outcome);
        if (published.outcome === 'swapped') report.merged += 1;
        if (published.outcome === 'stale') return [report];
      }
      report.vacuumed = await queryUntilStopped<CheckpointerMsg, number>(
        self,
        () => ({ type: 'vacuumAgg' }),
        AGG_PUBLISH_TIMEOUT_MS,
        stopped,
      );
    } catch (err) {
      if (isSdpError(err) && err.code === ErrorCodes.LAKE_SWAP_UNSUPPORTED) compactionUnsupported = true;
      // Stopped meanwhile (the mailbox no longer answers): the next start's recovery settles what is left.
      if (alive) logger.warn({ ...fields, err }, 'compaction round failed; the next interval tries again');
    } finally {
      aggCompacting = false;
      aggCompactDueMs = Date.now() + settings.intervalMs;
    }
    return [report];
  }

  /**
   * The retention rounds due now (every owner with `force`): each task of (topic, p) on its chain, so no roll of p
   * commits or renames into its units meanwhile; the process aggregator's `agg` units in the mailbox (`expireAggregator`).
   * Off without settings, Kafka or a store id (the writer id of the record's tmp file).
   */
  function startExpiries(force: boolean): Promise<ExpiryReport> {
    const settings = options.retention;
    if (!settings || !options.kafka || !options.storeId) return Promise.resolve([]);
    const writer = options.storeId;
    const nowMs = Date.now();
    const rounds: Promise<ExpiryReport[number]>[] = [];
    for (const task of [...tasks.values()]) {
      if (task.expiring || task.compacting || (!force && nowMs < task.expireDueMs)) continue;
      const table = options.kafka.tablesOf(task.topic).find((t) => t === 'clickstream' || t === 'iot');
      if (!table) continue;
      const key = taskKey(task.topic, task.partition);
      const owner: ExpiryOwner = { kind: 'partition', topic: task.topic, partition: task.partition, table };
      task.expiring = true;
      // Released or dropped meanwhile (tasks.get(key) changes): the round writes and deletes nothing from there on.
      const stillOwned = (): boolean => alive && tasks.get(key) === task;
      rounds.push(
        onTask(task, () =>
          stillOwned() ? expireRound(owner, settings, writer, stillOwned) : Promise.resolve(undefined),
        )
          .then((r) => r ?? { owner: ownerLabel(owner), dts: [], files: 0, failed: false })
          .finally(() => {
            task.expiring = false;
            task.expireDueMs = Date.now() + settings.intervalMs;
          }),
      );
    }
    return Promise.all(rounds);
  }

  /** The process aggregator's round, awaited in the mailbox: no window checkpoint renames into `agg` meanwhile. */
  async function expireAggregator(force: boolean): Promise<ExpiryReport> {
    const settings = options.retention;
    if (!settings?.aggregator || !options.storeId || !lakeRecovered || (!force && Date.now() < aggExpireDueMs))
      return [];
    try {
      return [await expireRound({ kind: 'aggregator' }, settings, options.storeId, () => alive)];
    } finally {
      aggExpireDueMs = Date.now() + settings.intervalMs;
    }
  }

  /** One owner's round (etl/ownerExpiry.ts), logged and counted; a failure is tried at the next interval. */
  function expireRound(
    owner: ExpiryOwner,
    settings: RetentionSettings,
    writer: string,
    stillOwned: () => boolean,
  ): Promise<ExpiryRoundReport> {
    return runExpiryRound(options.lakeRoot, settings, owner, writer, logger, stillOwned);
  }

  /** The stage 1 a partition actor's message is for; undefined if that actor's generation or ownership ended. */
  function currentSource(msg: { topic: string; partition: number; taskEpoch: number; generation: number }) {
    if (msg.generation !== generation) return undefined;
    const task = tasks.get(taskKey(msg.topic, msg.partition));
    return task?.taskEpoch === msg.taskEpoch ? task.stage1 : undefined;
  }

  /** The state as the last message left it, for work off the mailbox (a takeover) that reads it when it ends. */
  let latestState = emptyCheckpointState();

  const behaviour = async (
    state: CheckpointState,
    msg: CheckpointerMsg,
    ctx: PersistentContext<CheckpointerMsg>,
  ): Promise<CheckpointState> => {
    latestState = state;
    const next = await handle(state, msg, ctx);
    latestState = next;
    return next;
  };

  /** One message; its cases are the protocol this file's header lists, so they stay in one switch. */
  const handle = async (
    state: CheckpointState,
    msg: CheckpointerMsg,
    ctx: PersistentContext<CheckpointerMsg>,
  ): Promise<CheckpointState> => {
    switch (msg.type) {
      case 'raw':
      case 'agg':
      case 'aggMerge':
        // A journal event being replayed: the commit it records already happened.
        return applyCheckpoint(state, msg);
      case 'commit': {
        if ((msg.generation ?? 0) !== generation) {
          // No reply: the sender belongs to a torn-down ETL and nobody waits for it.
          logger.warn(
            { sink: msg.event.sink, msg_generation: msg.generation ?? 0, files: msg.event.renames.length },
            'commit of another generation discarded',
          );
          return state;
        }
        const startedMs = Date.now();
        const next = applyCheckpoint(state, msg.event); // validates before anything is written
        const raw = msg.event.type === 'raw';
        if (msg.event.type === 'raw' && options.kafka && !msg.seed) {
          // The Kafka transaction is the commit point; the store is a cache of it, written at `rollCommitted`.
          // Meanwhile the actor serves other partitions' commits.
          const event = msg.event;
          const sender = ctx.sender;
          const self = ctx.self;
          const report = (outcome: RollOutcome): void =>
            dispatch(self, { type: 'rollCommitted', event, outcome, ...(sender ? { sender } : {}), startedMs });
          // Anything else that fails on the way (deleting a fenced roll's tmp files) fails the actor, as before.
          void commitRoll(state, event, msg.taskEpoch).then(report, (err: unknown) => report({ fileError: err }));
          return state;
        } else {
          await ctx.persist(msg.event as CheckpointerMsg);
          if (msg.event.renames.length > 0)
            hitFault(raw ? 'after-commit-before-rename' : 'after-window-checkpoint-before-rename');
          await applyRenames(options.lakeRoot, msg.event.renames, raw ? () => hitFault('between-renames') : undefined);
          if (msg.event.type === 'agg' && options.kafka && !msg.seed) commitWindowFloors(msg.event);
        }
        logger.debug(
          { sink: msg.event.sink, checkpoints: next.checkpoints, files: msg.event.renames.length },
          'checkpoint committed',
        );
        reply<CommitReply>(ctx, { checkpoints: next.checkpoints });
        options.onCommitted?.(msg.event, next, Date.now() - startedMs);
        return next;
      }
      case 'rollCommitted': {
        const { outcome, event } = msg;
        // A rename that failed after Kafka committed: the ETL restarts, and the takeover completes it.
        if (outcome && 'fileError' in outcome) throw outcome.fileError;
        if (outcome) {
          if (msg.sender) dispatch(msg.sender, outcome);
          return state;
        }
        if (compareOffsets(sinkOffset(state, event.sink, event.partition), event.offset) >= 0) {
          // A takeover of the partition waited for this roll's chain and cached Kafka's offset (this roll's) already.
          if (msg.sender) dispatch(msg.sender as Ref<CommitReply>, { checkpoints: state.checkpoints });
          return state;
        }
        const next = applyCheckpoint(state, event);
        await ctx.persist(event as CheckpointerMsg);
        logger.debug(
          { sink: event.sink, checkpoints: next.checkpoints, files: event.renames.length },
          'checkpoint committed',
        );
        if (msg.sender) dispatch(msg.sender as Ref<CommitReply>, { checkpoints: next.checkpoints });
        options.onCommitted?.(event, next, Date.now() - msg.startedMs);
        return next;
      }
      case 'takeOver': {
        const sender = ctx.sender as AnyRef | undefined;
        const owner = msg.owner as Ref<PartitionLostMsg> | undefined;
        const self = ctx.self as Ref<CheckpointerMsg>;
        onTopicTakeovers(msg.topic, async () => {
          let outcome: TakeoverReply;
          try {
            const { taken, lost } = await takeOver(msg.topic, msg.partitions, owner);
            if (lost.length > 0) logger.warn({ topic: msg.topic, lost }, 'takeover fenced by another member');
            outcome = { ok: true, partitions: taken, lost };
          } catch (err) {
            logger.warn({ err, topic: msg.topic, partitions: msg.partitions }, 'takeover failed');
            outcome = { ok: false, error: err instanceof Error ? err.message : String(err) };
          }
          dispatch(self, { type: 'takenOver', topic: msg.topic, outcome, ...(sender ? { sender } : {}) });
        });
        return state;
      }
      case 'takenOver': {
        // The cache follows Kafka: a commit this store missed (another member's, or one this process made just
        // before it was killed, before its journal event) moves the raw sink's offset here too.
        let next = state;
        for (const { partition, raw } of msg.outcome.ok ? msg.outcome.partitions : []) {
          const sink = rawSinkId(msg.topic, partition);
          if (compareOffsets(raw, sinkOffset(next, sink, partition)) <= 0) continue;
          const event: RawCheckpoint = {
            type: 'raw',
            sink,
            topic: msg.topic,
            partition,
            offset: raw,
            renames: [],
            rows: 0,
            rejected: 0,
          };
          next = applyCheckpoint(next, event);
          await ctx.persist(event as CheckpointerMsg);
          options.onCommitted?.(event, next);
        }
        if (msg.sender) dispatch(msg.sender as Ref<TakeoverReply>, stillOpen(msg.topic, msg.outcome));
        return next;
      }
      case 'release':
        // After the topic's takeover under way: it may be opening the very tasks released here.
        await takeoversSettled(msg.topic);
        for (const partition of msg.partitions) await closeTask(taskKey(msg.topic, partition));
        return state;
      case 'closeTasks':
        if (markTimer) clearInterval(markTimer);
        if (compactTimer) clearInterval(compactTimer);
        if (expireTimer) clearInterval(expireTimer);
        await takeoversSettled();
        // Side by side: one task whose commit waits on a broker that is down must not keep the others open.
        await Promise.all([...tasks.keys()].map((key) => closeTask(key)));
        reply(ctx, { ok: true });
        return state;
      case 'pageViews': {
        const source = currentSource(msg);
        source?.add(msg.batch, msg.caughtUp, Date.now());
        return state;
      }
      case 'sourceState': {
        const source = currentSource(msg);
        if (msg.caughtUp !== undefined) source?.progress(msg.caughtUp);
        if (msg.paused !== undefined) source?.setPaused(msg.paused, Date.now());
        return state;
      }
      case 'topicPartitions':
        partitionCounts.set(msg.topic, Math.max(partitionCounts.get(msg.topic) ?? 0, msg.count));
        return state;
      case 'markTick':
        void commitMarks(false);
        return state;
      case 'compactTick': {
        const sender = ctx.sender as Ref<CompactionReport> | undefined;
        const force = msg.force ?? false;
        void Promise.all([compactAggregator(force, ctx.self), startCompactions(force)]).then(([agg, tasks]) => {
          if (sender) dispatch(sender, [...agg, ...tasks]);
        });
        return state;
      }
      case 'publishAggMerge': {
        const onChainMs = Date.now();
        // Stopped meanwhile: the next generation may be writing the same name; its recovery deletes this one.
        if (!alive) {
          reply<AggPublishReply>(ctx, { outcome: 'stale', chainMs: 0 });
          return state;
        }
        let next = state;
        let journalFailed: unknown;
        const journal = async (event: AggMerge): Promise<void> => {
          try {
            await ctx.persist(event as CheckpointerMsg);
          } catch (err) {
            journalFailed = err;
            throw err;
          }
          next = applyCheckpoint(state, event);
        };
        try {
          const outcome = await publishAggMerge(options.lakeRoot, msg.merge, msg.mergedTmp, journal);
          reply<AggPublishReply>(ctx, { outcome, chainMs: Date.now() - onChainMs });
        } catch (err) {
          reply<AggPublishReply>(ctx, { error: err });
          // The store failed: the pipeline stops and restarts from it, as after a failed checkpoint.
          if (journalFailed !== undefined) throw journalFailed;
        }
        return next;
      }
      case 'vacuumAgg': {
        const settings = options.compaction;
        const removed = settings ? await vacuumAggUnits(options.lakeRoot, settings.vacuumGraceMs, Date.now()) : 0;
        reply<number>(ctx, removed);
        return state;
      }
      case 'expireTick': {
        const sender = ctx.sender as Ref<ExpiryReport> | undefined;
        const tasksDone = startExpiries(msg.force ?? false);
        const agg = await expireAggregator(msg.force ?? false);
        void tasksDone.then((report) => {
          if (sender) dispatch(sender, [...agg, ...report]);
        });
        return state;
      }
      case 'sourceStatus': {
        const nowMs = Date.now();
        const sources = [...tasks.values()].flatMap((task) => (task.stage1 ? [task.stage1.status(nowMs)] : []));
        // The topic's other partitions too, as not assigned here: each holds the windows back wherever it is read.
        const topic = options.kafka?.windowTopic;
        const owned = new Set(sources.map((s) => s.partition));
        const count = topic === undefined ? 0 : partitionCountOf(topic);
        for (let p = 0; p < count; p++)
          if (!owned.has(p))
            sources.push({
              partition: p,
              assigned: false,
              watermarkMs: null,
              idle: false,
              paused: false,
              caughtUp: false,
            });
        reply(
          ctx,
          sources.sort((a, b) => a.partition - b.partition),
        );
        return state;
      }
      case 'flushMarks':
        await commitMarks(true);
        reply(ctx, { ok: true });
        return state;
      case 'recoverLake': {
        // A rename into a dt retention deleted, with both of its files gone, was deleted on purpose, not lost
        // (architecture.md, "Keeping the lake: retention"); a rename whose tmp file is there is applied as always.
        const expiry = readExpiryRecord(options.lakeRoot);
        const expiredRenames = pendingRenames(state).filter(
          (r) =>
            inExpiredDt(expiry, r.to) &&
            !existsSync(join(options.lakeRoot, r.from)) &&
            !existsSync(join(options.lakeRoot, r.to)),
        );
        // With Kafka as the commit point a raw roll's rename is its takeover's too: one whose both files are gone was
        // merged away by its partition's owner since (architecture.md, "Compaction"), this store's latest roll being
        // older than the partition's newest (another member's rolls, or a crash before the journal event).
        const mergedAway = options.kafka
          ? pendingRenames(state).filter(
              (r) =>
                !isAggregateTmp(options.lakeRoot, join(options.lakeRoot, r.from)) &&
                !existsSync(join(options.lakeRoot, r.from)) &&
                !existsSync(join(options.lakeRoot, inUnitPath(r.to))),
            )
          : [];
        const renames = pendingRenames(state).filter((r) => !expiredRenames.includes(r) && !mergedAway.includes(r));
        const committedTmp = new Set(renames.map((r) => join(options.lakeRoot, r.from)));
        const renamed = await applyRenames(options.lakeRoot, renames);
        // The aggregator's journaled merge before the sweep below, which deletes every merged tmp file no journal
        // event names (architecture.md, "Compaction").
        if (state.aggMerge) await completeJournaledAggMerge(options.lakeRoot, state.aggMerge, logger);
        const deletedTmpFiles: string[] = [];
        let otherStores = 0;
        for (const tmp of await listTmpFiles(options.lakeRoot)) {
          if (committedTmp.has(tmp)) continue;
          // A raw roll's tmp file may be named by a Kafka commit this store has not cached: the takeover of
          // its partition decides (architecture.md, "Growing past one machine").
          if (options.kafka && !isAggregateTmp(options.lakeRoot, tmp)) continue;
          // A stage-2 task's (windows across members) likewise: the takeover of its repartition partition decides.
          if (parseAggTaskFileName(relative(options.lakeRoot, tmp))) continue;
          // Another store's tmp file may be a roll in flight in another process sharing the lake.
          const owner = tmpStoreId(tmp);
          if (owner !== null && owner !== options.storeId) {
            otherStores += 1;
            continue;
          }
          await removeIfExists(tmp);
          deletedTmpFiles.push(tmp);
        }
        logger.info(
          {
            checkpoints: state.checkpoints,
            renames_reapplied: renamed,
            orphan_tmp_deleted: deletedTmpFiles.length,
            expired_renames_skipped: expiredRenames.length,
            merged_renames_skipped: mergedAway.length,
            other_stores_tmp_kept: otherStores,
            store_id: options.storeId,
          },
          'lake recovered from the checkpoint store',
        );
        lakeRecovered = true;
        aggCompactDueMs = Date.now() + (options.compaction?.intervalMs ?? 0);
        reply<LakeRecovery>(ctx, { renamed, deletedTmpFiles });
        return state;
      }
      case 'read':
        reply<CheckpointState>(ctx, state);
        return state;
    }
  };

  const ref = spawnPersistent<CheckpointState, CheckpointerMsg>(parent, behaviour, CHECKPOINTER_PERSISTENCE_KEY, name, {
    initialState: emptyCheckpointState(),
    snapshotEvery: options.snapshotEvery,
    onCrash: (_msg, err, ctx) => {
      // The journal is the truth: a failed commit must stop the pipeline, which restarts from it.
      logger.error({ err }, 'checkpointer failed');
      // Retriable: the supervisor restarts the ETL from the last checkpoint (architecture.md, "Supervision").
      markRetriable(err);
      return ctx.escalate;
    },
    afterStop: () => {
      // Stopped without `closeTasks` (it failed, or that query timed out): its timer and producers go now, without
      // waiting on their chains; the ETL's end waits for the closes, bounded (platform/generationClients.ts).
      alive = false;
      markStopped();
      if (markTimer) clearInterval(markTimer);
      if (compactTimer) clearInterval(compactTimer);
      if (expireTimer) clearInterval(expireTimer);
      for (const task of tasks.values()) void closeProducer(task);
      tasks.clear();
    },
  });
  if (stage1) {
    markTimer = setInterval(() => dispatch(ref, { type: 'markTick' }), Math.min(1_000, stage1.intervalMs));
    markTimer.unref();
  }
  if (options.compaction) {
    compactTimer = setInterval(
      () => dispatch(ref, { type: 'compactTick' }),
      Math.min(1_000, options.compaction.intervalMs),
    );
    compactTimer.unref();
  }
  if (options.retention) {
    // Ticks often, each owner's round is due at its takeover and then every retention_interval.
    expireTimer = setInterval(
      () => dispatch(ref, { type: 'expireTick' }),
      Math.min(1_000, options.retention.intervalMs),
    );
    expireTimer.unref();
  }
  return ref;
}
