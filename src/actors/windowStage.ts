/**
 * window-stage — stage 2 of the page-view windows (architecture.md, "Windows across members"): one actor per process,
 * one consumer-group member on `<group>-pv-repartition`, and a task per repartition partition r the group assigns
 * here. A task keeps the open windows of the urls routed to r (windows/stage2Windows.ts) and emits each closed window
 * once, as `clickstream_agg` files named by the input offsets of the commit that published them.
 *
 * - Assigned: r is paused inside the group-join event and taken over (etl/stage2TaskTakeover.ts: fence the previous
 *   holder of `<group>-<repartition topic>-<r>`, read the committed offset stably, finish the last commit's renames,
 *   delete r's other tmp files, restore the snapshot from `<group>-pv-state`), then seeked and resumed. Revoked: the
 *   task stops at once, nothing flushed (the new owner reads again after the last commit). Kept: it runs on.
 * - `batch` (query, from the consumer): decodes and applies the records. A record this build cannot read (another
 *   format or version, another R or window size) stops the task with the record's offset and why: skipping it would
 *   lose page views, applying it could count them twice; the other tasks go on.
 * - Every `etl.checkpoint_interval` a task that applied something commits (etl/stage2TaskCommit.ts): closeWindows →
 *   tmp files → one transaction (snapshot + offset with metadata) → renames. A refused commit renames nothing,
 *   drops the task (its tmp files deleted if fenced) and, if the group still assigns r here, takes it over again
 *   after a back-off; six refusals or failed takeovers in a row fail the actor (the ETL restarts from what Kafka
 *   holds).
 * - After a commit, at most every `etl.repartition_purge_interval`: DeleteRecords of the repartition partitions whose
 *   task runs here, up to the offset this process's commit of each moved the group to
 *   (windows/repartitionPurgePlan.ts); a failure is logged and tried again at the next interval, never failing the
 *   stage.
 * - With `lake.compaction` on, every `lake.compaction_interval` a running task compacts its own unit `r<r>`
 *   (architecture.md, "Compaction", "Inside the ETL"; etl/stage2TaskCompaction.ts): plan, merged tmp file beside its
 *   commits (one merge per process at a time), then, between two of its commits, one compaction commit (its last
 *   offset and metadata plus the merge) and the unit's exchange; a refused one is a refused commit. Last, the
 *   vacuum of its unit's old versions.
 * - `flush` (query): commit every changed task now. `drain` (query): read on to the repartition ends as they stand
 *   (stage 1's last marks, committed just before, are in; windows/drainCatchUp.ts), stop fetching, then flush.
 *   `close`: leave the group, close the producers. `metrics` (query): late events, open windows, watermarks, per task.
 *
 * The behaviour never awaits: takeovers and commits run outside the mailbox and report back as messages, carrying the
 * task's ticket (one per takeover), so a report of a task dropped since is recognised and discarded.
 */
