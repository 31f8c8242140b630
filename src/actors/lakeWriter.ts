/**
 * lake-writer:<table>:<partition> — buffers the rows (and rejected records) of one Kafka partition
 * column-wise per `dt`, and rolls them into Parquet files when the buffer reaches
 * `etl.max_file_rows`, `etl.max_file_bytes` or `etl.max_file_age`, when nothing arrived for
 * `etl.max_file_idle` (the end of a burst), at the end of a backlog (`endOfBacklog`, from the
 * partition actor: etl/backlogEnd.ts), or on `flush`: every buffered
 * dt is encoded into a `*.parquet.tmp` file (fsynced, on an encoder thread), then ONE checkpoint
 * commits the roll's last offset with the tmp→final renames (architecture.md, "The checkpoint protocol"). One roll is
 * encoded at a time; the next one may be encoded while the previous one commits (a Kafka transaction and its renames),
 * and commits go one after another in offset order, so the writer's committed offsets only move forward.
 *
 * Back-pressure: `append` replies `{ backlogHigh: true }` once a full roll's worth of rows waits
 * behind the rolls in flight; the partition actor then pauses fetching until `onDrained` fires. A roll gives its rows
 * back to the shared budget once its tmp files are written, not when it commits: from then on they are on disk, and
 * a retry of its commit names the same tmp files instead of encoding them again.
 */
