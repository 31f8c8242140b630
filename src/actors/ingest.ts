/**
 * ingest:<topic> — one consumer-group member for one topic. On every assignment it pauses each
 * partition new to it and has the checkpointer take it over (architecture.md, "Growing past one
 * machine": fence the previous holder, read the committed offset and metadata from Kafka, finish the
 * last commit's renames); then it spawns the partition actor (with its lake writer) where the sinks
 * stand, seeks and resumes. A partition kept through a rebalance keeps running from its position; a
 * revoked one stops at once. Batches go to the partition actors one at a time per partition. Offsets
 * reach the group only inside each roll's Kafka transaction.
 *
 * `drain` (query, at shutdown): stop fetching, wait for in-flight batches, flush every writer.
 * `close` (query): leave the group.
 */
import { compareOffsets, NO_OFFSET } from '../checkpoint/checkpointState.js';
import type { Config } from '../config/schema.js';
import { ErrorCodes, isSdpError, markRetriable, SdpError, type ErrorCode } from '../errors.js';
import { planAssignment } from '../etl/assignmentPlan.js';
import { countSkippedOffsets } from '../etl/offsetGuard.js';
import type { StreamName } from '../events/types.js';
import type { RejectReason } from '../events/validate.js';
import {
  createTopicConsumer,
  type ConsumedBatch,
  type TopicConsumer,
  type TopicConsumerHandlers,
} from '../kafka/topicConsumer.js';
import type { BufferBudget } from '../lake/bufferBudget.js';
import type { EncoderPool } from '../lake/encoderPool.js';
import type { Logger } from '../log/logger.js';
import { dispatch, query, reply, spawn, stop, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';
import type { CheckpointerMsg, TakeoverReply } from './checkpointer.js';
import { spawnPartition, type PartitionBatchReply, type PartitionMsg, type PartitionStatus } from './partition.js';
import type { WindowAggregatorMsg } from './windowAggregator.js';
import type { WriterFlushReply } from './lakeWriter.js';
import { topicLag } from '../etl/progress.js';

/**
 * How long a lost partition (a takeover or a roll Kafka refused: another member fenced it, or its producer failed)
 * waits before it is taken over again: longer than a few heartbeats (250 ms), so that a rebalance that gave it away
 * reaches this member first.
 */
export const RETAKE_AFTER_MS = 1_000;

/** The answer to `start`: joined the group, or why the consumer could not start. */
/** `code`: the failure's SDP_ERR_* code, when it had one (a TLS or SASL refusal, the kafkajs patch check). */
export type IngestStartReply = { ok: true } | { ok: false; error: string; code?: ErrorCode };

export type IngestMsg =
  /** Query: connect, join the group and start fetching; replies once running. */
  | { type: 'start' }
  /** From the checkpointer: `nextOffset` of `partition` is durable in every sink. */
  | { type: 'durable'; partition: number; nextOffset: string }
  /** From a lake writer: Kafka refused its roll (fenced, or its producer failed); drop the partition. */
  | { type: 'partitionLost'; partition: number; taskEpoch: number; reason: string }
  /** Internal: the checkpointer's answer to the takeover `ticket` of these partitions. */
  | { type: 'takenOver'; tickets: ReadonlyMap<number, number>; reply: TakeoverReply }
  /** Query: stop fetching, wait for in-flight batches, flush every writer. */
  | { type: 'drain' }
  /** Query: leave the group. */
  | { type: 'close' }
  /** Query; replies IngestStatus. */
  | { type: 'status' }
  /** Internal timer: report partitions with nothing left to read as caught up. */
  | { type: 'checkEnds' }
  /** Internal timer: a lost partition is taken over again if the group still assigns it here. */
  | { type: 'retryTakeover'; partition: number }
  /** The consumer failed and will not restart by itself. */
  | { type: 'consumerFailed'; error: string };

export interface IngestStatus {
  topic: string;
  partitions: PartitionStatus[];
  /**
   * Records between where processing stands and the log end, summed over assigned partitions; null before the first
   * end-offset read.
   */
  lag: number | null;
}

export interface IngestOptions {
  topic: string;
  stream: StreamName;
  config: Config;
  logger: Logger;
  aggregator?: Ref<WindowAggregatorMsg>;
  /**
   * The stream feeds stage 1 of the windows across members, which runs in its partitions' tasks at the checkpointer
   * (architecture.md, "Windows across members"). Instead of `aggregator`.
   */
  windowStages?: boolean;
  checkpointer: Ref<CheckpointerMsg>;
  /** The ETL generation, for the writers and partition actors it spawns (see LakeWriterOptions). */
  generation?: number;
  encoderPool: EncoderPool;
  /** Rows every lake writer of the process may hold together. */
  bufferBudget?: BufferBudget;
  lakeRoot: string;
  /** The checkpoint store's id, for the writers' tmp file names. */
  storeId?: string;
  /** Start offsets that etl.on_offset_out_of_range moved (offsetGuard.ts), used instead of earlier ones. */
  startOverrides?: ReadonlyMap<number, string>;
  onRejected?: (reason: RejectReason) => void;
  /** Consumer factory (tests pass a fake). */
  createConsumer?: typeof createTopicConsumer;
}

interface PartitionEntry {
  ref: Ref<PartitionMsg>;
  taskEpoch: number;
  /** Resolves once the partition is dropped (revoked or lost): a query its stopped actor never answers ends. */
  dropped: Promise<void>;
  drop(): void;
}

/** Stops a partition's actor without a flush; whoever waits on it stops waiting. */
function dropEntry(entry: PartitionEntry): void {
  stop(entry.ref);
  entry.drop();
}

interface State {
  consumer?: TopicConsumer;
  partitions: Map<number, PartitionEntry>;
  /** What the group assigned this member last. */
  assigned: Set<number>;
  /** Draining for shutdown: a lost partition is not taken over again. */
  draining: boolean;
  /** Partitions paused until their takeover answers, with the ticket of that takeover. */
  takingOver: Map<number, number>;
  lastTicket: number;
  /** Next offset to fetch per partition, as far as processing stands. */
  positions: Map<number, string>;
  /** Next offset not yet durable in every sink, per partition (where a restart would resume). */
  durable: Map<number, string>;
  endsTimer?: NodeJS.Timeout;
  /** Lost partitions waiting `RETAKE_AFTER_MS` before they are taken over again, one timer each. */
  retakes: Map<number, NodeJS.Timeout>;
  checkingEnds: boolean;
  /** Log end offsets from the last `checkEnds`, for the lag. */
  endOffsets?: Map<number, string>;
  /** The topic's partitions as far as known (end offsets): one that appears is declared to the aggregator. */
  knownPartitions: Set<number>;
  /** `knownPartitions` holds a first full answer: from then on a new partition is a change to log. */
  partitionsKnown: boolean;
}

// Longer than 80 lines on purpose: an actor's factory is its scope. The per-message handlers and
// helpers inside share its options, logger and generation, and each stays short; the rule it
// applies is a pure module (etl/assignmentPlan.ts).
export function spawnIngest(parent: AnyRef, options: IngestOptions, name = `ingest-${options.topic}`): Ref<IngestMsg> {
  const { topic, config } = options;
  const logger = options.logger.child({ component: 'ingest', topic });
  const queryTimeoutMs = config.etl.shutdown_timeout + 60_000;

  function spawnPartitionActor(
    self: Ref<IngestMsg>,
    state: State,
    partition: number,
    start: { taskEpoch: number; raw: string; agg: string | null },
  ): PartitionEntry {
    const ref = spawnPartition(self, {
      topic,
      stream: options.stream,
      partition,
      writer: {
        table: options.stream,
        topic,
        partition,
        lakeRoot: options.lakeRoot,
        encoderPool: options.encoderPool,
        encoder: config.etl.parquet_encoder,
        checkpointer: options.checkpointer,
        maxFileRows: config.etl.max_file_rows,
        maxFileBytes: config.etl.max_file_bytes,
        maxFileAgeMs: config.etl.max_file_age,
        maxFileIdleMs: config.etl.max_file_idle,
        ...(options.bufferBudget ? { budget: options.bufferBudget } : {}),
        ...(options.storeId ? { storeId: options.storeId } : {}),
        rowGroupRows: config.etl.row_group_rows,
        commitTimeoutMs: queryTimeoutMs,
        logger: options.logger,
        generation: options.generation ?? 0,
        taskEpoch: start.taskEpoch,
        onLost: (reason) => dispatch(self, { type: 'partitionLost', partition, taskEpoch: start.taskEpoch, reason }),
      },
      ...(options.aggregator ? { aggregator: options.aggregator, aggOffset: start.agg ?? NO_OFFSET } : {}),
      ...(options.windowStages
        ? {
            stage1: { checkpointer: options.checkpointer, taskEpoch: start.taskEpoch },
            aggOffset: start.agg ?? NO_OFFSET,
          }
        : {}),
      rawOffset: start.raw,
      windowSizeMs: 60_000,
      decode: { maxEventBytes: config.etl.max_event_bytes, maxFutureSkewMs: config.etl.max_future_skew },
      fetch: {
        pause: () => state.consumer?.pause(partition),
        resume: () => state.consumer?.resume(partition),
      },
      queryTimeoutMs,
      logger: options.logger,
      ...(options.onRejected ? { onRejected: options.onRejected } : {}),
    });
    let drop = (): void => undefined;
    const dropped = new Promise<void>((resolve) => (drop = resolve));
    return { ref, taskEpoch: start.taskEpoch, dropped, drop };
  }

  /** Applies the group's assignment (etl/assignmentPlan.ts); returns where each partition it keeps stands. */
  function onAssignment(
    state: State,
    assigned: number[],
    revoked: number[],
    self: Ref<IngestMsg>,
  ): Map<number, string> {
    state.assigned = new Set(assigned);
    const plan = planAssignment({
      assigned,
      revoked,
      owned: new Set(state.partitions.keys()),
      takingOver: new Set(state.takingOver.keys()),
      positions: state.positions,
    });
    for (const partition of plan.release) {
      const entry = state.partitions.get(partition);
      // Dropped, not flushed: the new owner reads its rows again after the last commit, and a flush would race
      // that owner's takeover (architecture.md, "Growing past one machine").
      if (entry) dropEntry(entry);
      state.partitions.delete(partition);
      state.positions.delete(partition);
      state.takingOver.delete(partition);
    }
    if (plan.release.length > 0) dispatch(options.checkpointer, { type: 'release', topic, partitions: plan.release });
    if (state.draining) {
      // Shutting down: this member leaves the group next, so a partition new to it stays paused for whoever
      // takes it then (a coordinator that forgot this member mid-drain re-assigns everything).
      for (const partition of plan.takeOver) state.consumer?.pause(partition);
    } else if (plan.takeOver.length > 0) takeOver(state, plan.takeOver, self);
    if (options.aggregator) {
      dispatch(options.aggregator, { type: 'assign', partitions: assigned });
      if (revoked.length > 0) dispatch(options.aggregator, { type: 'revoke', partitions: revoked });
    }
    logger.info(
      { assigned, revoked, taking_over: plan.takeOver, kept_at: Object.fromEntries(plan.seeks) },
      'partitions assigned',
    );
    return plan.seeks;
  }

  /** Pauses the partitions and asks the checkpointer to take them over; the answer comes back as `takenOver`. */
  function takeOver(state: State, partitions: readonly number[], self: Ref<IngestMsg>): void {
    const tickets = new Map<number, number>();
    for (const partition of partitions) {
      state.consumer?.pause(partition);
      state.lastTicket += 1;
      state.takingOver.set(partition, state.lastTicket);
      tickets.set(partition, state.lastTicket);
    }
    query<CheckpointerMsg, TakeoverReply>(
      options.checkpointer,
      () => ({ type: 'takeOver', topic, partitions: [...partitions], owner: self }),
      queryTimeoutMs,
    ).then(
      (reply) => dispatch(self, { type: 'takenOver', tickets, reply }),
      (err: unknown) =>
        dispatch(self, {
          type: 'takenOver',
          tickets,
          reply: { ok: false, error: err instanceof Error ? err.message : String(err) },
        }),
    );
  }

  /**
   * Kafka refused a roll of the partition: another member took its transactional id (this member missed a
   * rebalance), or its producer failed. Its actor stops (what it buffered is read again after the last commit); if
   * the group still assigns it here, it is taken over again, which fences whoever else still believes it owns it.
   */
  function onPartitionLost(
    state: State,
    msg: Extract<IngestMsg, { type: 'partitionLost' }>,
    self: Ref<IngestMsg>,
  ): void {
    const entry = state.partitions.get(msg.partition);
    if (!entry || entry.taskEpoch !== msg.taskEpoch) return; // already dropped or taken over again
    dropEntry(entry);
    state.partitions.delete(msg.partition);
    state.positions.delete(msg.partition);
    state.consumer?.pause(msg.partition);
    retakeLater(state, msg.partition, msg.reason, self);
  }

  /**
   * A lost partition (paused, no actor) is taken over again after `RETAKE_AFTER_MS`, unless draining or not assigned
   * here. Another member may hold it now, in a rebalance this one has not heard of yet: taken over again at once, it
   * would fence that member in turn, and that member it. By then the rebalance has reached this member, and
   * `retryTakeover` takes it over only if the group still assigns it here.
   */
  function retakeLater(state: State, partition: number, reason: string, self: Ref<IngestMsg>): void {
    const again = !state.draining && state.assigned.has(partition);
    logger.warn({ partition, reason, take_over_again_in_ms: again ? RETAKE_AFTER_MS : null }, 'partition lost');
    if (!again) return;
    clearTimeout(state.retakes.get(partition));
    const timer = setTimeout(() => dispatch(self, { type: 'retryTakeover', partition }), RETAKE_AFTER_MS);
    timer.unref();
    state.retakes.set(partition, timer);
  }

  function clearRetakes(state: State): void {
    for (const timer of state.retakes.values()) clearTimeout(timer);
    state.retakes.clear();
  }

  /** Spawns each partition taken over where its sinks stand, seeks and resumes it. */
  function onTakenOver(state: State, msg: Extract<IngestMsg, { type: 'takenOver' }>, self: Ref<IngestMsg>): void {
    if (!msg.reply.ok) {
      // Kafka did not answer the fence or the offset read: the restart takes every partition over again.
      dispatch(self, { type: 'consumerFailed', error: `takeover of ${topic} failed: ${msg.reply.error}` });
      return;
    }
    for (const { partition, reason } of msg.reply.lost) {
      if (state.takingOver.get(partition) !== msg.tickets.get(partition)) continue;
      state.takingOver.delete(partition);
      // Another member took the partition in a rebalance this one has not heard of yet (stays paused meanwhile).
      retakeLater(state, partition, reason, self);
    }
    for (const taken of msg.reply.partitions) {
      const { partition } = taken;
      // Revoked meanwhile, or taken over again since: this answer is stale.
      if (state.takingOver.get(partition) !== msg.tickets.get(partition)) continue;
      state.takingOver.delete(partition);
      if (state.draining) continue; // answered after the drain began: stays paused, the member leaves
      const floor = taken.agg !== null && compareOffsets(taken.agg, taken.raw) < 0 ? taken.agg : taken.raw;
      let start = (BigInt(floor) + 1n).toString();
      const override = options.startOverrides?.get(partition);
      if (override !== undefined && compareOffsets(override, start) > 0) start = override;
      state.partitions.set(partition, spawnPartitionActor(self, state, partition, taken));
      state.positions.set(partition, start);
      state.durable.set(partition, start);
      state.consumer?.seek(partition, start);
      state.consumer?.resume(partition);
      logger.info(
        { partition, start_offset: start, raw_offset: taken.raw, agg_offset: taken.agg },
        'partition reading',
      );
    }
  }

  async function onBatch(state: State, batch: ConsumedBatch, self: Ref<IngestMsg>): Promise<void> {
    const entry = state.partitions.get(batch.partition);
    if (!entry) return; // not ours any more: the next owner reads it from its checkpoint
    const position = state.positions.get(batch.partition);
    if (position !== undefined && compareOffsets(batch.lastOffset, position) < 0) return; // already processed
    if (position !== undefined && compareOffsets(batch.fetchedOffset, position) > 0) {
      // kafkajs answered OFFSET_OUT_OF_RANGE by moving to the log start: records were deleted unread.
      const skipped = BigInt(batch.fetchedOffset) - BigInt(position);
      const fields = {
        partition: batch.partition,
        expected_offset: position,
        fetched_offset: batch.fetchedOffset,
        offsets_skipped: Number(skipped),
        policy: config.etl.on_offset_out_of_range,
      };
      if (config.etl.on_offset_out_of_range !== 'earliest') {
        // Stop this partition; the restart's offset check decides (fail: exit; latest: the log end).
        state.consumer?.pause(batch.partition);
        logger.error(fields, 'offsets skipped by Kafka: the partition stops (etl.on_offset_out_of_range)');
        dispatch(self, {
          type: 'consumerFailed',
          error: `${topic}[${batch.partition}]: offsets ${position}..${BigInt(batch.fetchedOffset) - 1n} were deleted before they were read (log start now ${batch.fetchedOffset})`,
        });
        return;
      }
      countSkippedOffsets(topic, batch.partition, skipped);
      logger.warn(
        fields,
        'offsets skipped by Kafka (deleted by retention before they were read), as etl.on_offset_out_of_range says',
      );
    }
    await query<PartitionMsg, PartitionBatchReply>(entry.ref, () => ({ type: 'batch', batch }), queryTimeoutMs);
    state.positions.set(batch.partition, (BigInt(batch.lastOffset) + 1n).toString());
  }

  /** Connects, joins the group and starts fetching; answers IngestStartReply. */
  async function onStart(state: State, ctx: ActorContext<IngestMsg>): Promise<void> {
    const consumer = (options.createConsumer ?? createTopicConsumer)(config, options.logger, {
      topic,
      groupId: config.etl.consumer_group,
      concurrency: config.kafka.partitions,
    });
    state.consumer = consumer;
    try {
      if (options.aggregator || options.windowStages) {
        // Every partition holds the watermark back from the start, even one a first, partial
        // assignment leaves to another member for a while.
        const ends = await consumer.endOffsets();
        for (const p of ends.keys()) state.knownPartitions.add(p);
        state.partitionsKnown = true;
        declarePartitions(state);
      }
      await consumer.start(consumerHandlers(state, ctx.self));
    } catch (err) {
      // A start that cannot join (a broker refusing connections) is answered, not crashed on:
      // the ETL's start then fails at once and stops what it started (etlRuntime.ts).
      state.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      const error = err instanceof Error ? err.message : String(err);
      logger.warn({ err: error }, 'consumer could not start');
      reply<IngestStartReply>(ctx, { ok: false, error, ...(isSdpError(err) ? { code: err.code } : {}) });
      return;
    }
    // kafkajs reports nothing for a partition with nothing to read: find those from the end offsets.
    const everyMs = Math.max(250, Math.min(2_000, config.etl.idle_timeout / 2));
    state.endsTimer = setInterval(() => dispatch(ctx.self, { type: 'checkEnds' }), everyMs);
    state.endsTimer.unref();
    reply<IngestStartReply>(ctx, { ok: true });
  }

  function consumerHandlers(state: State, self: Ref<IngestMsg>): TopicConsumerHandlers {
    return {
      onAssignment: (assigned, revoked) => onAssignment(state, assigned, revoked, self),
      onBatch: (batch) => onBatch(state, batch, self),
      onProgress: (progress) => {
        const entry = state.partitions.get(progress.partition);
        if (entry) dispatch(entry.ref, { type: 'progress', caughtUp: progress.caughtUp });
        const position = state.positions.get(progress.partition);
        if (position !== undefined && compareOffsets(progress.lastOffset, position) >= 0) {
          state.positions.set(progress.partition, (BigInt(progress.lastOffset) + 1n).toString());
        }
      },
      onCrash: (error, willRestart) => {
        logger.warn({ err: error, will_restart: willRestart }, 'consumer crashed');
        if (!willRestart) dispatch(self, { type: 'consumerFailed', error: error.message });
      },
    };
  }

  /** The windows learn every partition of the topic: each holds the watermark back until it has a mark. */
  function declarePartitions(state: State): void {
    const partitions = [...state.knownPartitions].sort((a, b) => a - b);
    if (options.aggregator) dispatch(options.aggregator, { type: 'topicPartitions', partitions });
    if (options.windowStages)
      dispatch(options.checkpointer, { type: 'topicPartitions', topic, count: Math.max(...partitions) + 1 });
  }

  /** Reads the log end offsets: partitions added to the topic, partitions with nothing left to read. */
  function checkEnds(state: State): void {
    if (!state.consumer || state.checkingEnds) return;
    state.checkingEnds = true;
    state.consumer.endOffsets().then(
      (ends) => {
        state.checkingEnds = false;
        state.endOffsets = ends;
        // Partitions added while running (kafka-topics --alter): they hold the watermark back
        // from now on, before the consumer's rejoin assigns them, so their events are not late.
        const added = [...ends.keys()].filter((p) => !state.knownPartitions.has(p)).sort((a, b) => a - b);
        if (added.length > 0) {
          for (const p of added) state.knownPartitions.add(p);
          declarePartitions(state);
          // A stream without an aggregator learns its partitions here first: that is no change.
          if (state.partitionsKnown)
            logger.info(
              { added_partitions: added, partitions: state.knownPartitions.size },
              'partitions added to the topic',
            );
        }
        state.partitionsKnown = true;
        for (const [partition, entry] of state.partitions) {
          const position = state.positions.get(partition);
          const end = ends.get(partition);
          if (position !== undefined && end !== undefined && compareOffsets(position, end) >= 0) {
            dispatch(entry.ref, { type: 'progress', caughtUp: true });
          }
        }
      },
      (err: unknown) => {
        state.checkingEnds = false;
        logger.debug({ err }, 'end offsets not available');
      },
    );
  }

  async function statusOf(state: State, ctx: ActorContext<IngestMsg>): Promise<void> {
    const partitions = await Promise.all(
      [...state.partitions.values()].map((entry) =>
        query<PartitionMsg, PartitionStatus>(entry.ref, () => ({ type: 'status' }), 5_000),
      ),
    );
    // The next offset not yet durable in every sink (where a restart would resume), and the
    // next offset to read: the dashboard's lag is measured from the first.
    const withOffsets = partitions.map((p) => ({
      ...p,
      durableNextOffset: state.durable.get(p.partition) ?? state.positions.get(p.partition) ?? '0',
      positionOffset: state.positions.get(p.partition) ?? null,
    }));
    reply<IngestStatus>(ctx, {
      topic,
      partitions: withOffsets.sort((a, b) => a.partition - b.partition),
      lag: state.endOffsets ? topicLag(state.positions, state.endOffsets) : null,
    });
  }

  const behaviour = async (state: State, msg: IngestMsg, ctx: ActorContext<IngestMsg>): Promise<State> => {
    switch (msg.type) {
      case 'start':
        await onStart(state, ctx);
        return state;
      case 'checkEnds':
        checkEnds(state);
        return state;
      case 'durable': {
        const known = state.durable.get(msg.partition);
        if (known === undefined || compareOffsets(msg.nextOffset, known) > 0)
          state.durable.set(msg.partition, msg.nextOffset);
        return state;
      }
      case 'takenOver':
        onTakenOver(state, msg, ctx.self);
        return state;
      case 'partitionLost':
        onPartitionLost(state, msg, ctx.self);
        return state;
      case 'retryTakeover': {
        const { partition } = msg;
        state.retakes.delete(partition);
        // Not after `close`: the member left the group, and a takeover would fence the partition's new owner.
        const idle = !state.partitions.has(partition) && !state.takingOver.has(partition);
        if (state.consumer && idle && !state.draining && state.assigned.has(partition))
          takeOver(state, [partition], ctx.self);
        return state;
      }
      case 'drain': {
        state.draining = true;
        await state.consumer?.quiesce();
        // A partition revoked or lost meanwhile is dropped, not flushed: its stopped actor never answers.
        await Promise.all(
          [...state.partitions.values()].map((entry) =>
            Promise.race([
              query<PartitionMsg, WriterFlushReply>(entry.ref, () => ({ type: 'flush' }), queryTimeoutMs),
              entry.dropped,
            ]),
          ),
        );
        reply(ctx, { ok: true });
        return state;
      }
      case 'close': {
        if (state.endsTimer) clearInterval(state.endsTimer);
        clearRetakes(state);
        await state.consumer?.disconnect();
        state.consumer = undefined;
        reply(ctx, { ok: true });
        return state;
      }
      case 'status':
        await statusOf(state, ctx);
        return state;
      case 'consumerFailed':
        throw new SdpError(ErrorCodes.KAFKA_CONSUMER_FAILED, `consumer of ${topic} failed: ${msg.error}`);
    }
  };

  return spawn<State, IngestMsg>(parent, behaviour, name, {
    initialStateFunc: () => ({
      partitions: new Map(),
      assigned: new Set(),
      draining: false,
      takingOver: new Map(),
      retakes: new Map(),
      lastTicket: 0,
      positions: new Map(),
      durable: new Map(),
      checkingEnds: false,
      knownPartitions: new Set(),
      partitionsKnown: false,
    }),
    onCrash: (_msg, err, ctx) => {
      logger.error({ err }, 'ingest failed');
      // Retriable: the supervisor restarts the ETL from the last checkpoint (architecture.md, "Supervision").
      markRetriable(err);
      return ctx.escalate;
    },
    afterStop: (state) => {
      if (state.endsTimer) clearInterval(state.endsTimer);
      clearRetakes(state);
      // Stopped without `close` (crashed, or its close timed out): a consumer left running would
      // stay in the group and keep partitions from the ETL that replaces this one.
      state.consumer
        ?.disconnect()
        .catch((err: unknown) => logger.warn({ err }, 'disconnect of an abandoned consumer failed'));
      state.consumer = undefined;
    },
  });
}