import { countMerge } from '../lake/compactionTotals.js';
import type { Config } from '../config/schema.js';
import { commitRetryDelayMs } from '../checkpoint/commitRetry.js';
import { ErrorCodes, isSdpError, markRetriable, SdpError, type ErrorCode } from '../errors.js';
import { planAssignment } from '../etl/assignmentPlan.js';
import { type RetentionSettings, runExpiryRound } from '../etl/ownerExpiry.js';
import { mergeLogFields, prepareOwnerMerge, publishMerge } from '../etl/ownerCompaction.js';
import { commitStage2Merge, planStage2TaskMerges, vacuumStage2Unit } from '../etl/stage2TaskCompaction.js';
import { commitStage2Task, type Stage2CommitResult } from '../etl/stage2TaskCommit.js';
import { takeOverStage2Task, type Stage2TaskStart } from '../etl/stage2TaskTakeover.js';
import { createPartitionTransactions, isFenced, type PartitionTransactions } from '../kafka/partitionTransactions.js';
import { readLatestState } from '../kafka/stateTopicReader.js';
import {
  createTopicConsumer,
  type ConsumedBatch,
  type PartitionProgress,
  type TopicConsumer,
} from '../kafka/topicConsumer.js';
import { deleteRecordsBefore } from '../kafka/admin/deleteRecords.js';
import { fetchPartitionLogs } from '../kafka/admin/partitionLeaders.js';
import { fetchHighWatermarks } from '../kafka/wire/highWatermarks.js';
import { fetchStableOffsets, type StableOffset } from '../kafka/wire/offsetFetch.js';
import { fetchTopicId } from '../kafka/wire/topicId.js';
import type { PlannedMerge } from '../lake/compactionPlan.js';
import { removeIfExists } from '../lake/durableFs.js';
import type { EncoderPool } from '../lake/encoderPool.js';
import { oneMergeAtATime } from '../lake/mergeSlot.js';
import type { SwapOutcome } from '../lake/readerSafeSwap.js';
import { dtExpires } from '../lake/retention.js';
import type { Logger } from '../log/logger.js';
import { dispatch, query, reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';
import { AGG_MERGE_FAULTS } from '../system/faults.js';
import {
  initialPurgeState,
  noteCommitted,
  planPurge,
  purgeSettled,
  type PurgeState,
  type PurgeTarget,
} from '../windows/repartitionPurgePlan.js';
import { drainCatchUpBudgetMs, partitionsBehind, type DrainingTask } from '../windows/drainCatchUp.js';
import { countPurge } from '../windows/repartitionPurgeTotals.js';
import { decodeRepartitionRecord, repartitionTopicName } from '../windows/repartitionRecords.js';
import type { Stage2CommitFiles } from '../windows/stage2CommitMetadata.js';
import { apply, closeWindows, snapshot, stateKey, stateTopicName, type Stage2State } from '../windows/stage2Windows.js';

export type WindowStageMsg =
  /** Query: connect, join the group; replies WindowStageStartReply. */
  | { type: 'start' }
  /** Query, from the consumer: one fetched batch of a repartition partition; replies once applied. */
  | { type: 'batch'; batch: ConsumedBatch }
  /** From the consumer: a fetch held only transaction markers or aborted records. */
  | { type: 'progress'; progress: PartitionProgress }
  /** Internal: the takeover of `ticket` ended. */
  | { type: 'takenOver'; partition: number; ticket: number; start: Stage2TaskStart }
  | { type: 'takeoverFailed'; partition: number; ticket: number; error: string; code?: ErrorCode }
  /** Internal timer: take the task over again after a refused commit or a failed takeover. */
  | { type: 'retryTakeover'; partition: number; ticket: number }
  /** Internal: the commit of `ticket` ended. */
  | {
      type: 'committed';
      partition: number;
      ticket: number;
      result: Stage2CommitResult;
      /** The offset the commit moved the group to (its last record + 1). */
      next: bigint;
      /** Distinct minutes emitted. */
      windows: number;
      durationMs: number;
    }
  /** `what`: 'compaction' when it was the commit of a merge. */
  | {
      type: 'commitRefused';
      partition: number;
      ticket: number;
      fenced: boolean;
      error: string;
      what?: 'compaction';
    }
  /** Internal timer (and tests): the compaction round of every running task that is due (with `force`: all of them). */
  | { type: 'compact'; force?: boolean }
  /** Internal: the compaction round of `ticket` planned these merges (architecture.md, "Compaction"). */
  | { type: 'compactionPlanned'; partition: number; ticket: number; merges: PlannedMerge[] }
  /** Internal: the merged tmp file of the round's next merge is written; its commit waits for the task's turn. */
  | { type: 'mergePrepared'; partition: number; ticket: number; merge: PlannedMerge; mergedTmp: string; ms: number }
  /** Internal: the commit and exchange of a merge ended (`error`: a file error after the commit, nothing swapped). */
  | {
      type: 'mergePublished';
      partition: number;
      ticket: number;
      merge: PlannedMerge;
      outcome?: SwapOutcome;
      error?: string;
      code?: ErrorCode;
      ms: number;
    }
  /** Internal: the compaction round of `ticket` ended (`error`: it stopped early; the next interval tries again). */
  | { type: 'compactionEnded'; partition: number; ticket: number; vacuumed: number; error?: string; code?: ErrorCode }
  /** Internal: the retention round of `ticket` ended (architecture.md, "Keeping the lake: retention"). */
  | { type: 'expired'; partition: number; ticket: number }
  /** Internal: the purge in flight ended. */
  | { type: 'purged'; ok: boolean; error?: string; durationMs: number }
  /** Internal timer: commit the tasks that are due. */
  | { type: 'tick' }
  /** Query: commit every changed task now; replies WindowStageFlushReply once none is changed or committing. */
  | { type: 'flush' }
  /**
   * Query: read on to the repartition partitions' ends as they are now (bounded), stop fetching, wait for the batches
   * in flight, then flush; replies WindowStageFlushReply.
   */
  | {
      type: 'drain';
      /** How long to read toward the ends; default windows/drainCatchUp.ts's share of etl.shutdown_timeout. */
      catchUpMs?: number;
    }
  /** Internal: the ends the drain reads to (empty when Kafka did not answer them). */
  | { type: 'drainEnds'; ends: Map<number, string>; error?: string }
  /** Internal: the drain's budget for reading to the ends ran out. */
  | { type: 'drainTimedOut' }
  /** Internal: the consumer is quiet (drain). */
  | { type: 'quiesced' }
  /** Query: leave the group and close every producer; replies { ok: true }. */
  | { type: 'close' }
  /** Query; replies WindowStageMetrics. */
  | { type: 'metrics' }
  /** The consumer failed and will not restart by itself. */
  | { type: 'consumerFailed'; error: string };

/** `code`: the failure's SDP_ERR_* code, when it had one. */
export type WindowStageStartReply = { ok: true; partitions: number } | { ok: false; error: string; code?: ErrorCode };

export interface WindowStageFlushReply {
  /** Commits made by this actor so far. */
  commits: number;
}

export type WindowTaskPhase = 'waiting' | 'takingOver' | 'running' | 'failed';

export interface WindowTaskStatus {
  partition: number;
  phase: WindowTaskPhase;
  /** Next repartition offset to read; null before its takeover answered. */
  position: string | null;
  /** The offset of the last commit (next offset to read after it); null before the takeover answered. */
  committedOffset: string | null;
  /** The task's global watermark (min over the clickstream partitions' marks); null while unknown. */
  watermarkMs: number | null;
  emittedFrontierMs: number | null;
  /** Open windows (minutes) and open (minute, url) counts. */
  windowsOpen: number;
  openEntries: number;
  /** Late page views over the task's whole history (restored with its state). */
  lateEventsTotal: number;
  /** Clickstream partitions heard from. */
  sources: number;
  commits: number;
  rowsEmittedTotal: number;
  /** Why a failed task stopped, or why the last takeover or commit failed. */
  error: string | null;
}

export interface WindowStageMetrics {
  /** R, once the consumer started. */
  partitions: number | null;
  tasks: WindowTaskStatus[];
  /** Σ over this member's tasks (each task's count is of its urls only). */
  lateEventsTotal: number;
  /** Distinct minutes open in any task of this member. */
  windowsOpen: number;
  /**
   * Per clickstream partition, the highest watermark its marks told this member's tasks (absent: none known): what a
   * partition's watermark was before its stage 1 moved here or restarted and read nothing new yet.
   */
  sourceWatermarks: Map<number, number>;
  /** Min over this member's running tasks; null while any is unknown or there is none. */
  globalWatermarkMs: number | null;
  watermarkLagSeconds: number | null;
  rowsEmittedTotal: number;
  windowsEmittedTotal: number;
  commits: number;
  commitsRefused: number;
  takeovers: number;
  failedTasks: number;
}

/** What lies outside the actor and its lake: Kafka. Tests pass fakes; the defaults talk to the cluster. */
export interface WindowStageKafka {
  /** The transactional producer of task r, under `transactionalId` (`<group>-<repartition topic>-<r>`). */
  createTransactions(transactionalId: string): PartitionTransactions;
  /** The group's committed offset and metadata of repartition partition r, read stably. */
  fetchCommitted(partition: number): Promise<StableOffset>;
  /** The latest snapshot of task r in the state topic; null if none. */
  readState(partition: number): Promise<Buffer | null>;
  /** The repartition topic's id (null if the broker does not tell). */
  topicId(): Promise<string | null>;
  /**
   * Partition → high watermark of the repartition topic: records of transactions still open included, unlike the last
   * stable offset, which a transaction just committed moves only once its markers are written.
   */
  logEnds(): Promise<Map<number, string>>;
  /** DeleteRecords: each partition's records below its offset (kafka/admin/deleteRecords.ts). */
  deleteRecords(targets: readonly PurgeTarget[]): Promise<void>;
}

export interface WindowStageOptions {
  config: Config;
  logger: Logger;
  lakeRoot: string;
  encoderPool: EncoderPool;
  /** Hex id in this process's tmp file names (its checkpoint store's id). */
  writerId: string;
  /** Default 60 000: one-minute windows. */
  windowSizeMs?: number;
  /** Replaces parts of the cluster I/O (tests). */
  kafka?: Partial<WindowStageKafka>;
  /** Consumer factory (tests pass a fake). */
  createConsumer?: typeof createTopicConsumer;
  /** Told once when a task stops for good on a record or state it cannot read (the wiring may escalate). */
  onTaskFailed?: (partition: number, error: SdpError) => void;
  /** Told of each commit of a current task: a checkpoint of its windows (the status counts it). */
  onCommitted?: (partition: number, durationMs: number) => void;
  /** Set: each task deletes its `r<r>` units of the dts that expired (architecture.md, "Keeping the lake"). */
  retention?: RetentionSettings;
  /** Set (`lake.compaction`): each task merges its `r<r>` unit's small files (architecture.md, "Compaction"). */
  compaction?: Stage2CompactionSettings;
}

/** `lake.*` settings of the tasks' compaction. */
export interface Stage2CompactionSettings {
  intervalMs: number;
  targetBytes: number;
  vacuumGraceMs: number;
}

/** A merged tmp file waiting for its task's turn (no commit in flight) to be committed and exchanged. */
interface ReadyMerge {
  merge: PlannedMerge;
  mergedTmp: string;
  /** When its round began to merge it, and how long writing the tmp file took. */
  startedMs: number;
  mergeMs: number;
}

interface Task {
  partition: number;
  ticket: number;
  phase: WindowTaskPhase;
  transactions?: PartitionTransactions;
  state?: Stage2State;
  /** The offset of the last commit (the next to read after it). */
  committedNext?: bigint;
  /** First record applied since the last commit began; null: nothing since (no commit due). */
  firstUncommitted: bigint | null;
  position?: string;
  /** A commit of this task is in flight. */
  committing: boolean;
  /** A retention round of this task is in flight (no commit starts meanwhile); when the next is due. */
  expiring: boolean;
  expireDueMs: number;
  lastCommitMs: number;
  /** The files r's last commit named: a compaction commit carries them again with the same offset. */
  named: Stage2CommitFiles | null;
  /**
   * The state topic holds the snapshot of `committedNext` (r's last commit was ours, or taken over with its snapshot):
   * only then may a compaction commit put metadata on that offset, since a takeover of metadata without its snapshot
   * stops the task (windows/stage2TakeoverPlan.ts).
   */
  backed: boolean;
  /** A compaction round is in flight (merges still to make in `merges`); when the next is due. */
  compacting: boolean;
  compactDueMs: number;
  merges: PlannedMerge[];
  /** R when the task was taken over: task 0's round also vacuums the units nobody owns (`vacuumStage2Unit`). */
  partitions?: number;
  /** The merge the round writes, holds ready or publishes now (one at a time): its merged tmp file is the round's. */
  roundMerge?: PlannedMerge;
  /** Merged and waiting for its commit; `publishing`: its commit and exchange run (no other commit starts). */
  ready?: ReadyMerge;
  publishing: boolean;
  retryTimer?: NodeJS.Timeout;
  error?: string;
  commits: number;
  rowsEmitted: number;
}

interface State {
  consumer?: TopicConsumer;
  partitions?: number;
  topicId?: string | null;
  tasks: Map<number, Task>;
  assigned: Set<number>;
  lastTicket: number;
  /** Refused commits and failed takeovers in a row, per partition. */
  failures: Map<number, number>;
  /** Producers of dropped tasks whose commit is still in flight: closed when it reports. */
  closing: Map<number, PartitionTransactions>;
  /** Per partition, the commit in flight (of the current task or a dropped one), settled when it ends. */
  commitsInFlight: Map<number, Promise<void>>;
  draining: boolean;
  flushWaiters: Array<Ref<WindowStageFlushReply>>;
  /** Drains waiting for the consumer to be quiet before they flush. */
  drainWaiters: Array<Ref<WindowStageFlushReply>>;
  /** The ends a drain reads to, once Kafka answered them; its budget's timer; set once it stops fetching. */
  drainEnds?: Map<number, string>;
  drainTimer?: NodeJS.Timeout;
  quiescing: boolean;
  timer?: NodeJS.Timeout;
  /** Set once the lake's file system answered that it has no directory exchange: no task compacts any more. */
  compactionUnsupported: boolean;
  /** The purge of the repartition topic: what was committed, purged, and when. */
  purge: PurgeState;
  totals: {
    commits: number;
    commitsRefused: number;
    takeovers: number;
    rowsEmitted: number;
    windowsEmitted: number;
  };
}

const TICK_MS = 1_000;

// Longer than 80 lines on purpose: an actor's factory is its scope. The per-message handlers and helpers inside share
// its options and logger, and each stays short; the rules it applies are pure modules (windows/stage2*.ts).
export function spawnWindowStage(
  parent: AnyRef,
  options: WindowStageOptions,
  name = 'window-stage',
): Ref<WindowStageMsg> {
  const { config, lakeRoot } = options;
  const group = config.etl.consumer_group;
  const topic = repartitionTopicName(group);
  const stateTopic = stateTopicName(group);
  const sizeMs = options.windowSizeMs ?? 60_000;
  const logger = options.logger.child({ component: 'window-stage', topic });
  const queryTimeoutMs = config.etl.shutdown_timeout + 60_000;
  const kafka: WindowStageKafka = {
    createTransactions: (transactionalId) =>
      createPartitionTransactions(config, options.logger, { transactionalId, groupId: group }),
    fetchCommitted: async (partition) => (await fetchStableOffsets(config, group, topic, [partition])).get(partition)!,
    readState: async (partition) =>
      (await readLatestState(config, options.logger, stateTopic, partition, stateKey(partition))).value,
    topicId: () => fetchTopicId(config, topic),
    logEnds: async () => {
      const logs = (await fetchPartitionLogs(config, options.logger, [topic])).get(topic) ?? [];
      const ends = await fetchHighWatermarks(config, topic, logs);
      return new Map([...ends].map(([p, end]) => [p, end.toString()]));
    },
    deleteRecords: (targets) => deleteRecordsBefore(config, options.logger, topic, targets),
    ...options.kafka,
  };
  // False once stopped: work of this incarnation still in flight reports to nobody and commits nothing.
  let alive = true;

  /** Closes the task's producer, or keeps it until its commit in flight reports (closing it would fail that). */
  function retire(s: State, task: Task): void {
    const tx = task.transactions;
    task.transactions = undefined;
    if (!tx) return;
    if (task.committing || task.publishing) s.closing.set(task.ticket, tx);
    else void tx.close().catch((err: unknown) => logger.warn({ err, partition: task.partition }, 'close failed'));
  }

  /** Pauses r and starts its takeover under a new ticket; the answer comes back as `takenOver`. */
  function startTakeover(s: State, partition: number, self: Ref<WindowStageMsg>): void {
    const previous = s.tasks.get(partition);
    if (previous?.retryTimer) clearTimeout(previous.retryTimer);
    s.consumer?.pause(partition);
    s.lastTicket += 1;
    const ticket = s.lastTicket;
    const task: Task = {
      partition,
      ticket,
      phase: 'takingOver',
      firstUncommitted: null,
      committing: false,
      expiring: false,
      expireDueMs: 0,
      lastCommitMs: Date.now(),
      named: null,
      backed: false,
      compacting: false,
      compactDueMs: Date.now() + (options.compaction?.intervalMs ?? 0),
      merges: [],
      partitions: s.partitions ?? undefined,
      publishing: false,
      commits: previous?.commits ?? 0,
      rowsEmitted: previous?.rowsEmitted ?? 0,
    };
    s.tasks.set(partition, task);
    let transactions: PartitionTransactions;
    try {
      transactions = kafka.createTransactions(`${group}-${topic}-${partition}`);
    } catch (err) {
      dispatch(self, { type: 'takeoverFailed', partition, ticket, error: messageOf(err) });
      return;
    }
    task.transactions = transactions;
    const partitions = s.partitions!;
    // A dropped task's commit still in flight ends first: fenced, it deletes its tmp files, which carry the names this
    // takeover's first commit may write again (same offsets, same writer).
    const previousCommit = s.commitsInFlight.get(partition);
    (async () => {
      await previousCommit;
      if (s.topicId === undefined) s.topicId = await kafka.topicId();
      return takeOverStage2Task({
        lakeRoot,
        logger,
        options: { partition, partitions, sizeMs },
        transactions,
        topicId: s.topicId,
        fetchCommitted: () => kafka.fetchCommitted(partition),
        readState: () => kafka.readState(partition),
        stillOwned: () => alive && s.tasks.get(partition)?.ticket === ticket,
      });
    })().then(
      (start) => {
        if (alive) dispatch(self, { type: 'takenOver', partition, ticket, start });
        else void transactions.close().catch(() => undefined);
      },
      (err: unknown) => {
        void transactions.close().catch(() => undefined);
        if (alive)
          dispatch(self, {
            type: 'takeoverFailed',
            partition,
            ticket,
            error: messageOf(err),
            ...(isSdpError(err) ? { code: err.code } : {}),
          });
      },
    );
  }

  function isCurrent(s: State, msg: { partition: number; ticket: number }): Task | undefined {
    const task = s.tasks.get(msg.partition);
    return task && task.ticket === msg.ticket ? task : undefined;
  }

  function onTakenOver(s: State, msg: Extract<WindowStageMsg, { type: 'takenOver' }>): void {
    const task = isCurrent(s, msg);
    if (task?.phase !== 'takingOver') return; // revoked meanwhile: its producer was closed with it
    const { start } = msg;
    const resume = start.resume.toString();
    task.phase = 'running';
    task.state = start.state;
    task.committedNext = start.resume;
    task.named = start.committedFiles;
    task.backed = start.state.offset !== null && start.state.offset + 1n === start.resume;
    task.position = resume;
    task.lastCommitMs = Date.now();
    s.totals.takeovers += 1;
    s.consumer?.seek(msg.partition, resume);
    s.consumer?.resume(msg.partition);
    logger.info(
      {
        partition: msg.partition,
        start_offset: resume,
        source: start.source,
        windows_open: start.state.open.size,
        emitted_frontier:
          start.state.emittedFrontierMs === -Infinity ? null : new Date(start.state.emittedFrontierMs).toISOString(),
        renames_completed: start.renamed,
        tmp_deleted: start.deleted,
        missing_files: start.missing,
        duration_ms: start.durationMs,
      },
      'window task taken over',
    );
  }

  /** A task that cannot go on by itself: paused, its error kept for `metrics`, the wiring told once. */
  function failTask(s: State, task: Task, err: unknown, offset?: string): void {
    const error =
      err instanceof SdpError
        ? err
        : new SdpError(ErrorCodes.WINDOW_TASK_FAILED, messageOf(err), [], { cause: err, retriable: false });
    task.phase = 'failed';
    task.error = `${error.code}: ${error.message}${error.details.length > 0 ? ` (${error.details.join('; ')})` : ''}`;
    s.consumer?.pause(task.partition);
    retire(s, task);
    logger.error(
      {
        partition: task.partition,
        offset: offset ?? null,
        code: error.code,
        err: error.message,
        details: error.details,
      },
      offset === undefined
        ? 'window task stopped: its state cannot be taken over'
        : 'window task stopped at a record it cannot read (nothing after it is applied or committed)',
    );
    options.onTaskFailed?.(task.partition, error);
  }

  /** After a refused commit or a failed takeover: again after a back-off, as long as the group assigns r here. */
  function retryLater(s: State, task: Task, self: Ref<WindowStageMsg>, what: string, error: string): void {
    const failures = (s.failures.get(task.partition) ?? 0) + 1;
    s.failures.set(task.partition, failures);
    const delayMs = commitRetryDelayMs(failures);
    if (delayMs === null)
      throw new SdpError(
        ErrorCodes.WINDOW_TASK_FAILED,
        `window task ${task.partition}: ${what} failed ${failures} times in a row; last: ${error}`,
      );
    task.phase = 'waiting';
    task.error = error;
    task.state = undefined;
    task.position = undefined;
    s.consumer?.pause(task.partition);
    const again = !s.draining && s.assigned.has(task.partition);
    logger.warn(
      { partition: task.partition, err: error, failures, take_over_again: again, retry_in_ms: again ? delayMs : null },
      `window task ${what} failed`,
    );
    if (!again) {
      s.tasks.delete(task.partition);
      return;
    }
    const { partition, ticket } = task;
    task.retryTimer = setTimeout(() => dispatch(self, { type: 'retryTakeover', partition, ticket }), delayMs);
  }

  const UNREADABLE_STATE = new Set<ErrorCode>([
    ErrorCodes.CHECKPOINT_METADATA_INVALID,
    ErrorCodes.CHECKPOINT_METADATA_NEWER,
    ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE,
    ErrorCodes.WINDOW_SNAPSHOT_INVALID,
  ]);

  function onTakeoverFailed(
    s: State,
    msg: Extract<WindowStageMsg, { type: 'takeoverFailed' }>,
    self: Ref<WindowStageMsg>,
  ): void {
    const task = isCurrent(s, msg);
    if (!task) return;
    task.transactions = undefined; // closed by the takeover's promise
    // What Kafka holds for r says something this build cannot resume from: trying again would read the same.
    if (msg.code !== undefined && UNREADABLE_STATE.has(msg.code)) {
      failTask(s, task, new SdpError(msg.code, msg.error, [], { retriable: false }));
      return;
    }
    retryLater(s, task, self, 'takeover', msg.error);
  }

  /** Applies one batch of r's records to its task. */
  function onBatch(s: State, batch: ConsumedBatch): void {
    const task = s.tasks.get(batch.partition);
    if (task?.phase !== 'running' || task.state === undefined || task.position === undefined) return;
    const position = BigInt(task.position);
    if (BigInt(batch.lastOffset) < position) return; // already applied
    if (BigInt(batch.fetchedOffset) > position) {
      // kafkajs answered OFFSET_OUT_OF_RANGE by moving to the log start: records deleted unread (retention).
      const fields = {
        partition: batch.partition,
        expected_offset: task.position,
        fetched_offset: batch.fetchedOffset,
      };
      if (config.etl.on_offset_out_of_range !== 'earliest') {
        failTask(
          s,
          task,
          new SdpError(
            ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE,
            `${topic}[${batch.partition}]: offsets ${position}..${BigInt(batch.fetchedOffset) - 1n} were deleted ` +
              'before they were read (etl.on_offset_out_of_range)',
          ),
        );
        return;
      }
      logger.warn(fields, 'page-view counts skipped: deleted by retention before they were read');
    }
    let applied = task.state;
    for (const message of batch.messages) {
      if (applied.offset !== null && BigInt(message.offset) <= applied.offset) continue; // a replay
      try {
        const next = apply(applied, decodeRepartitionRecord(message.key, message.value), message.offset);
        if (next !== applied && task.firstUncommitted === null) task.firstUncommitted = BigInt(message.offset);
        applied = next;
      } catch (err) {
        task.state = applied;
        failTask(s, task, err, message.offset);
        return;
      }
    }
    task.state = applied;
    task.position = (BigInt(batch.lastOffset) + 1n).toString();
  }

  /** Starts the commit of every running task that changed and is due (all of them while a flush waits). */
  function maybeCommit(s: State, self: Ref<WindowStageMsg>): void {
    const nowMs = Date.now();
    const force = s.flushWaiters.length > 0;
    for (const task of s.tasks.values()) {
      if (task.phase !== 'running' || task.committing || task.expiring || task.publishing) continue;
      if (task.firstUncommitted === null) continue;
      if (!force && nowMs - task.lastCommitMs < config.etl.checkpoint_interval) continue;
      startCommit(s, task, self);
    }
    settleFlush(s);
  }

  function startCommit(s: State, task: Task, self: Ref<WindowStageMsg>): void {
    const closed = closeWindows(task.state!);
    task.state = closed.state;
    const first = task.firstUncommitted!;
    const last = closed.state.offset!;
    task.firstUncommitted = null;
    task.committing = true;
    task.lastCommitMs = Date.now();
    const { partition, ticket } = task;
    const startedMs = Date.now();
    const windows = new Set(closed.rows.map((r) => r.minuteStartMs)).size;
    if (closed.lateCounts.length > 0)
      logger.info(
        {
          partition,
          late_page_views: closed.lateCounts.reduce((sum, c) => sum + c.count, 0),
          late_windows: closed.lateCounts.length,
        },
        'late page views (their windows were already emitted)',
      );
    const commit = commitStage2Task(
      {
        lakeRoot,
        encoderPool: options.encoderPool,
        encoder: config.etl.parquet_encoder,
        rowGroupRows: config.etl.row_group_rows,
        writer: options.writerId,
        topicId: s.topicId ?? null,
        repartitionTopic: topic,
        stateTopic,
        transactions: task.transactions!,
        stillOwned: () => alive && s.tasks.get(partition)?.ticket === ticket && task.phase === 'running',
      },
      { partition, first, last, rows: closed.rows, snapshot: snapshot(closed.state) },
    );
    const settled = commit.then(
      () => undefined,
      () => undefined,
    );
    s.commitsInFlight.set(partition, settled);
    void settled.then(() => {
      if (s.commitsInFlight.get(partition) === settled) s.commitsInFlight.delete(partition);
    });
    commit.then(
      (result) => {
        if (alive)
          dispatch(self, {
            type: 'committed',
            partition,
            ticket,
            result,
            next: last + 1n,
            windows,
            durationMs: Date.now() - startedMs,
          });
      },
      (err: unknown) => {
        if (alive)
          dispatch(self, { type: 'commitRefused', partition, ticket, fenced: isFenced(err), error: messageOf(err) });
      },
    );
  }

  /**
   * Starts the retention round of every running task that is due, one at a time per task and never beside its commit:
   * the task's `r<r>` units of the expired dts (etl/ownerExpiry.ts). Registered as the partition's work in flight, so
   * a takeover of r in this process waits for it as for a commit.
   */
  function maybeExpire(s: State, self: Ref<WindowStageMsg>): void {
    const retention = options.retention;
    if (!retention || s.draining) return;
    const nowMs = Date.now();
    for (const task of s.tasks.values()) {
      if (task.phase !== 'running' || task.committing || task.expiring || task.compacting) continue;
      if (nowMs < task.expireDueMs) continue;
      task.expiring = true;
      const { partition, ticket } = task;
      // Task 0 also expires the clickstream_agg units no current task writes (lake/ownerExpiryRule.ts `expiresUnit`).
      const owner = { kind: 'task', partition, partitions: s.partitions } as const;
      const stillOwned = (): boolean => alive && s.tasks.get(partition)?.ticket === ticket && task.phase === 'running';
      const round = runExpiryRound(lakeRoot, retention, owner, options.writerId, logger, stillOwned).then(
        () => undefined,
      );
      s.commitsInFlight.set(partition, round);
      void round.then(() => {
        if (s.commitsInFlight.get(partition) === round) s.commitsInFlight.delete(partition);
        if (alive) dispatch(self, { type: 'expired', partition, ticket });
      });
    }
  }

  function onExpired(s: State, msg: Extract<WindowStageMsg, { type: 'expired' }>, self: Ref<WindowStageMsg>): void {
    const task = isCurrent(s, msg);
    if (task) {
      task.expiring = false;
      task.expireDueMs = Date.now() + options.retention!.intervalMs;
      maybePublish(s, task, self);
    }
    maybeCommit(s, self);
  }

  /**
   * Starts the compaction round of every running task that is due (architecture.md, "Compaction", "Inside the ETL"):
   * its merges planned among its committed files of `r<r>`, a dt that expired left to retention. One round per task at
   * a time, never beside its retention round; none while draining or once exchange proved unsupported.
   */
  function maybeCompact(s: State, self: Ref<WindowStageMsg>, force = false): void {
    const settings = options.compaction;
    if (!settings || s.draining || s.compactionUnsupported) return;
    const nowMs = Date.now();
    for (const task of s.tasks.values()) {
      // Not before the state topic holds the snapshot of r's committed offset (`backed`).
      if (task.phase !== 'running' || task.compacting || task.expiring || !task.backed) continue;
      if (!force && nowMs < task.compactDueMs) continue;
      task.compacting = true;
      const { partition, ticket } = task;
      const retention = options.retention;
      planStage2TaskMerges(lakeRoot, partition, settings.targetBytes, nowMs).then(
        (merges) => {
          const due = merges.filter((m) => retention === undefined || !dtExpires(m.dt, Date.now(), retention.days));
          if (alive) dispatch(self, { type: 'compactionPlanned', partition, ticket, merges: due });
        },
        (err: unknown) => {
          if (alive) dispatch(self, { type: 'compactionEnded', partition, ticket, vacuumed: 0, ...failure(err) });
        },
      );
    }
  }

  /**
   * The round's next merge: its merged tmp file, written beside the task's commits (it reads committed files no
   * commit changes, never one of the newest commit's), one merge per process at a time. No merge left: the vacuum of
   * the unit's old versions ends the round.
   */
  function prepareNext(task: Task, self: Ref<WindowStageMsg>): void {
    const { partition, ticket } = task;
    const merge = task.merges.shift();
    task.roundMerge = merge;
    if (merge === undefined) {
      const graceMs = options.compaction!.vacuumGraceMs;
      vacuumStage2Unit(lakeRoot, partition, task.partitions, graceMs, Date.now()).then(
        (vacuumed) => alive && dispatch(self, { type: 'compactionEnded', partition, ticket, vacuumed }),
        (err: unknown) =>
          alive && dispatch(self, { type: 'compactionEnded', partition, ticket, vacuumed: 0, ...failure(err) }),
      );
      return;
    }
    const startedMs = Date.now();
    oneMergeAtATime(() => prepareOwnerMerge(lakeRoot, merge, options.writerId, AGG_MERGE_FAULTS)).then(
      (mergedTmp) =>
        alive &&
        dispatch(self, { type: 'mergePrepared', partition, ticket, merge, mergedTmp, ms: Date.now() - startedMs }),
      (err: unknown) =>
        alive && dispatch(self, { type: 'compactionEnded', partition, ticket, vacuumed: 0, ...failure(err) }),
    );
  }

  function onMergePrepared(
    s: State,
    msg: Extract<WindowStageMsg, { type: 'mergePrepared' }>,
    self: Ref<WindowStageMsg>,
  ): void {
    const task = isCurrent(s, msg);
    if (task?.phase !== 'running') {
      // Dropped meanwhile: nobody commits it. The next owner's takeover may have listed r's tmp files already. Unless
      // r was assigned here again and its new task's round makes the same merge: same plan, same writer id, so the
      // same path, written by the merge slot as soon as this write ended (the next takeover deletes it if uncommitted).
      if (!sameMerge(s.tasks.get(msg.partition), msg)) void removeIfExists(msg.mergedTmp).catch(() => undefined);
      return;
    }
    if (s.draining) {
      // Stopping: its compaction commit would come after the stop's last commit, or not at all, leaving the merged
      // file behind. Never committed, it goes now; the next run plans the merge again.
      void removeIfExists(msg.mergedTmp).catch(() => undefined);
      endRound(task);
      return;
    }
    task.ready = { merge: msg.merge, mergedTmp: msg.mergedTmp, startedMs: Date.now() - msg.ms, mergeMs: msg.ms };
    maybePublish(s, task, self);
  }

  /** The round's next merge, unless the stage is stopping: then the round ends where it is (no vacuum either). */
  function continueRound(s: State, task: Task, self: Ref<WindowStageMsg>): void {
    if (s.draining) endRound(task);
    else prepareNext(task, self);
  }

  function endRound(task: Task): void {
    task.compacting = false;
    task.merges = [];
    task.roundMerge = undefined;
    task.compactDueMs = Date.now() + (options.compaction?.intervalMs ?? 0);
  }

  /** r's current task is another than `msg`'s and its round makes the merge `msg` names, under the same path. */
  function sameMerge(current: Task | undefined, msg: { ticket: number; merge: PlannedMerge }): boolean {
    const round = current?.compacting && current.ticket !== msg.ticket ? current.roundMerge : undefined;
    return (
      round !== undefined &&
      round.table === msg.merge.table &&
      round.dt === msg.merge.dt &&
      round.unit === msg.merge.unit &&
      round.merged === msg.merge.merged
    );
  }

  /**
   * The commit and exchange of the task's ready merge, when no commit or retention round of it runs: the task's turn,
   * so no commit renames into the unit meanwhile and the compaction commit carries the offset and files of the last
   * one. Registered as r's work in flight: a takeover of r in this process waits for it as for a commit.
   */
  function maybePublish(s: State, task: Task, self: Ref<WindowStageMsg>): void {
    const ready = task.ready;
    if (!ready || task.phase !== 'running' || task.committing || task.expiring || task.publishing) return;
    task.ready = undefined;
    task.publishing = true;
    const { partition, ticket } = task;
    const commitFacts = {
      transactions: task.transactions!,
      repartitionTopic: topic,
      partition,
      next: task.committedNext!,
      named: task.named,
      topicId: s.topicId ?? null,
      writer: options.writerId,
    };
    let refused: unknown;
    const commit = async (): Promise<void> => {
      try {
        if (!alive || s.tasks.get(partition)?.ticket !== ticket || task.phase !== 'running')
          throw new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, `stage-2 task ${partition} was dropped: no merge`);
        await commitStage2Merge(commitFacts, ready.merge);
      } catch (err) {
        refused = err;
        throw err;
      }
    };
    const chainStartedMs = Date.now();
    // The window table's fault points, as the process aggregator's: a kill meant for the raw owners never lands here.
    const published = publishMerge(lakeRoot, ready.merge, ready.mergedTmp, commit, Date.now, AGG_MERGE_FAULTS);
    const settled = published.then(
      () => undefined,
      () => undefined,
    );
    s.commitsInFlight.set(partition, settled);
    void settled.then(() => {
      if (s.commitsInFlight.get(partition) === settled) s.commitsInFlight.delete(partition);
    });
    const fields = { partition, ticket, merge: ready.merge };
    published.then(
      (outcome) =>
        alive && dispatch(self, { type: 'mergePublished', ...fields, outcome, ms: ms(ready, chainStartedMs) }),
      (err: unknown) => {
        if (!alive) return;
        if (refused !== undefined) {
          const error = messageOf(err);
          dispatch(self, {
            type: 'commitRefused',
            partition,
            ticket,
            fenced: isFenced(err),
            error,
            what: 'compaction',
          });
        } else dispatch(self, { type: 'mergePublished', ...fields, ...failure(err), ms: ms(ready, chainStartedMs) });
      },
    );
  }

  /** The merge's total and its time on the task's turn (what its commits waited), for the log. */
  function ms(ready: ReadyMerge, chainStartedMs: number): number {
    return Date.now() - Math.min(ready.startedMs, chainStartedMs);
  }

  function onMergePublished(
    s: State,
    msg: Extract<WindowStageMsg, { type: 'mergePublished' }>,
    self: Ref<WindowStageMsg>,
  ): void {
    closeOrphan(s, msg.ticket);
    const task = isCurrent(s, msg);
    const { merge } = msg;
    const fields = {
      component: 'compaction',
      partition: msg.partition,
      ...mergeLogFields(merge),
      ms: msg.ms,
    };
    if (msg.error === undefined) {
      logger.info({ ...fields, outcome: msg.outcome }, 'unit compacted by its owner');
      countMerge(fields, msg.outcome ?? 'unknown');
    }
    if (task) task.publishing = false;
    if (task?.phase === 'running') {
      if (msg.error === undefined) continueRound(s, task, self);
      else onCompactionEnded(s, { ...msg, type: 'compactionEnded', vacuumed: 0 });
    } else if (msg.error !== undefined)
      logger.warn({ ...fields, err: msg.error }, 'compaction of a dropped task failed');
    maybeCommit(s, self);
  }

  function onCompactionEnded(s: State, msg: Extract<WindowStageMsg, { type: 'compactionEnded' }>): void {
    if (msg.code === ErrorCodes.LAKE_SWAP_UNSUPPORTED) s.compactionUnsupported = true;
    if (msg.error !== undefined)
      logger.warn(
        { component: 'compaction', partition: msg.partition, err: msg.error, code: msg.code ?? null },
        'compaction round failed; the next interval tries again',
      );
    const task = isCurrent(s, msg);
    if (!task) return;
    endRound(task);
    if (msg.vacuumed > 0)
      logger.debug({ partition: msg.partition, vacuumed: msg.vacuumed }, 'old unit versions vacuumed');
  }

  /** The producer of a dropped task, kept for its commit in flight: closed now that it reported. */
  function closeOrphan(s: State, ticket: number): void {
    const tx = s.closing.get(ticket);
    s.closing.delete(ticket);
    void tx?.close().catch(() => undefined);
  }

  function onCommitted(s: State, msg: Extract<WindowStageMsg, { type: 'committed' }>, self: Ref<WindowStageMsg>): void {
    closeOrphan(s, msg.ticket);
    s.totals.commits += 1;
    s.totals.rowsEmitted += msg.result.rows;
    s.totals.windowsEmitted += msg.windows;
    const task = isCurrent(s, msg);
    if (task) {
      task.committing = false;
      task.commits += 1;
      task.rowsEmitted += msg.result.rows;
      task.committedNext = msg.next;
      task.named = msg.result.named;
      task.backed = true;
      s.failures.delete(msg.partition);
      // Only the current task's commit: a dropped task's may be older than what r's new owner committed.
      s.purge = noteCommitted(s.purge, msg.partition, msg.next);
      options.onCommitted?.(msg.partition, msg.durationMs);
    }
    logger.debug(
      { partition: msg.partition, rows: msg.result.rows, files: msg.result.files, duration_ms: msg.durationMs },
      'windows committed',
    );
    if (msg.result.rows > 0)
      logger.info(
        { partition: msg.partition, rows: msg.result.rows, dts: msg.result.dts, duration_ms: msg.durationMs },
        'windows committed',
      );
    // A merge waiting for its turn goes before the next commit: it holds no change of the windows, only files.
    if (task) maybePublish(s, task, self);
    maybeCommit(s, self);
    maybePurge(s, self);
  }

  /** Sends the purge that is due, if any (windows/repartitionPurgePlan.ts); the answer comes back as `purged`. */
  function maybePurge(s: State, self: Ref<WindowStageMsg>): void {
    // Stopping: the next owner's purges take it from here, and a request in flight would only hold the exit up.
    if (s.draining) return;
    const owned = new Set([...s.tasks.values()].filter((t) => t.phase === 'running').map((t) => t.partition));
    const nowMs = Date.now();
    const plan = planPurge(s.purge, { nowMs, intervalMs: config.etl.repartition_purge_interval, owned });
    s.purge = plan.state;
    if (plan.targets.length === 0) return;
    kafka.deleteRecords(plan.targets).then(
      () => {
        if (alive) dispatch(self, { type: 'purged', ok: true, durationMs: Date.now() - nowMs });
      },
      (err: unknown) => {
        if (alive) dispatch(self, { type: 'purged', ok: false, error: messageOf(err), durationMs: Date.now() - nowMs });
      },
    );
  }

  function onPurged(s: State, msg: Extract<WindowStageMsg, { type: 'purged' }>): void {
    const targets = s.purge.inFlight ?? [];
    const fields = {
      partitions: targets.map((t) => t.partition),
      offsets: targets.map((t) => t.offset.toString()),
      duration_ms: msg.durationMs,
    };
    s.purge = purgeSettled(s.purge, msg.ok);
    countPurge(msg.ok, targets);
    if (msg.ok) logger.debug(fields, 'repartition records purged');
    else
      logger.warn(
        { ...fields, err: msg.error, retry_in_ms: config.etl.repartition_purge_interval },
        'repartition records not purged (tried again at the next interval)',
      );
  }

  function onCommitRefused(
    s: State,
    msg: Extract<WindowStageMsg, { type: 'commitRefused' }>,
    self: Ref<WindowStageMsg>,
  ): void {
    closeOrphan(s, msg.ticket);
    s.totals.commitsRefused += 1;
    const task = isCurrent(s, msg);
    if (task?.phase !== 'running') {
      if (task) {
        task.committing = false;
        task.publishing = false;
      }
      settleFlush(s);
      return;
    }
    task.committing = false;
    task.publishing = false;
    retire(s, task);
    // What it applied since its last commit is read again by whoever takes r over next (this member or another).
    const what = msg.what === 'compaction' ? 'compaction commit' : 'commit';
    retryLater(s, task, self, msg.fenced ? `${what} (fenced)` : what, msg.error);
    settleFlush(s);
  }

  function settleFlush(s: State): void {
    if (s.flushWaiters.length === 0) return;
    // A compaction commit under way is waited for as a commit is: stopped halfway, it would leave its merged file.
    for (const task of s.tasks.values())
      if (task.phase === 'running' && (task.committing || task.publishing || task.firstUncommitted !== null)) return;
    for (const waiter of s.flushWaiters) dispatch(waiter, { commits: s.totals.commits });
    s.flushWaiters = [];
  }

  /** Applies the group's assignment (etl/assignmentPlan.ts); returns where each kept partition stands. */
  function onAssignment(
    s: State,
    assigned: number[],
    revoked: number[],
    self: Ref<WindowStageMsg>,
  ): Map<number, string> {
    s.assigned = new Set(assigned);
    const running = new Set<number>();
    const pending = new Set<number>();
    const positions = new Map<number, string>();
    for (const [p, task] of s.tasks) {
      if (task.phase === 'running' && task.position !== undefined) {
        running.add(p);
        positions.set(p, task.position);
      } else pending.add(p);
    }
    const plan = planAssignment({ assigned, revoked, owned: running, takingOver: pending, positions });
    for (const partition of plan.release) {
      const task = s.tasks.get(partition);
      if (!task) continue;
      if (task.retryTimer) clearTimeout(task.retryTimer);
      s.tasks.delete(partition);
      retire(s, task);
    }
    // A failed task stays stopped while it stays here.
    for (const p of pending) if (s.tasks.get(p)?.phase === 'failed') s.consumer?.pause(p);
    for (const partition of plan.takeOver) startTakeover(s, partition, self);
    logger.info(
      { assigned, revoked, taking_over: plan.takeOver, kept_at: Object.fromEntries(plan.seeks) },
      'repartition partitions assigned',
    );
    settleFlush(s);
    return plan.seeks;
  }

  function onStart(s: State, ctx: ActorContext<WindowStageMsg>): void {
    const consumer = (options.createConsumer ?? createTopicConsumer)(config, options.logger, {
      topic,
      groupId: group,
      concurrency:
        typeof config.etl.window_partitions === 'number' ? config.etl.window_partitions : config.kafka.partitions,
    });
    s.consumer = consumer;
    const self = ctx.self;
    const replyTo = ctx.sender;
    const answer = (value: WindowStageStartReply): void => {
      if (replyTo) dispatch(replyTo as Ref<WindowStageStartReply>, value);
    };
    (async () => {
      // R: every task is created with it, and a record routed with another R stops its task.
      s.partitions = (await consumer.endOffsets()).size;
      if (s.partitions === 0) throw new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic ${topic} has no partition`);
      await consumer.start({
        onAssignment: (assigned, revoked) => onAssignment(s, assigned, revoked, self),
        onBatch: async (batch) => {
          // Stopped (torn down, killed in a test): nothing to apply to, and a batch that failed would make kafkajs
          // retry it with back-off while its disconnect waits, keeping the partitions from the next owner.
          if (!alive) return;
          try {
            await query<WindowStageMsg, { ok: true }>(self, () => ({ type: 'batch', batch }), queryTimeoutMs);
          } catch (err) {
            if (alive) throw err;
          }
        },
        onProgress: (progress) => dispatch(self, { type: 'progress', progress }),
        onCrash: (error, willRestart) => {
          logger.warn({ err: error, will_restart: willRestart }, 'consumer crashed');
          if (!willRestart) dispatch(self, { type: 'consumerFailed', error: error.message });
        },
      });
    })().then(
      () => {
        logger.info({ partitions: s.partitions }, 'window stage started');
        answer({ ok: true, partitions: s.partitions! });
      },
      (err: unknown) => {
        s.consumer = undefined;
        void consumer.disconnect().catch(() => undefined);
        logger.warn({ err: messageOf(err) }, 'window stage could not start');
        answer({ ok: false, error: messageOf(err), ...(isSdpError(err) ? { code: err.code } : {}) });
      },
    );
  }

  /**
   * A stop (architecture.md, "Windows across members"): stage 1 has just committed its last marks, so the tasks
   * read on to the repartition ends as they are now before the consumer stops; the last commit then carries every
   * window those marks close. Bounded by windows/drainCatchUp.ts.
   */
  function onDrain(s: State, catchUpMs: number | undefined, ctx: ActorContext<WindowStageMsg>): void {
    const self = ctx.self;
    if (ctx.sender) s.drainWaiters.push(ctx.sender as Ref<WindowStageFlushReply>);
    // A second drain waits for the first; once fetching stopped, it asks the consumer again (answered at once).
    if (s.quiescing) quiesce(s, self);
    if (s.draining) return;
    s.draining = true;
    // A merge ready but not yet committing will not be: its file goes (onMergePrepared does so for those still being
    // written).
    for (const task of s.tasks.values()) {
      if (!task.ready) continue;
      void removeIfExists(task.ready.mergedTmp).catch(() => undefined);
      task.ready = undefined;
      endRound(task);
    }
    const consumer = s.consumer;
    if (!consumer) {
      quiesce(s, self);
      return;
    }
    s.drainTimer = setTimeout(
      () => dispatch(self, { type: 'drainTimedOut' }),
      catchUpMs ?? drainCatchUpBudgetMs(config.etl.shutdown_timeout),
    );
    s.drainTimer.unref();
    kafka.logEnds().then(
      (ends) => {
        if (alive) dispatch(self, { type: 'drainEnds', ends });
      },
      (err: unknown) => {
        if (alive) dispatch(self, { type: 'drainEnds', ends: new Map(), error: messageOf(err) });
      },
    );
  }

  function drainingTasks(s: State): DrainingTask[] {
    return [...s.tasks.values()].map((t) => ({
      partition: t.partition,
      running: t.phase === 'running',
      position: t.position,
    }));
  }

  /** Stops fetching once every running task reached the drain's ends. */
  function maybeQuiesce(s: State, self: Ref<WindowStageMsg>): void {
    if (!s.drainEnds || s.quiescing) return;
    if (partitionsBehind(drainingTasks(s), s.drainEnds).length === 0) quiesce(s, self);
  }

  function quiesce(s: State, self: Ref<WindowStageMsg>): void {
    s.quiescing = true;
    if (s.drainTimer) clearTimeout(s.drainTimer);
    // Not awaited here: the batches it waits for need this mailbox.
    void (s.consumer?.quiesce() ?? Promise.resolve()).then(
      () => dispatch(self, { type: 'quiesced' }),
      () => dispatch(self, { type: 'quiesced' }),
    );
  }

  function onClose(s: State, ctx: ActorContext<WindowStageMsg>): void {
    const replyTo = ctx.sender;
    const consumer = s.consumer;
    s.consumer = undefined;
    if (s.timer) clearInterval(s.timer);
    if (s.drainTimer) clearTimeout(s.drainTimer);
    (async () => {
      await consumer?.disconnect();
      for (const task of s.tasks.values()) {
        if (task.retryTimer) clearTimeout(task.retryTimer);
        retire(s, task);
      }
      s.tasks.clear();
    })().then(
      () => replyTo && dispatch(replyTo, { ok: true }),
      (err: unknown) => {
        logger.warn({ err }, 'window stage close failed');
        if (replyTo) dispatch(replyTo, { ok: false, error: messageOf(err) });
      },
    );
  }

  function metricsOf(s: State, nowMs: number): WindowStageMetrics {
    const tasks: WindowTaskStatus[] = [];
    const minutes = new Set<number>();
    const sourceWatermarks = new Map<number, number>();
    let watermark: number | null = Infinity;
    for (const task of [...s.tasks.values()].sort((a, b) => a.partition - b.partition)) {
      const st = task.state;
      for (const [source, mark] of st?.sources ?? [])
        if (Number.isFinite(mark.watermarkMs) && mark.watermarkMs > (sourceWatermarks.get(source) ?? -Infinity))
          sourceWatermarks.set(source, mark.watermarkMs);
      let openEntries = 0;
      if (st)
        for (const [startMs, byUrl] of st.open) {
          minutes.add(startMs);
          openEntries += byUrl.size;
        }
      if (task.phase === 'running' && st)
        watermark = watermark === null || !Number.isFinite(st.watermarkMs) ? null : Math.min(watermark, st.watermarkMs);
      tasks.push({
        partition: task.partition,
        phase: task.phase,
        position: task.position ?? null,
        committedOffset: task.committedNext?.toString() ?? null,
        watermarkMs: st && Number.isFinite(st.watermarkMs) ? st.watermarkMs : null,
        emittedFrontierMs: st && Number.isFinite(st.emittedFrontierMs) ? st.emittedFrontierMs : null,
        windowsOpen: st?.open.size ?? 0,
        openEntries,
        lateEventsTotal: st?.lateEventsTotal ?? 0,
        sources: st?.sources.size ?? 0,
        commits: task.commits,
        rowsEmittedTotal: task.rowsEmitted,
        error: task.error ?? null,
      });
    }
    const globalWatermarkMs = watermark === Infinity ? null : watermark;
    return {
      partitions: s.partitions ?? null,
      tasks,
      lateEventsTotal: tasks.reduce((sum, t) => sum + t.lateEventsTotal, 0),
      windowsOpen: minutes.size,
      sourceWatermarks,
      globalWatermarkMs,
      watermarkLagSeconds: globalWatermarkMs === null ? null : Math.max(0, (nowMs - globalWatermarkMs) / 1000),
      rowsEmittedTotal: s.totals.rowsEmitted,
      windowsEmittedTotal: s.totals.windowsEmitted,
      commits: s.totals.commits,
      commitsRefused: s.totals.commitsRefused,
      takeovers: s.totals.takeovers,
      failedTasks: tasks.filter((t) => t.phase === 'failed').length,
    };
  }

  // While a drain reads to its ends, every message may be the one that settles it: a batch, a marker-only fetch, or a
  // task behind that is revoked, refused or failed (then no longer waited for).
  const behaviour = (s: State, msg: WindowStageMsg, ctx: ActorContext<WindowStageMsg>): State => {
    const next = handle(s, msg, ctx);
    maybeQuiesce(next, ctx.self);
    return next;
  };

  const handle = (s: State, msg: WindowStageMsg, ctx: ActorContext<WindowStageMsg>): State => {
    switch (msg.type) {
      case 'start':
        onStart(s, ctx);
        return s;
      case 'batch':
        onBatch(s, msg.batch);
        reply(ctx, { ok: true });
        return s;
      case 'progress': {
        const task = s.tasks.get(msg.progress.partition);
        if (task?.phase === 'running' && task.position !== undefined)
          if (BigInt(msg.progress.lastOffset) >= BigInt(task.position))
            task.position = (BigInt(msg.progress.lastOffset) + 1n).toString();
        return s;
      }
      case 'takenOver':
        onTakenOver(s, msg);
        return s;
      case 'takeoverFailed':
        onTakeoverFailed(s, msg, ctx.self);
        return s;
      case 'retryTakeover': {
        const task = isCurrent(s, msg);
        if (task?.phase === 'waiting' && s.assigned.has(msg.partition) && !s.draining)
          startTakeover(s, msg.partition, ctx.self);
        return s;
      }
      case 'committed':
        onCommitted(s, msg, ctx.self);
        return s;
      case 'commitRefused':
        onCommitRefused(s, msg, ctx.self);
        return s;
      case 'tick':
        maybeCommit(s, ctx.self);
        maybeExpire(s, ctx.self);
        maybeCompact(s, ctx.self);
        maybePurge(s, ctx.self);
        return s;
      case 'expired':
        onExpired(s, msg, ctx.self);
        return s;
      case 'compact':
        maybeCompact(s, ctx.self, msg.force ?? false);
        return s;
      case 'compactionPlanned': {
        const task = isCurrent(s, msg);
        if (task?.phase === 'running') {
          task.merges = msg.merges;
          continueRound(s, task, ctx.self);
        }
        return s;
      }
      case 'mergePrepared':
        onMergePrepared(s, msg, ctx.self);
        return s;
      case 'mergePublished':
        onMergePublished(s, msg, ctx.self);
        return s;
      case 'compactionEnded':
        onCompactionEnded(s, msg);
        return s;
      case 'purged':
        onPurged(s, msg);
        return s;
      case 'flush':
        if (ctx.sender) s.flushWaiters.push(ctx.sender as Ref<WindowStageFlushReply>);
        maybeCommit(s, ctx.self);
        return s;
      case 'drain':
        onDrain(s, msg.catchUpMs, ctx);
        return s;
      case 'drainEnds':
        if (!s.draining || s.quiescing) return s;
        if (msg.error !== undefined)
          logger.warn({ err: msg.error }, 'drain: the repartition ends did not come; stopping where the tasks are');
        s.drainEnds = msg.ends;
        return s;
      case 'drainTimedOut': {
        if (!s.draining || s.quiescing) return s;
        const behind = partitionsBehind(drainingTasks(s), s.drainEnds ?? new Map());
        logger.warn(
          { partitions_behind: behind },
          'drain: not at the repartition ends in time; the next start applies the rest',
        );
        quiesce(s, ctx.self);
        return s;
      }
      case 'quiesced':
        s.flushWaiters.push(...s.drainWaiters);
        s.drainWaiters = [];
        maybeCommit(s, ctx.self);
        return s;
      case 'close':
        onClose(s, ctx);
        return s;
      case 'metrics':
        reply<WindowStageMetrics>(ctx, metricsOf(s, Date.now()));
        return s;
      case 'consumerFailed':
        throw new SdpError(ErrorCodes.KAFKA_CONSUMER_FAILED, `consumer of ${topic} failed: ${msg.error}`);
    }
  };

  return spawn<State, WindowStageMsg>(parent, behaviour, name, {
    initialStateFunc: (ctx) => {
      const timer = setInterval(
        () => dispatch(ctx.self, { type: 'tick' }),
        Math.min(TICK_MS, config.etl.checkpoint_interval),
      );
      timer.unref();
      return {
        tasks: new Map(),
        assigned: new Set(),
        lastTicket: 0,
        failures: new Map(),
        closing: new Map(),
        commitsInFlight: new Map(),
        draining: false,
        flushWaiters: [],
        drainWaiters: [],
        quiescing: false,
        timer,
        compactionUnsupported: false,
        purge: initialPurgeState(Date.now()),
        totals: { commits: 0, commitsRefused: 0, takeovers: 0, rowsEmitted: 0, windowsEmitted: 0 },
      };
    },
    onCrash: (_msg, err, ctx) => {
      logger.error({ err }, 'window stage failed');
      // Retriable: the supervisor restarts the ETL, which takes every task over from Kafka (architecture.md,
      // "Supervision").
      markRetriable(err);
      return ctx.escalate;
    },
    afterStop: (s) => {
      alive = false;
      if (s.drainTimer) clearTimeout(s.drainTimer);
      if (s.timer) clearInterval(s.timer);
      for (const task of s.tasks.values()) {
        if (task.retryTimer) clearTimeout(task.retryTimer);
        const tx = task.transactions;
        task.transactions = undefined;
        void tx?.close().catch(() => undefined);
      }
      for (const tx of s.closing.values()) void tx.close().catch(() => undefined);
      s.closing.clear();
      // Stopped without `close`: a consumer left running would keep its partitions from the member that replaces it.
      s.consumer
        ?.disconnect()
        .catch((err: unknown) => logger.warn({ err }, 'disconnect of an abandoned consumer failed'));
      s.consumer = undefined;
    },
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failure as a message's `error` and `code` fields. */
function failure(err: unknown): { error: string; code?: ErrorCode } {
  return { error: messageOf(err), ...(isSdpError(err) ? { code: err.code } : {}) };
}
