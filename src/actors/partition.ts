/**
 * partition:<topic>:<p> — decodes, validates and routes the records of one assigned partition.
 *
 * `batch` (query from the ingest actor, one at a time per partition, in offset order): every record
 * above the lake writer's offset goes to the writer — valid rows by `dt`, invalid ones as
 * `_rejected` rows with their reason — and, for clickstream, the batch's page views per
 * (window, url) above the aggregator's offset go to the window aggregator. Nothing is dropped
 * silently and no record can stop the pipeline: the decoder never throws.
 *
 * Back-pressure: when the writer reports a full backlog, the partition pauses fetching and tells
 * the aggregator (a paused partition is never idle); `writerDrained` resumes it.
 */
import { compareOffsets } from '../checkpoint/checkpointState.js';
import { backlogThresholdRecords, lagAfter, stepBacklog, type FetchPosition } from '../etl/backlogEnd.js';
import { appendScanned } from '../events/appendScanned.js';
import { asciiText } from '../events/fastJson.js';
import type { ClickstreamRow, StreamName } from '../events/types.js';
import {
  decodeEventReference,
  newFastScan,
  scanClickstream,
  scanIot,
  type DecodeOptions,
  type RejectReason,
} from '../events/validate.js';
import type { ConsumedBatch, ConsumedMessage } from '../kafka/topicConsumer.js';
import { dtOfMs } from '../lake/layout.js';
import { ByteDictionary } from '../lake/byteDictionary.js';
import { PackedColumnBuffer } from '../lake/packedColumns.js';
import type { RowOf } from '../lake/tables.js';
import type { Logger } from '../log/logger.js';
import { dispatch, query, reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';
import { aggregateColumns } from '../windows/aggregateBatch.js';
import {
  spawnLakeWriter,
  type LakeWriterMsg,
  type LakeWriterOptions,
  type WriterAppend,
  type WriterAppendReply,
  type WriterFlushReply,
} from './lakeWriter.js';
import type { AggregatorBatchReply, WindowAggregatorMsg } from './windowAggregator.js';
import type { CheckpointerMsg } from './checkpointer.js';
import { markRetriable } from '../errors.js';

export type PartitionMsg =
  /** Query; replies PartitionBatchReply once the batch is with the sinks. */
  | { type: 'batch'; batch: ConsumedBatch }
  /** A fetch that held only transaction markers reached (or not) the end of the partition. */
  | { type: 'progress'; caughtUp: boolean }
  | { type: 'writerDrained' }
  /** Query: flush the writer; replies WriterFlushReply. */
  | { type: 'flush' }
  /** Query; replies PartitionStatus. */
  | { type: 'status' };

export interface PartitionBatchReply {
  paused: boolean;
}

export interface PartitionStatus {
  topic: string;
  partition: number;
  valid: number;
  rejected: Partial<Record<RejectReason, number>>;
  paused: boolean;
  rawOffset: string;
  aggOffset: string | null;
  caughtUp: boolean;
  /** Filled in by the ingest actor: the next offset not yet durable in every sink of the partition. */
  durableNextOffset?: string;
  /** Filled in by the ingest actor: the next offset to read (null before the first batch). */
  positionOffset?: string | null;
}

/** How the partition actor pauses and resumes its own fetching (the ingest's consumer). */
export interface FetchControl {
  pause(): void;
  resume(): void;
}

export interface PartitionOptions {
  topic: string;
  stream: StreamName;
  partition: number;
  /** The partition's lake writer, spawned as its child. */
  writer: Omit<LakeWriterOptions, 'onDrained' | 'committedOffset'>;
  /** Spawns the writer (tests pass a fake); `onDrained` must be called when its backlog clears. */
  spawnWriter?: (parent: AnyRef, options: LakeWriterOptions) => Ref<LakeWriterMsg>;
  /** Clickstream only: the one-process window aggregator, or stage 1 of the windows across members. */
  aggregator?: Ref<WindowAggregatorMsg>;
  /**
   * Stage 1 runs in the partition's task at the checkpointer (architecture.md, "Windows across members"): the page
   * views of each batch go there, counted with no known watermark (stage 2 judges lateness).
   */
  stage1?: { checkpointer: Ref<CheckpointerMsg>; taskEpoch: number };
  /** Last offsets already durable in each sink ('-1' for none). */
  rawOffset: string;
  aggOffset?: string;
  windowSizeMs: number;
  decode: Omit<DecodeOptions, 'recordTimestampMs'>;
  fetch: FetchControl;
  queryTimeoutMs: number;
  logger: Logger;
  /** Counts every rejection (the metric). */
  onRejected?: (reason: RejectReason) => void;
}

interface State {
  writer: Ref<LakeWriterMsg>;
  rawOffset: string;
  aggOffset: string | null;
  knownGlobalWatermarkMs: number;
  paused: boolean;
  caughtUp: boolean;
  /** Catching up on a backlog (etl/backlogEnd.ts): its end rolls the writer at once. */
  behind: boolean;
  valid: number;
  rejected: Partial<Record<RejectReason, number>>;
}

/** Rejected payloads are kept whole up to this size (Kafka's default max message size). */
const MAX_REJECTED_PAYLOAD_BYTES = 1024 * 1024;

function rejectedRow(
  topic: string,
  partition: number,
  message: ConsumedMessage,
  reason: RejectReason,
  detail: string,
): RowOf<'_rejected'> {
  const value = message.value ?? Buffer.alloc(0);
  const kept = value.length > MAX_REJECTED_PAYLOAD_BYTES ? value.subarray(0, MAX_REJECTED_PAYLOAD_BYTES) : value;
  const isText = reason !== 'invalid_utf8';
  return {
    topic,
    partition,
    offset: Number(message.offset),
    reason,
    detail:
      kept.length < value.length ? `${detail} (payload truncated to ${kept.length} of ${value.length} bytes)` : detail,
    payload: isText ? kept.toString('utf8') : kept.toString('base64'),
    payload_encoding: isText ? 'utf8' : 'base64',
    kafka_ts: Number.isFinite(message.timestampMs) && message.timestampMs >= 0 ? message.timestampMs : null,
  };
}

function rejectedDt(message: ConsumedMessage): string {
  return dtOfMs(Number.isFinite(message.timestampMs) && message.timestampMs >= 0 ? message.timestampMs : 0);
}

// Longer than 80 lines on purpose: an actor's factory is its scope. The per-message handlers and
// helpers inside share its options, logger and generation, and each stays short; the rule it
// applies is a pure module (etl/backlogEnd.ts).
export function spawnPartition(
  parent: AnyRef,
  options: PartitionOptions,
  name = `partition-${options.topic}-${options.partition}`,
): Ref<PartitionMsg> {
  const { topic, stream, partition } = options;
  // The ETL generation, tagged on every append and batch (see LakeWriterOptions.generation).
  const generation = options.writer.generation ?? 0;
  const logger = options.logger.child({ component: 'partition', topic, partition });
  const decodeOptions: DecodeOptions = { ...options.decode, recordTimestampMs: 0 };

  const scan = newFastScan();
  const fastScan = stream === 'clickstream' ? scanClickstream : scanIot;
  // The lake's `ts` column is read from the events' `tsMs` when a reference-decoded row is appended.
  const sourceFields = { ts: 'tsMs' };
  // One buffer per UTC date, reused batch after batch: the writer copies a batch's rows while it
  // handles the append, and the next batch starts only after its reply.
  const chunkBuffers = new Map<string, PackedColumnBuffer>();
  // The batch's page views column-wise (reused arrays), and each distinct url's string made once.
  const pageTimesMs: number[] = [];
  const pageUrls: string[] = [];
  const urlIds = new ByteDictionary();
  const urlStrings: string[] = [];
  function urlOf(value: Buffer, start: number, end: number): string {
    const id = urlIds.idOf(value, start, end, true);
    if (id < 0) return asciiText(value, start, end); // more distinct urls than the dictionary holds
    return (urlStrings[id] ??= asciiText(value, start, end));
  }

  const windowed = options.aggregator !== undefined || options.stage1 !== undefined;

  /** Tells the windows how far the partition is read (it decides whether the partition is idle). */
  function tellProgress(caughtUp: boolean): void {
    if (options.aggregator) dispatch(options.aggregator, { type: 'progress', generation, partition, caughtUp });
    if (options.stage1) {
      const { checkpointer, taskEpoch } = options.stage1;
      dispatch(checkpointer, { type: 'sourceState', topic, partition, taskEpoch, generation, caughtUp });
    }
  }

  /** Back-pressure paused or resumed fetching: a paused partition has data waiting, so it is never idle. */
  function tellPaused(paused: boolean): void {
    if (options.aggregator) dispatch(options.aggregator, { type: 'paused', generation, partition, paused });
    if (options.stage1) {
      const { checkpointer, taskEpoch } = options.stage1;
      dispatch(checkpointer, { type: 'sourceState', topic, partition, taskEpoch, generation, paused });
    }
  }

  /** Routes one batch; returns whether the aggregator got it. */
  async function handleBatch(state: State, batch: ConsumedBatch): Promise<boolean> {
    const messages = batch.messages;
    if (messages.length === 0) return false;
    const lastOffset = messages[messages.length - 1]!.offset;
    const forRaw = compareOffsets(lastOffset, state.rawOffset) > 0;
    const forAgg = state.aggOffset !== null && compareOffsets(lastOffset, state.aggOffset) > 0;
    if (!forRaw && !forAgg) return false; // a replay both sinks already hold
    const { append, pageViews } = decodeBatch(state, messages, forRaw, forAgg);
    await sendBatch(state, batch, append, forRaw, forAgg ? pageViews : null);
    return forAgg && windowed;
  }

  /**
   * Decodes the records above each sink's offset: valid rows into the writer's append, page views
   * into pageTimesMs / pageUrls (their count returned), rejected records with their reason.
   */
  function decodeBatch(
    state: State,
    messages: ConsumedBatch['messages'],
    forRaw: boolean,
    forAgg: boolean,
  ): { append: WriterAppend; pageViews: number } {
    const lastOffset = messages[messages.length - 1]!.offset;
    const rawFloor = state.rawOffset;
    const aggFloor = state.aggOffset;
    const append: WriterAppend = { type: 'append', generation, firstOffset: '', lastOffset, chunks: [], rejected: [] };
    // Valid rows by UTC date, decoded straight into packed columns (no row object per event).
    if (chunkBuffers.size > 4) chunkBuffers.clear(); // dates long past
    const byDt = chunkBuffers;
    let lastDt = '';
    let lastBuffer: PackedColumnBuffer | undefined;
    const bufferFor = (tsMs: number): PackedColumnBuffer => {
      const dt = dtOfMs(tsMs);
      if (dt === lastDt && lastBuffer !== undefined) return lastBuffer;
      let buffer = byDt.get(dt);
      if (buffer === undefined) byDt.set(dt, (buffer = new PackedColumnBuffer(stream, { sourceFields })));
      lastDt = dt;
      lastBuffer = buffer;
      return buffer;
    };
    let pageViews = 0;
    const rawAll = !forRaw || compareOffsets(messages[0]!.offset, rawFloor) > 0;
    const aggAll = !forAgg || compareOffsets(messages[0]!.offset, aggFloor!) > 0;
    for (const message of messages) {
      const toRaw = forRaw && (rawAll || compareOffsets(message.offset, rawFloor) > 0);
      const toAgg = forAgg && (aggAll || compareOffsets(message.offset, aggFloor!) > 0);
      if (!toRaw && !toAgg) continue;
      decodeOptions.recordTimestampMs = message.timestampMs; // one options object, not one per record
      if (toRaw && append.firstOffset === '') append.firstOffset = message.offset;
      const value = message.value;
      if (value !== null && value !== undefined && fastScan(value, decodeOptions, scan)) {
        if (toRaw) {
          state.valid += 1;
          appendScanned(stream, bufferFor(scan.tsMs), value, scan);
        }
        if (toAgg) {
          pageTimesMs[pageViews] = scan.tsMs;
          pageUrls[pageViews++] = urlOf(value, scan.spans[4]!, scan.spans[5]!);
        }
        continue;
      }
      // Not in the producers' exact shape, or failing a check: the reference decoder's verdict and detail.
      const result = decodeEventReference(stream, value, decodeOptions);
      if (result.ok) {
        if (toRaw) {
          state.valid += 1;
          bufferFor(result.row.tsMs).appendRow(result.row);
        }
        if (toAgg) {
          pageTimesMs[pageViews] = result.row.tsMs;
          pageUrls[pageViews++] = (result.row as ClickstreamRow).url;
        }
      } else if (toRaw) {
        state.rejected[result.reason] = (state.rejected[result.reason] ?? 0) + 1;
        options.onRejected?.(result.reason);
        append.rejected.push({
          dt: rejectedDt(message),
          row: rejectedRow(topic, partition, message, result.reason, result.detail),
        });
      }
    }
    for (const [dt, buffer] of byDt) if (buffer.rowCount > 0) append.chunks!.push({ dt, batch: buffer.drain(false) });
    return { append, pageViews };
  }

  /** Sends the append to the writer and the page views (`pageViews` of them; null: none) to the aggregator. */
  async function sendBatch(
    state: State,
    batch: ConsumedBatch,
    append: WriterAppend,
    forRaw: boolean,
    pageViews: number | null,
  ): Promise<void> {
    const lastOffset = append.lastOffset;
    const pending: Array<Promise<void>> = [];
    if (forRaw) {
      pending.push(
        query<LakeWriterMsg, WriterAppendReply>(state.writer, () => append, options.queryTimeoutMs).then((r) => {
          state.rawOffset = lastOffset;
          if (r.backlogHigh && !state.paused) {
            state.paused = true;
            options.fetch.pause();
            tellPaused(true);
            logger.debug('writer behind: fetching paused');
          }
        }),
      );
    }
    if (pageViews !== null && options.stage1) {
      const aggregated = aggregateColumns(pageTimesMs, pageUrls, pageViews, -Infinity, options.windowSizeMs);
      const { checkpointer, taskEpoch } = options.stage1;
      dispatch(checkpointer, {
        type: 'pageViews',
        topic,
        partition,
        taskEpoch,
        generation,
        caughtUp: batch.caughtUp,
        batch: {
          lastOffset,
          maxEventTimeMs: aggregated.maxEventTimeMs,
          counts: aggregated.counts,
          lateCount: aggregated.lateCount,
        },
      });
      state.aggOffset = lastOffset;
    } else if (pageViews !== null && options.aggregator) {
      const aggregated = aggregateColumns(
        pageTimesMs,
        pageUrls,
        pageViews,
        state.knownGlobalWatermarkMs,
        options.windowSizeMs,
      );
      pending.push(
        query<WindowAggregatorMsg, AggregatorBatchReply>(
          options.aggregator,
          () => ({
            type: 'batch',
            generation,
            batch: {
              partition,
              lastOffset,
              maxEventTimeMs: aggregated.maxEventTimeMs,
              caughtUp: batch.caughtUp,
              counts: aggregated.counts,
              lateCount: aggregated.lateCount,
            },
          }),
          options.queryTimeoutMs,
        ).then((r) => {
          state.aggOffset = lastOffset;
          state.knownGlobalWatermarkMs = r.globalWatermarkMs;
        }),
      );
    }
    await Promise.all(pending);
  }

  const backlogThreshold = backlogThresholdRecords(options.writer.maxFileRows);
  /** After the fetch's rows are with the writer: the end of a backlog rolls them now. */
  function observeFetch(state: State, fetch: FetchPosition): void {
    const step = stepBacklog(state.behind, fetch, backlogThreshold);
    // Once per backlog each: an operator sees why a partition rolled before its usual rules.
    if (step.behind && !state.behind) logger.info({ lag_records: fetch.lagRecords }, 'catching up on a backlog');
    if (step.ended) logger.info('backlog read to its end: rolling');
    state.behind = step.behind;
    if (step.ended) dispatch(state.writer, { type: 'endOfBacklog', generation });
  }

  const behaviour = async (state: State, msg: PartitionMsg, ctx: ActorContext<PartitionMsg>): Promise<State> => {
    switch (msg.type) {
      case 'batch': {
        state.caughtUp = msg.batch.caughtUp;
        const sentToAggregator = await handleBatch(state, msg.batch);
        observeFetch(state, {
          caughtUp: msg.batch.caughtUp,
          lagRecords: lagAfter(msg.batch.lastOffset, msg.batch.highWatermark),
        });
        // A replayed batch the aggregator already holds still tells it how far the partition is.
        if (!sentToAggregator) tellProgress(msg.batch.caughtUp);
        reply<PartitionBatchReply>(ctx, { paused: state.paused });
        return state;
      }
      case 'progress':
        state.caughtUp = msg.caughtUp;
        observeFetch(state, { caughtUp: msg.caughtUp, lagRecords: 0 });
        tellProgress(msg.caughtUp);
        return state;
      case 'writerDrained':
        if (state.paused) {
          state.paused = false;
          options.fetch.resume();
          tellPaused(false);
          logger.debug('writer caught up: fetching resumed');
        }
        return state;
      case 'flush': {
        const flushed = await query<LakeWriterMsg, WriterFlushReply>(
          state.writer,
          () => ({ type: 'flush' }),
          options.queryTimeoutMs,
        );
        reply<WriterFlushReply>(ctx, flushed);
        return state;
      }
      case 'status':
        reply<PartitionStatus>(ctx, {
          topic,
          partition,
          valid: state.valid,
          rejected: { ...state.rejected },
          paused: state.paused,
          rawOffset: state.rawOffset,
          aggOffset: state.aggOffset,
          caughtUp: state.caughtUp,
        });
        return state;
    }
  };

  return spawn<State, PartitionMsg>(parent, behaviour, name, {
    initialStateFunc: (ctx) => ({
      writer: (options.spawnWriter ?? spawnLakeWriter)(ctx.self, {
        ...options.writer,
        committedOffset: options.rawOffset,
        onDrained: () => dispatch(ctx.self, { type: 'writerDrained' }),
      }),
      rawOffset: options.rawOffset,
      aggOffset: windowed ? (options.aggOffset ?? '-1') : null,
      knownGlobalWatermarkMs: -Infinity,
      paused: false,
      caughtUp: false,
      behind: false,
      valid: 0,
      rejected: {},
    }),
    onCrash: (_msg, err, ctx) => {
      logger.error({ err }, 'partition actor failed');
      // Retriable: the supervisor restarts the ETL from the last checkpoint (architecture.md, "Supervision").
      markRetriable(err);
      return ctx.escalate;
    },
  });
}
