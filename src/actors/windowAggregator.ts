/**
 * window-aggregator — event-time one-minute tumbling windows of page views per URL
 * (architecture.md, "Event time"), fed by the clickstream partition actors with counts per (window, url).
 *
 * - `batch` (query): applies one partition batch; replies with the global watermark, which the
 *   partition actor uses to classify its next batch's late events.
 * - Every `etl.checkpoint_interval` (and on `flush`), if anything changed: the rows of the windows
 *   emitted since the last checkpoint are written as `part-<seq>.parquet.tmp` per dt, then ONE
 *   checkpoint commits them together with the state (open windows, watermarks, offset per
 *   partition). A crash at any moment therefore neither emits a window twice nor loses one: the
 *   restored state still holds every window whose rows were not committed.
 * - Windows are emitted when the global watermark passes their end; a timer re-checks every
 *   second, because an idle partition stops holding the watermark back as wall-clock time passes.
 */
import { relative } from 'node:path';
import type { AggCheckpoint, CheckpointState, Rename } from '../checkpoint/checkpointState.js';
import { commitRetryDelayMs, isAggCheckpointCommitted, mustCheckEarlierAttempt } from '../checkpoint/commitRetry.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ensureDir } from '../lake/durableFs.js';
import type { EncoderName } from '../lake/encoder.js';
import type { EncoderPool } from '../lake/encoderPool.js';
import { aggFilePath, dtOfMs, partitionDir, tmpPathFor } from '../lake/layout.js';
import { ColumnBuffer } from '../lake/columnBuffer.js';
import { dispatch, query, reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';
import type { PageViewBatch } from '../windows/pageViewBatch.js';
import { PageViewWindows, type PageViewRow, type PageViewWindowsOptions } from '../windows/pageViewWindows.js';
import type { PartitionWatermarkStatus } from '../windows/watermarks.js';
import type { CheckpointerMsg, CommitReply } from './checkpointer.js';
import { markRetriable } from '../errors.js';

export type WindowAggregatorMsg =
  /** Query; replies AggregatorBatchReply. A batch of another ETL `generation` is discarded (default 0). */
  | { type: 'batch'; batch: PageViewBatch; generation?: number }
  /** Every partition of the topic, sent before the first assignment: they all count from then on. */
  | { type: 'topicPartitions'; partitions: number[] }
  | { type: 'assign'; partitions: number[] }
  | { type: 'revoke'; partitions: number[] }
  /** From a partition actor; one of another ETL `generation` is discarded (default 0). */
  | { type: 'paused'; partition: number; paused: boolean; generation?: number }
  | { type: 'progress'; partition: number; caughtUp: boolean; generation?: number }
  /** Internal timer: emit windows closed by idleness; checkpoint when due. */
  | { type: 'tick' }
  /** Internal: the checkpoint in flight ended; `generation` tells a stale one from the current one. */
  | { type: 'checkpointed'; generation: number; seq: number; rows: number; files: number; durationMs: number }
  | { type: 'checkpointFailed'; generation: number; seq: number; error: string }
  /** Internal timer: try the failed checkpoint again. */
  | { type: 'retryCheckpoint'; generation: number; seq: number }
  /** Query: checkpoint now (open windows stay open); replies AggregatorFlushReply. */
  | { type: 'flush' }
  /** Query; replies AggregatorMetrics. */
  | { type: 'metrics' };

export interface AggregatorBatchReply {
  globalWatermarkMs: number;
}

export interface AggregatorFlushReply {
  seq: number;
}

export interface AggregatorMetrics {
  lateEventsTotal: number;
  windowsOpen: number;
  watermarkLagSeconds: number | null;
  globalWatermarkMs: number | null;
  partitions: PartitionWatermarkStatus[];
  windowsEmittedTotal: number;
  rowsEmittedTotal: number;
  checkpoints: number;
}

export interface WindowAggregatorOptions {
  sink: string;
  topic: string;
  lakeRoot: string;
  windows: PageViewWindowsOptions;
  /** The state of the last committed checkpoint, if any. */
  restored?: { seq: number; state: unknown };
  checkpointIntervalMs: number;
  encoderPool: EncoderPool;
  encoder: EncoderName;
  checkpointer: Ref<CheckpointerMsg>;
  rowGroupRows: number;
  commitTimeoutMs: number;
  logger: Logger;
  /**
   * The ETL generation (architecture.md, supervision): an in-process restart spawns an aggregator
   * with the same name; replies, timers and batches of the old generation are discarded. Default 0.
   */
  generation?: number;
  /** The checkpoint store's id, in every tmp file name (recovery deletes only its own store's). */
  storeId?: string;
  /** How long a partition stays unassigned here before the warning that windows wait for it. Default 60 s. */
  unownedWarnMs?: number;
}

interface InFlightCheckpoint {
  seq: number;
  rows: PageViewRow[];
  attempts: number;
  event?: AggCheckpoint;
}

interface State {
  windows: PageViewWindows;
  /** Sequence number of the last committed checkpoint. */
  seq: number;
  /** Rows of windows emitted but not yet committed. */
  pendingRows: PageViewRow[];
  /** Batches applied since the last checkpoint began. */
  dirty: boolean;
  inFlight?: InFlightCheckpoint;
  lastCheckpointMs: number;
  flushWaiters: Array<Ref<AggregatorFlushReply>>;
  timer?: NodeJS.Timeout;
  /** The back-off timer of a failed checkpoint, cancelled in afterStop. */
  retryTimer?: NodeJS.Timeout;
  windowsEmittedTotal: number;
  rowsEmittedTotal: number;
  checkpoints: number;
  /** Partitions not assigned here, since when (wall clock); the ones already warned about. */
  unowned: Map<number, { sinceMs: number; warned: boolean }>;
}

const TICK_MS = 1_000;
/** Longer than a rebalance around a dead member (session timeout 10 s) takes. */
const UNOWNED_WARN_MS = 60_000;

// Longer than 80 lines on purpose: an actor's factory is its scope. The per-message handlers and
// helpers inside share its options and logger, and each stays short.
export function spawnWindowAggregator(
  parent: AnyRef,
  options: WindowAggregatorOptions,
  name = 'window-aggregator',
): Ref<WindowAggregatorMsg> {
  const generation = options.generation ?? 0;
  const logger = options.logger.child({ component: 'window-aggregator', generation });
  const { lakeRoot } = options;
  // False once stopped: a checkpoint of this incarnation still being encoded commits nothing.
  let alive = true;

  function emit(state: State, nowMs: number): void {
    for (const window of state.windows.emitReady(nowMs)) {
      state.pendingRows.push(...window.rows);
      state.windowsEmittedTotal += 1;
      state.rowsEmittedTotal += window.rows.length;
    }
  }

  /** Writes the emitted rows as tmp files per dt and commits them with the state in one checkpoint. */
  async function writeCheckpoint(event: AggCheckpoint, rows: readonly PageViewRow[], attempt: number): Promise<number> {
    if (mustCheckEarlierAttempt(attempt)) {
      // The previous attempt may have committed after all (its reply timed out): committing
      // again would journal it twice and rewrite the tmp files the committed one renamed.
      const state = await query<CheckpointerMsg, CheckpointState>(
        options.checkpointer,
        () => ({ type: 'read' }),
        options.commitTimeoutMs,
      );
      if (isAggCheckpointCommitted(state, options.sink, event.seq)) return 0;
    }
    const byDt = new Map<string, ColumnBuffer<'clickstream_agg'>>();
    for (const row of rows) {
      const dt = dtOfMs(row.minuteStartMs);
      let buffer = byDt.get(dt);
      if (!buffer) byDt.set(dt, (buffer = new ColumnBuffer('clickstream_agg')));
      buffer.append({ minute_start: row.minuteStartMs, minute_end: row.minuteEndMs, url: row.url, pv: row.pv });
    }
    const renames: Rename[] = [];
    await Promise.all(
      [...byDt].map(async ([dt, buffer]) => {
        const finalPath = aggFilePath(lakeRoot, dt, event.seq);
        const tmp = tmpPathFor(finalPath, options.storeId);
        await ensureDir(partitionDir(lakeRoot, 'clickstream_agg', dt));
        await options.encoderPool.encode({
          encoder: options.encoder,
          table: 'clickstream_agg',
          path: tmp,
          batch: buffer.drain(),
          rowGroupRows: options.rowGroupRows,
        });
        renames.push({ from: relative(lakeRoot, tmp), to: relative(lakeRoot, finalPath) });
      }),
    );
    renames.sort((a, b) => a.to.localeCompare(b.to));
    if (!alive) throw new Error('window aggregator stopped: checkpoint abandoned before its commit');
    await query<CheckpointerMsg, CommitReply>(
      options.checkpointer,
      () => ({ type: 'commit', event: { ...event, renames }, generation }),
      options.commitTimeoutMs,
    );
    return renames.length;
  }

  function runCheckpoint(state: State, self: Ref<WindowAggregatorMsg>): void {
    const inFlight = state.inFlight!;
    inFlight.attempts += 1;
    const startedMs = Date.now();
    writeCheckpoint(inFlight.event!, inFlight.rows, inFlight.attempts).then(
      (files) => {
        if (alive)
          dispatch(self, {
            type: 'checkpointed',
            generation,
            seq: inFlight.seq,
            rows: inFlight.rows.length,
            files,
            durationMs: Date.now() - startedMs,
          });
      },
      (err: unknown) => {
        if (alive)
          dispatch(self, {
            type: 'checkpointFailed',
            generation,
            seq: inFlight.seq,
            error: err instanceof Error ? err.message : String(err),
          });
      },
    );
  }

  /** Starts a checkpoint when none is in flight and something changed (or a flush waits). */
  function maybeCheckpoint(state: State, self: Ref<WindowAggregatorMsg>, force: boolean): void {
    if (state.inFlight) return;
    const due = Date.now() - state.lastCheckpointMs >= options.checkpointIntervalMs;
    if (!force && !due) return;
    state.lastCheckpointMs = Date.now();
    if (!state.dirty && state.pendingRows.length === 0) {
      settleFlush(state);
      return;
    }
    const seq = state.seq + 1;
    const snapshot = state.windows.toJSON();
    const offsets: Record<string, string> = {};
    for (const { partition, lastOffset } of snapshot.offsets) offsets[partition] = lastOffset;
    state.inFlight = {
      seq,
      rows: state.pendingRows,
      attempts: 0,
      event: {
        type: 'agg',
        sink: options.sink,
        topic: options.topic,
        seq,
        offsets,
        state: snapshot,
        renames: [],
        rows: state.pendingRows.length,
      },
    };
    state.pendingRows = [];
    state.dirty = false;
    runCheckpoint(state, self);
  }

  function settleFlush(state: State): void {
    if (state.inFlight || state.dirty || state.pendingRows.length > 0) return;
    for (const waiter of state.flushWaiters) dispatch(waiter, { seq: state.seq });
    state.flushWaiters = [];
  }

  /** Windows wait for a partition nobody here consumes: say so once it lasts, as they never close. */
  function watchUnowned(state: State, nowMs: number): void {
    for (const p of state.windows.partitionStatus(nowMs)) {
      if (p.assigned) {
        state.unowned.delete(p.partition);
        continue;
      }
      const entry = state.unowned.get(p.partition) ?? { sinceMs: nowMs, warned: false };
      state.unowned.set(p.partition, entry);
      if (!entry.warned && nowMs - entry.sinceMs >= (options.unownedWarnMs ?? UNOWNED_WARN_MS)) {
        entry.warned = true;
        logger.warn(
          {
            partition: p.partition,
            unassigned_s: Math.round((nowMs - entry.sinceMs) / 1000),
            watermark_ms: p.watermarkMs,
          },
          // A second process in the group (etl.windows: process, or auto deciding process for a group whose floors
          // are this aggregator's) takes partitions this one waits for: the windows stall until one leaves.
          'windows wait for a partition not assigned to this process: etl.windows: process counts the windows in one ' +
            'process, so if another member of the consumer group is running, stop it, or move the group to ' +
            'etl.windows: members (architecture.md, "Windows across members")',
        );
      }
    }
  }

  /** A reply or timer of another generation, or about a checkpoint that is not the one in flight. */
  function isStale(state: State, msg: { type: string; generation: number; seq: number }): boolean {
    if (msg.generation === generation && state.inFlight !== undefined && state.inFlight.seq === msg.seq) return false;
    const fields = {
      msg_type: msg.type,
      msg_generation: msg.generation,
      seq: msg.seq,
      in_flight_seq: state.inFlight?.seq ?? null,
    };
    if (msg.generation === generation) logger.warn(fields, 'reply for no checkpoint in flight discarded');
    else logger.debug(fields, 'message of another generation discarded');
    return true;
  }

  /** A message of a partition actor of another generation (a torn-down one): logged and dropped. */
  function isOtherGeneration(msg: { type: string; generation?: number | undefined; partition: number }): boolean {
    if ((msg.generation ?? 0) === generation) return false;
    logger.debug(
      { msg_type: msg.type, msg_generation: msg.generation ?? 0, partition: msg.partition },
      'message of another generation discarded',
    );
    return true;
  }

  /** Applies a partition actor's batch to the windows; replies the global watermark. */
  function onBatch(
    state: State,
    msg: Extract<WindowAggregatorMsg, { type: 'batch' }>,
    nowMs: number,
    ctx: ActorContext<WindowAggregatorMsg>,
  ): void {
    // From a partition actor of a torn-down generation, applying it would skip the offsets
    // between the restored state and it.
    if (isOtherGeneration({ type: msg.type, generation: msg.generation, partition: msg.batch.partition })) return;
    const globalBeforeMs = state.windows.globalWatermarkMs;
    const result = state.windows.applyBatch(msg.batch, nowMs);
    if (result.lateEvents > 0) {
      logger.debug(
        {
          partition: msg.batch.partition,
          late_events: result.lateEvents,
          batch_late: msg.batch.lateCount,
          global_watermark_ms: globalBeforeMs,
          batch_max_event_ms: msg.batch.maxEventTimeMs,
          partitions: state.windows.partitionStatus(nowMs),
        },
        'late events',
      );
    }
    if (result.applied) {
      state.dirty = true;
      emit(state, nowMs);
    }
    reply<AggregatorBatchReply>(ctx, { globalWatermarkMs: state.windows.globalWatermarkMs });
  }

  function metricsOf(state: State, nowMs: number): AggregatorMetrics {
    const lag = state.windows.watermarkLagSeconds(nowMs);
    const global = state.windows.globalWatermarkMs;
    return {
      lateEventsTotal: state.windows.lateEventsTotal,
      windowsOpen: state.windows.windowsOpen,
      watermarkLagSeconds: lag,
      globalWatermarkMs: Number.isFinite(global) ? global : null,
      partitions: state.windows.partitionStatus(nowMs),
      windowsEmittedTotal: state.windowsEmittedTotal,
      rowsEmittedTotal: state.rowsEmittedTotal,
      checkpoints: state.checkpoints,
    };
  }

  const behaviour = (state: State, msg: WindowAggregatorMsg, ctx: ActorContext<WindowAggregatorMsg>): State => {
    const nowMs = Date.now();
    switch (msg.type) {
      case 'batch':
        onBatch(state, msg, nowMs, ctx);
        return state;
      case 'topicPartitions':
        state.windows.declarePartitions(msg.partitions);
        return state;
      case 'assign':
        state.windows.assignPartitions(msg.partitions, nowMs);
        return state;
      case 'revoke':
        for (const p of msg.partitions) state.windows.revokePartition(p);
        return state;
      case 'paused':
        if (isOtherGeneration(msg)) return state;
        state.windows.setPaused(msg.partition, msg.paused);
        return state;
      case 'progress':
        if (isOtherGeneration(msg)) return state;
        state.windows.setCaughtUp(msg.partition, msg.caughtUp);
        return state;
      case 'tick':
        watchUnowned(state, nowMs);
        emit(state, nowMs);
        maybeCheckpoint(state, ctx.self, false);
        return state;
      case 'checkpointed':
        if (isStale(state, msg)) return state;
        state.seq = msg.seq;
        state.inFlight = undefined;
        state.checkpoints += 1;
        if (msg.rows > 0 || msg.files > 0)
          logger.info(
            { seq: msg.seq, rows: msg.rows, files: msg.files, duration_ms: msg.durationMs },
            'windows committed',
          );
        maybeCheckpoint(state, ctx.self, state.flushWaiters.length > 0);
        settleFlush(state);
        return state;
      case 'checkpointFailed': {
        if (isStale(state, msg)) return state;
        const inFlight = state.inFlight!;
        const delayMs = commitRetryDelayMs(inFlight.attempts);
        if (delayMs === null)
          throw new SdpError(
            ErrorCodes.CHECKPOINT_FAILED,
            `window checkpoint ${inFlight.seq} failed ${inFlight.attempts} times: ${msg.error}`,
          );
        logger.warn(
          { err: msg.error, attempt: inFlight.attempts, retry_in_ms: delayMs },
          'window checkpoint failed; retrying',
        );
        const self = ctx.self;
        state.retryTimer = setTimeout(
          () => dispatch(self, { type: 'retryCheckpoint', generation, seq: inFlight.seq }),
          delayMs,
        );
        return state;
      }
      case 'retryCheckpoint':
        if (isStale(state, msg)) return state;
        state.retryTimer = undefined;
        runCheckpoint(state, ctx.self);
        return state;
      case 'flush':
        if (ctx.sender) state.flushWaiters.push(ctx.sender as Ref<AggregatorFlushReply>);
        emit(state, nowMs);
        maybeCheckpoint(state, ctx.self, true);
        return state;
      case 'metrics':
        reply<AggregatorMetrics>(ctx, metricsOf(state, nowMs));
        return state;
    }
  };

  return spawn<State, WindowAggregatorMsg>(parent, behaviour, name, {
    initialStateFunc: (ctx) => {
      const nowMs = Date.now();
      const windows = options.restored
        ? PageViewWindows.fromJSON(options.restored.state, options.windows, nowMs)
        : new PageViewWindows(options.windows);
      // After a restart no partition is owned until the group assigns it: until then each holds
      // the watermark back at its checkpointed watermark, and is never idle. Kept as assigned and
      // caught up, they would go idle while the group re-forms (a dead member can hold a
      // rebalance for a session timeout, or get some partitions in it), and the first ones to
      // deliver would push the watermark past the others' backlog, making on-time events late.
      for (const { partition } of windows.partitionStatus(nowMs)) windows.revokePartition(partition);
      const timer = setInterval(
        () => dispatch(ctx.self, { type: 'tick' }),
        Math.min(TICK_MS, options.checkpointIntervalMs),
      );
      timer.unref();
      return {
        windows,
        seq: options.restored?.seq ?? 0,
        pendingRows: [],
        dirty: false,
        lastCheckpointMs: nowMs,
        flushWaiters: [],
        timer,
        windowsEmittedTotal: 0,
        rowsEmittedTotal: 0,
        checkpoints: 0,
        unowned: new Map(),
      };
    },
    onCrash: (_msg, err, ctx) => {
      logger.error({ err }, 'window aggregator failed');
      // Retriable: the supervisor restarts the ETL from the last checkpoint (architecture.md, "Supervision").
      markRetriable(err);
      return ctx.escalate;
    },
    afterStop: (state) => {
      alive = false;
      if (state.timer) clearInterval(state.timer);
      if (state.retryTimer) clearTimeout(state.retryTimer);
    },
  });
}