import { join, relative } from 'node:path';
import {
  compareOffsets,
  rawSinkId,
  type CheckpointState,
  type RawCheckpoint,
  type Rename,
} from '../checkpoint/checkpointState.js';
import { commitRetryDelayMs, isRawRollCommitted, mustCheckEarlierAttempt } from '../checkpoint/commitRetry.js';
import { hitFault } from '../system/faults.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ensureDir, removeIfExists } from '../lake/durableFs.js';
import type { EncoderName } from '../lake/encoder.js';
import type { BufferBudget } from '../lake/bufferBudget.js';
import type { EncoderPool } from '../lake/encoderPool.js';
import { dtOfMs, partitionDir, rawFilePath, rejectedFilePath, tmpPathFor } from '../lake/layout.js';
import type { ClickstreamRow, IotRow } from '../events/types.js';
import { PackedColumnBuffer, type PackedBatch } from '../lake/packedColumns.js';
import {
  backlogChange,
  minPressureRollRows,
  rollDecision,
  type RollLimits,
  type WriterFacts,
} from '../lake/rollRule.js';
import type { RowOf, TableName } from '../lake/tables.js';
import { dispatch, query, reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';
import type { CheckpointerMsg, CommitReply } from './checkpointer.js';
import { markRetriable } from '../errors.js';

export type RawTable = 'clickstream' | 'iot';

/** A validated event as the decoder returns it (event time in `tsMs`), appended without a copy. */
export type RawRow = ClickstreamRow | IotRow;

/** The lake's `ts` column is read from the events' `tsMs`. */
const RAW_SOURCE_FIELDS = { ts: 'tsMs' };

/** One partition batch's worth of rows, every offset above the writer's committed offset. */
export interface WriterAppend {
  type: 'append';
  /** The ETL generation of the sender; an append of another generation is discarded (default 0). */
  generation?: number;
  /** Offset of the first record this append covers. */
  firstOffset: string;
  /** Offset of the last record this append covers (rows and rejected records alike). */
  lastOffset: string;
  /** Valid rows as packed columns, per UTC date of their `ts` (what the partition actor sends). */
  chunks?: Array<{ dt: string; batch: PackedBatch }>;
  /** Valid rows as objects (tests, tools); buffered by the UTC date of their `tsMs`. */
  rows?: RawRow[];
  rejected: Array<{ dt: string; row: RowOf<'_rejected'> }>;
}

export type LakeWriterMsg =
  /** Query; replies WriterAppendReply. */
  | WriterAppend
  /** Internal timer: roll by age. */
  | { type: 'tick' }
  /** Internal: a roll in flight ended; `generation` tells a stale one from the current one. */
  | {
      type: 'rolled';
      generation: number;
      lastOffset: string;
      rows: number;
      rejected: number;
      files: number;
      durationMs: number;
    }
  /** `rejected`: Kafka refused the commit (fenced, or the ownership ended): not retried, the ETL restarts. */
  | { type: 'rollFailed'; generation: number; lastOffset: string; error: string; rejected?: boolean; fenced?: boolean }
  /** Internal timer: try the failed roll again. */
  | { type: 'retryRoll'; generation: number; lastOffset: string }
  /** Internal: a roll in flight wrote its tmp files; its rows leave memory and the budget. */
  | { type: 'encoded'; generation: number; lastOffset: string }
  /** Internal: the shared budget has room again. */
  | { type: 'budgetRoom' }
  /** The partition read a backlog to its end: roll what is buffered now (once a roll may start). */
  | { type: 'endOfBacklog'; generation?: number }
  /** Query: roll everything buffered now and wait until it is committed; replies WriterFlushReply. */
  | { type: 'flush' }
  /** Query: replies WriterStatus. */
  | { type: 'status' };

export interface WriterAppendReply {
  backlogHigh: boolean;
}

export interface WriterFlushReply {
  committedOffset: string;
}

export interface WriterStatus {
  table: RawTable;
  partition: number;
  committedOffset: string;
  bufferedRows: number;
  rolling: boolean;
  filesWritten: number;
  rowsWritten: number;
}

export interface LakeWriterOptions {
  table: RawTable;
  topic: string;
  partition: number;
  lakeRoot: string;
  /** Last offset already durable in this sink (from the checkpoint store), '-1' for none. */
  committedOffset: string;
  encoderPool: EncoderPool;
  encoder: EncoderName;
  checkpointer: Ref<CheckpointerMsg>;
  maxFileRows: number;
  maxFileBytes: number;
  maxFileAgeMs: number;
  /** Roll a buffer that received nothing for this long. */
  maxFileIdleMs: number;
  rowGroupRows: number;
  /** How long a commit may take before the roll counts as failed. */
  commitTimeoutMs: number;
  logger: Logger;
  /** The backlog went back under the limit: fetching may resume. */
  onDrained: () => void;
  /** The process-wide budget of buffered rows shared by every writer (none: unlimited). */
  budget?: BufferBudget;
  /**
   * The ETL generation (architecture.md, supervision): an in-process restart spawns a writer with
   * the same name, so replies and timers of the old one can reach the new one. Every internal
   * message and every commit carries it; anything of another generation is discarded. Default 0.
   */
  generation?: number;
  /** The checkpoint store's id, in every tmp file name (recovery deletes only its own store's). */
  storeId?: string;
  /** The takeover this writer's partition belongs to: every commit carries it (a stale one is rejected). */
  taskEpoch?: number;
  /**
   * Kafka refused a roll's commit (fenced, or the producer failed): the partition is no longer this writer's to
   * commit. Called once; the writer then rolls nothing more and answers flushes at once, and its owner drops it.
   * Unset: the refusal escalates.
   */
  onLost?: (reason: string) => void;
}

/** The checkpointer said no to a roll: the Kafka transaction did not commit and nothing was renamed. */
class RollRejectedError extends Error {
  /** `fenced`: another holder took the partition's transactional id, so the tmp files named here are nobody's. */
  constructor(
    message: string,
    readonly fenced = false,
  ) {
    super(message);
  }
}

interface PendingRoll {
  firstOffset: string;
  lastOffset: string;
  /** The rows to encode; emptied once they are written (`written`). */
  rows: Map<string, PackedBatch>;
  rejected: Map<string, PackedBatch>;
  rowCount: number;
  rejectedCount: number;
  attempts: number;
  /** The renames of the tmp files this roll wrote (fsynced): a retry commits them again. */
  written?: Rename[];
  /** The writer heard of `written` (`encoded`): the rows went back to the budget, and the next roll may be encoded. */
  onDisk: boolean;
  /** Settles when this roll is committed (fails if it never will be: the partition was lost, the writer stopped). */
  committed: Deferred;
  /** The previous roll's `committed`: this roll's commit waits for it. */
  after?: Promise<void>;
  /** The back-off timer of this roll's failed attempt, cancelled in afterStop. */
  retryTimer?: NodeJS.Timeout;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting (no roll behind it): a failure is then nobody's business.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

interface State {
  buffers: Map<string, PackedColumnBuffer>;
  rejected: Map<string, PackedColumnBuffer>;
  /** Valid rows buffered. */
  bufferedRows: number;
  /** Rows and rejected records buffered: what the roll thresholds count. */
  bufferedRecords: number;
  bufferedBytes: number;
  firstOffset?: string;
  lastOffset?: string;
  bufferSinceMs: number;
  lastAppendMs: number;
  committedOffset: string;
  /** The rolls in flight, oldest first: at most one being encoded, at most two in all. */
  rolls: PendingRoll[];
  /** A backlog ended while no roll could start: roll the rest as soon as one can. */
  rollAfterCurrent: boolean;
  backlogHigh: boolean;
  flushWaiters: Array<Ref<WriterFlushReply>>;
  timer?: NodeJS.Timeout;
  /** Handed to the budget to be told when it has room. */
  wake: () => void;
  filesWritten: number;
  rowsWritten: number;
  /** A commit was refused (onLost): nothing more is rolled; the owner stops this writer. */
  lost: boolean;
  /** The refusal was a fence: the tmp files of the roll behind the refused one are deleted. */
  fenced: boolean;
  /** Lost with a roll behind the refused one under way: the owner hears once it ended (reportLost). */
  lostReason?: string;
}

// Longer than 80 lines on purpose: an actor's factory is its scope. The per-message handlers and
// helpers inside share its options, logger and generation, and each stays short; the rule it
// applies is a pure module (lake/rollRule.ts).
export function spawnLakeWriter(
  parent: AnyRef,
  options: LakeWriterOptions,
  name = `lake-writer-${options.table}-${options.partition}`,
): Ref<LakeWriterMsg> {
  const { table, topic, partition, lakeRoot } = options;
  const sink = rawSinkId(topic, partition);
  const generation = options.generation ?? 0;
  const logger = options.logger.child({ component: 'lake-writer', table, partition, generation });
  // False once stopped: work of this incarnation still in flight (an encode) commits nothing.
  let alive = true;

  const budget = options.budget;
  const limits: RollLimits = {
    maxFileRows: options.maxFileRows,
    maxFileBytes: options.maxFileBytes,
    maxFileAgeMs: options.maxFileAgeMs,
    maxFileIdleMs: options.maxFileIdleMs,
    minPressureRollRows: minPressureRollRows(budget?.limitRows),
  };

  function factsOf(state: State): WriterFacts {
    return {
      bufferedRecords: state.bufferedRecords,
      bufferedBytes: state.bufferedBytes,
      empty: state.firstOffset === undefined,
      bufferSinceMs: state.bufferSinceMs,
      lastAppendMs: state.lastAppendMs,
      rolling: !canStartRoll(state),
      ...(budget ? { budget: { pressing: budget.pressing, exceeded: budget.exceeded } } : {}),
    };
  }

  /** Every roll in flight is on disk and only one is: the next one may be encoded while that one commits. */
  function canStartRoll(state: State): boolean {
    return state.rolls.length === 0 || (state.rolls.length === 1 && state.rolls[0]!.onDisk);
  }

  function updateBacklog(state: State): void {
    const change = backlogChange(state.backlogHigh, factsOf(state), limits);
    if (change === 'high') {
      state.backlogHigh = true;
      // Woken when another writer's roll frees rows; the own roll's are seen in 'encoded'.
      if (budget?.exceeded) budget.whenRoom(state.wake);
    } else if (change === 'drained') {
      state.backlogHigh = false;
      options.onDrained();
    }
  }

  function drain(state: State): PendingRoll | undefined {
    if (state.firstOffset === undefined || state.lastOffset === undefined) return undefined;
    // Counted before the buffers are drained: drain() resets their row counts.
    const rejectedCount = [...state.rejected.values()].reduce((n, b) => n + b.rowCount, 0);
    const roll: PendingRoll = {
      firstOffset: state.firstOffset,
      lastOffset: state.lastOffset,
      rows: new Map([...state.buffers].map(([dt, b]) => [dt, b.drain()])),
      rejected: new Map([...state.rejected].map(([dt, b]) => [dt, b.drain()])),
      rowCount: state.bufferedRows,
      rejectedCount,
      attempts: 0,
      onDisk: false,
      committed: deferred(),
    };
    state.buffers = new Map();
    state.rejected = new Map();
    state.bufferedRows = 0;
    state.bufferedRecords = 0;
    state.bufferedBytes = 0;
    state.firstOffset = undefined;
    state.lastOffset = undefined;
    return roll;
  }

  /**
   * Encodes every file of the roll as tmp (once: a retry finds them written), then commits them with the offset in one
   * checkpoint.
   */
  async function writeRoll(roll: PendingRoll, self: Ref<LakeWriterMsg>): Promise<number> {
    if (mustCheckEarlierAttempt(roll.attempts)) {
      // The previous attempt may have committed after all (a commit that timed out). If it did not, its tmp files are
      // committed again; if Kafka refused it meanwhile (its tmp files may be gone), so is this attempt.
      const state = await query<CheckpointerMsg, CheckpointState>(
        options.checkpointer,
        () => ({ type: 'read' }),
        options.commitTimeoutMs,
      );
      if (isRawRollCommitted(state, sink, partition, roll.lastOffset)) return 0;
    }
    const renames = roll.written ?? (await encodeRoll(roll, self));
    // Commits go in offset order: a roll encoded while the previous one committed waits for that commit.
    if (roll.after) await roll.after;
    hitFault('after-tmp-fsync-before-commit');
    const event: RawCheckpoint = {
      type: 'raw',
      sink,
      topic,
      partition,
      offset: roll.lastOffset,
      renames,
      rows: roll.rowCount,
      rejected: roll.rejectedCount,
    };
    const answer = await query<CheckpointerMsg, CommitReply>(
      options.checkpointer,
      () => ({
        type: 'commit',
        event,
        generation,
        ...(options.taskEpoch !== undefined ? { taskEpoch: options.taskEpoch } : {}),
      }),
      options.commitTimeoutMs,
    );
    if ('rejected' in answer) throw new RollRejectedError(answer.rejected, answer.fenced);
    return renames.length;
  }

  /** Writes the roll's tmp files (fsynced) on the encoder threads; answers their renames. */
  async function encodeRoll(roll: PendingRoll, self: Ref<LakeWriterMsg>): Promise<Rename[]> {
    const renames: Rename[] = [];
    const jobs: Array<Promise<unknown>> = [];
    const add = (finalPath: string, tableName: TableName, batch: PackedBatch, dir: string): void => {
      const tmp = tmpPathFor(finalPath, options.storeId);
      renames.push({ from: relative(lakeRoot, tmp), to: relative(lakeRoot, finalPath) });
      jobs.push(
        ensureDir(dir).then(() =>
          options.encoderPool.encode({
            encoder: options.encoder,
            table: tableName,
            path: tmp,
            batch,
            rowGroupRows: options.rowGroupRows,
          }),
        ),
      );
    };
    for (const [dt, batch] of roll.rows) {
      if (batch.rowCount === 0) continue;
      add(
        rawFilePath(lakeRoot, table, dt, partition, roll.firstOffset, roll.lastOffset),
        table,
        batch,
        partitionDir(lakeRoot, table, dt),
      );
    }
    for (const [dt, batch] of roll.rejected) {
      if (batch.rowCount === 0) continue;
      add(
        rejectedFilePath(lakeRoot, dt, topic, partition, roll.firstOffset, roll.lastOffset),
        '_rejected',
        batch,
        partitionDir(lakeRoot, '_rejected', dt),
      );
    }
    await Promise.all(jobs);
    if (!alive) throw new StaleGenerationError();
    // On disk now: the rows leave memory, and the budget hears of it through the mailbox.
    roll.written = renames;
    roll.rows = new Map();
    roll.rejected = new Map();
    dispatch(self, { type: 'encoded', generation, lastOffset: roll.lastOffset });
    return renames;
  }

  function startRoll(roll: PendingRoll, self: Ref<LakeWriterMsg>): void {
    roll.attempts += 1;
    const startedMs = Date.now();
    writeRoll(roll, self).then(
      (files) => {
        if (alive)
          dispatch(self, {
            type: 'rolled',
            generation,
            lastOffset: roll.lastOffset,
            rows: roll.rowCount,
            rejected: roll.rejectedCount,
            files,
            durationMs: Date.now() - startedMs,
          });
      },
      (err: unknown) => {
        if (alive)
          dispatch(self, {
            type: 'rollFailed',
            generation,
            lastOffset: roll.lastOffset,
            error: err instanceof Error ? err.message : String(err),
            ...(err instanceof RollRejectedError ? { rejected: true, fenced: err.fenced } : {}),
          });
      },
    );
  }

  /** Deletes the tmp files of a roll that will never be committed (the partition was lost before its commit). */
  async function discardTmpFiles(roll: PendingRoll): Promise<void> {
    for (const { from } of roll.written ?? [])
      await removeIfExists(join(lakeRoot, from)).catch((err: unknown) =>
        logger.warn({ err, file: from }, 'tmp file of a roll never committed not deleted'),
      );
  }

  /** Starts a roll when one may start and the buffer is due (or `force`): lake/rollRule.ts. True if it started one. */
  function maybeRoll(state: State, self: Ref<LakeWriterMsg>, force: boolean): boolean {
    if (state.lost) return false;
    if (!rollDecision({ ...factsOf(state), limits, force }, Date.now()).roll) return false;
    const roll = drain(state)!;
    const previous = state.rolls.at(-1);
    if (previous) roll.after = previous.committed.promise;
    state.rolls.push(roll);
    startRoll(roll, self);
    return true;
  }

  /** A roll may have become possible: roll what a flush or the end of a backlog is waiting for, or what is due. */
  function rollWaiting(state: State, self: Ref<LakeWriterMsg>): void {
    const force = state.flushWaiters.length > 0 || state.rollAfterCurrent;
    if (maybeRoll(state, self, force) || state.firstOffset === undefined) state.rollAfterCurrent = false;
  }

  function settleFlush(state: State): void {
    if (state.rolls.length > 0 || state.firstOffset !== undefined) return;
    for (const waiter of state.flushWaiters) dispatch(waiter, { committedOffset: state.committedOffset });
    state.flushWaiters = [];
  }

  /**
   * The roll in flight a reply or timer is about; undefined for one of another generation, or about no roll in
   * flight: it must not touch this writer's state (it would count a roll twice or act on a roll it never had).
   */
  function rollOf(
    state: State,
    msg: { type: string; generation?: number; lastOffset: string },
  ): PendingRoll | undefined {
    const ownGeneration = (msg.generation ?? 0) === generation;
    const roll = ownGeneration ? state.rolls.find((r) => r.lastOffset === msg.lastOffset) : undefined;
    if (roll) return roll;
    const fields = {
      msg_type: msg.type,
      msg_generation: msg.generation ?? 0,
      offset: msg.lastOffset,
      roll_offsets: state.rolls.map((r) => r.lastOffset),
    };
    if (ownGeneration) logger.warn(fields, 'reply for no roll in flight discarded');
    else logger.debug(fields, 'message of another generation discarded');
    return undefined;
  }

  /** Buffers an append's rows and rejected records column-wise per dt. */
  function buffer(state: State, msg: WriterAppend): void {
    if (state.firstOffset === undefined) {
      state.firstOffset = msg.firstOffset;
      state.bufferSinceMs = Date.now();
    }
    state.lastOffset = msg.lastOffset;
    state.lastAppendMs = Date.now();
    const bufferOf = (dt: string): PackedColumnBuffer => {
      let buffer = state.buffers.get(dt);
      if (!buffer)
        state.buffers.set(
          dt,
          (buffer = new PackedColumnBuffer(table, { sourceFields: RAW_SOURCE_FIELDS, dictionary: true })),
        );
      return buffer;
    };
    let appended = 0;
    for (const { dt, batch } of msg.chunks ?? []) {
      bufferOf(dt).appendBatch(batch);
      state.bufferedBytes += batch.approxBytes;
      appended += batch.rowCount;
    }
    for (const row of msg.rows ?? []) {
      const buffer = bufferOf(dtOfMs(row.tsMs));
      const before = buffer.approxBytes;
      buffer.appendRow(row);
      state.bufferedBytes += buffer.approxBytes - before;
      appended += 1;
    }
    state.bufferedRows += appended;
    state.bufferedRecords += appended + msg.rejected.length;
    for (const { dt, row } of msg.rejected) {
      let buffer = state.rejected.get(dt);
      if (!buffer) state.rejected.set(dt, (buffer = new PackedColumnBuffer('_rejected')));
      const before = buffer.approxBytes;
      buffer.appendRow(row);
      state.bufferedBytes += buffer.approxBytes - before;
    }
    budget?.take(appended + msg.rejected.length);
  }

  function onAppend(state: State, msg: WriterAppend, ctx: ActorContext<LakeWriterMsg>): void {
    if ((msg.generation ?? 0) !== generation) {
      // From a partition actor of a torn-down generation: its offsets are not this writer's.
      logger.debug(
        {
          msg_type: msg.type,
          msg_generation: msg.generation ?? 0,
          first_offset: msg.firstOffset,
          last_offset: msg.lastOffset,
        },
        'message of another generation discarded',
      );
      return;
    }
    if (compareOffsets(msg.lastOffset, state.lastOffset ?? state.committedOffset) > 0) {
      buffer(state, msg);
      maybeRoll(state, ctx.self, false);
      updateBacklog(state);
    }
    // Otherwise a replay of offsets this sink already holds: skipped (architecture.md, "The checkpoint protocol": each
    // sink skips what it holds).
    reply<WriterAppendReply>(ctx, { backlogHigh: state.backlogHigh });
  }

  function onRolled(state: State, msg: Extract<LakeWriterMsg, { type: 'rolled' }>, self: Ref<LakeWriterMsg>): void {
    const roll = rollOf(state, msg);
    if (!roll) return;
    // Commits go in offset order, so this is the oldest roll in flight.
    state.committedOffset = msg.lastOffset;
    if (!roll.onDisk) budget?.release(msg.rows + msg.rejected);
    state.rolls = state.rolls.filter((r) => r !== roll);
    roll.committed.resolve();
    state.filesWritten += msg.files;
    state.rowsWritten += msg.rows;
    logger.info(
      { offset: msg.lastOffset, rows: msg.rows, rejected: msg.rejected, files: msg.files, duration_ms: msg.durationMs },
      'roll committed',
    );
    rollWaiting(state, self);
    updateBacklog(state);
    settleFlush(state);
  }

  /** The roll's tmp files are written: its rows go back to the budget, and the next roll may be encoded. */
  function onEncoded(state: State, msg: Extract<LakeWriterMsg, { type: 'encoded' }>, self: Ref<LakeWriterMsg>): void {
    const roll = rollOf(state, msg);
    if (!roll) return;
    if (!roll.onDisk) budget?.release(roll.rowCount + roll.rejectedCount);
    roll.onDisk = true;
    rollWaiting(state, self);
    updateBacklog(state);
  }

  function onRollFailed(
    state: State,
    msg: Extract<LakeWriterMsg, { type: 'rollFailed' }>,
    self: Ref<LakeWriterMsg>,
  ): void {
    const roll = rollOf(state, msg);
    if (!roll) return;
    if (state.lost) {
      // The roll behind the refused one ended: its commit waited for that one's, so it never commits.
      if (state.lostReason !== undefined) reportLost(state, roll);
      return;
    }
    // A rejected Kafka commit is not retried: the transactional producer is gone (fenced, or it failed and must be
    // taken over again). The owner drops this partition and takes it over again if it is still assigned
    // (architecture.md, "Growing past one machine"); its buffered rows are read again after the last commit.
    if (msg.rejected && options.onLost) {
      state.lost = true;
      state.fenced = msg.fenced === true;
      logger.warn({ err: msg.error, offset: roll.lastOffset }, 'roll refused by Kafka: the partition is dropped');
      for (const waiter of state.flushWaiters) dispatch(waiter, { committedOffset: state.committedOffset });
      state.flushWaiters = [];
      for (const r of state.rolls) r.committed.reject(new RollRejectedError(msg.error));
      const behind = state.rolls.find((r) => r !== roll);
      if (behind?.retryTimer) {
        // Its encode failed and waits to be tried again: it has no tmp files, and is never tried again.
        clearTimeout(behind.retryTimer);
        behind.retryTimer = undefined;
      } else if (behind) {
        // Its encode or its wait for the refused commit is under way: the owner hears once it ended (above).
        state.lostReason = msg.error;
        return;
      }
      options.onLost(msg.error);
      return;
    }
    const delayMs = msg.rejected ? null : commitRetryDelayMs(roll.attempts);
    if (delayMs === null) {
      throw new SdpError(
        ErrorCodes.LAKE_WRITE_FAILED,
        `roll of ${table} partition ${partition} offsets ${roll.firstOffset}..${roll.lastOffset} failed ${roll.attempts} times: ${msg.error}`,
      );
    }
    logger.warn({ err: msg.error, attempt: roll.attempts, retry_in_ms: delayMs }, 'roll failed; retrying');
    // Back through the mailbox, so that a stopped writer's timer (cancelled in afterStop) or a
    // stale one is seen as such.
    roll.retryTimer = setTimeout(
      () => dispatch(self, { type: 'retryRoll', generation, lastOffset: roll.lastOffset }),
      delayMs,
    );
  }

  /**
   * The partition was lost with a roll behind the refused one, which has now ended. Fenced, its tmp files are nobody's
   * and go first, as the checkpointer deletes the refused roll's; then the owner hears, and stops this writer, so no
   * writer of the partition here can roll the same names meanwhile. A refusal of a task that ended leaves them to the
   * partition's next takeover, as the checkpointer does.
   */
  function reportLost(state: State, behind: PendingRoll): void {
    const reason = state.lostReason!;
    state.lostReason = undefined;
    const discarded = state.fenced ? discardTmpFiles(behind) : Promise.resolve();
    void discarded.then(() => options.onLost!(reason));
  }

  const behaviour = (state: State, msg: LakeWriterMsg, ctx: ActorContext<LakeWriterMsg>): State => {
    switch (msg.type) {
      case 'append':
        onAppend(state, msg, ctx);
        return state;
      case 'tick':
        maybeRoll(state, ctx.self, false);
        return state;
      case 'rolled':
        onRolled(state, msg, ctx.self);
        return state;
      case 'encoded':
        onEncoded(state, msg, ctx.self);
        return state;
      case 'budgetRoom':
        if (state.backlogHigh) maybeRoll(state, ctx.self, false);
        updateBacklog(state);
        // Still backlogged (the budget filled again at once): wait for the next room.
        if (state.backlogHigh && budget?.exceeded) budget.whenRoom(state.wake);
        return state;
      case 'endOfBacklog':
        if ((msg.generation ?? 0) !== generation) return state;
        if (!canStartRoll(state)) state.rollAfterCurrent = state.firstOffset !== undefined;
        else maybeRoll(state, ctx.self, true);
        updateBacklog(state);
        return state;
      case 'rollFailed':
        onRollFailed(state, msg, ctx.self);
        return state;
      case 'retryRoll': {
        const roll = rollOf(state, msg);
        if (!roll || state.lost) return state;
        roll.retryTimer = undefined;
        startRoll(roll, ctx.self);
        return state;
      }
      case 'flush': {
        if (state.lost) {
          reply<WriterFlushReply>(ctx, { committedOffset: state.committedOffset });
          return state;
        }
        if (ctx.sender) state.flushWaiters.push(ctx.sender as Ref<WriterFlushReply>);
        maybeRoll(state, ctx.self, true);
        settleFlush(state);
        return state;
      }
      case 'status':
        reply<WriterStatus>(ctx, {
          table,
          partition,
          committedOffset: state.committedOffset,
          bufferedRows: state.bufferedRows,
          rolling: state.rolls.length > 0,
          filesWritten: state.filesWritten,
          rowsWritten: state.rowsWritten,
        });
        return state;
    }
  };

  return spawn<State, LakeWriterMsg>(parent, behaviour, name, {
    initialStateFunc: (ctx) => {
      const timer = setInterval(
        () => dispatch(ctx.self, { type: 'tick' }),
        Math.min(1_000, Math.max(50, Math.min(options.maxFileAgeMs, options.maxFileIdleMs) / 4)),
      );
      timer.unref();
      return {
        buffers: new Map(),
        rejected: new Map(),
        bufferedRows: 0,
        bufferedRecords: 0,
        bufferedBytes: 0,
        bufferSinceMs: Date.now(),
        lastAppendMs: Date.now(),
        committedOffset: options.committedOffset,
        rolls: [],
        rollAfterCurrent: false,
        backlogHigh: false,
        wake: () => dispatch(ctx.self, { type: 'budgetRoom' }),
        flushWaiters: [],
        timer,
        filesWritten: 0,
        lost: false,
        fenced: false,
        rowsWritten: 0,
      };
    },
    // A roll that keeps failing escalates, retriable: the pipeline restarts from the last checkpoint
    // (architecture.md, "Supervision").
    onCrash: (_msg, err, ctx) => {
      logger.error({ err }, 'lake writer failed');
      markRetriable(err);
      return ctx.escalate;
    },
    afterStop: (state) => {
      alive = false;
      if (state.timer) clearInterval(state.timer);
      budget?.forget(state.wake);
      // Rows it still held are gone with it (a restart re-reads them from Kafka).
      let held = state.bufferedRecords;
      for (const roll of state.rolls) {
        if (roll.retryTimer) clearTimeout(roll.retryTimer);
        if (!roll.onDisk) held += roll.rowCount + roll.rejectedCount;
        roll.committed.reject(new StaleGenerationError());
      }
      budget?.release(held);
    },
  });
}

/** Thrown inside a stopped writer's roll: it stops before its commit (nobody hears of it). */
class StaleGenerationError extends Error {
  constructor() {
    super('lake writer stopped: roll abandoned before its commit');
  }
}
