/**
 * Wires the ETL part of the actor tree (DESIGN.md section 1) under the supervisor and runs its
 * lifecycle: recover the lake from the checkpoint store, restore the window aggregator, start one
 * ingest actor per topic; on `stop`, the ordered graceful shutdown of DESIGN.md section 5; on
 * `abort` (after a failure), tear everything down without flushing — the next start recovers
 * from the last checkpoint, so nothing is skipped or repeated.
 */
import { resolve } from 'node:path';
import { aggSinkId, durableOffset, rawSinkId, type CheckpointEvent, type CheckpointState, type SinkId } from '../checkpoint/checkpointState.js';
import type { Config } from '../config/schema.js';
import type { StreamName } from '../events/types.js';
import type { RejectReason } from '../events/validate.js';
import { BufferBudget } from '../lake/bufferBudget.js';
import { createEncoderPool, type EncoderPool } from '../lake/encoderPool.js';
import type { Logger } from '../log/logger.js';
import { dispatch, query, stop, type AnyRef, type Ref } from '../system/nact.js';
import { spawnCheckpointer, type CheckpointerMsg, type LakeRecovery } from '../actors/checkpointer.js';
import { spawnIngest, type IngestMsg, type IngestStatus } from '../actors/ingest.js';
import { spawnWindowAggregator, type AggregatorMetrics, type WindowAggregatorMsg } from '../actors/windowAggregator.js';
import type { createTopicConsumer } from '../kafka/topicConsumer.js';
import { startMemoryGuard } from '../system/memoryGuard.js';
import { guardCheckpointedOffsets, offsetsSkippedTotal, type TopicIdStore } from './offsetGuard.js';

export const STREAMS: readonly StreamName[] = ['clickstream', 'iot'];
export const WINDOW_SIZE_MS = 60_000;

export interface EtlMetrics {
  ingest: IngestStatus[];
  aggregator: AggregatorMetrics;
  rejectedTotal: Partial<Record<RejectReason, number>>;
  checkpoints: number;
  /** Offsets skipped by etl.on_offset_out_of_range since the process started. */
  offsetsSkipped: Array<{ topic: string; partition: number; offsets: number }>;
}

export interface EtlRuntime {
  /** Graceful: stop fetching, flush writers and windows, commit, leave the group. */
  stop(): Promise<void>;
  /** After a failure: tear down without flushing. */
  abort(): Promise<void>;
  metrics(): Promise<EtlMetrics>;
  readonly recovery: LakeRecovery;
}

export interface EtlDeps {
  config: Config;
  logger: Logger;
  parent: AnyRef;
  /** Consumer factory override (tests). */
  createConsumer?: typeof createTopicConsumer;
  /** The checkpoint store's id: in every tmp file name, so recovery deletes only this store's. */
  storeId?: string;
  /** Where the topic ids of the checkpoints are kept (the checkpoint store). */
  topicIds?: TopicIdStore;
}

const READ_TIMEOUT_MS = 60_000;

export function sinksOfPartition(config: Config, stream: StreamName, partition: number): SinkId[] {
  const topic = config.topics[stream];
  return stream === 'clickstream' ? [rawSinkId(topic, partition), aggSinkId(topic)] : [rawSinkId(topic, partition)];
}

export async function startEtl(deps: EtlDeps): Promise<EtlRuntime> {
  const { config, logger, parent } = deps;
  const lakeRoot = resolve(config.storage.datalake_root);
  const clickTopic = config.topics.clickstream;
  const aggSink = aggSinkId(clickTopic);
  const rejectedTotal: Partial<Record<RejectReason, number>> = {};
  const ingests = new Map<StreamName, Ref<IngestMsg>>();
  let lastCheckpoints = 0;

  const encoderPool: EncoderPool = createEncoderPool({ threads: config.etl.encoder_threads, maxHeapMb: Math.ceil(config.etl.encoder_heap / (1024 * 1024)) });
  const bufferBudget = new BufferBudget(config.etl.max_buffered_rows);
  const memoryGuard = startMemoryGuard({ softLimitBytes: config.etl.heap_soft_limit });
  const streamOfTopic = new Map(STREAMS.map((s) => [config.topics[s], s]));

  const onCommitted = (event: CheckpointEvent, state: CheckpointState): void => {
    lastCheckpoints = state.checkpoints;
    const stream = streamOfTopic.get(event.topic);
    const ingest = stream ? ingests.get(stream) : undefined;
    if (!stream || !ingest) return;
    const partitions = event.type === 'raw' ? [event.partition] : Object.keys(event.offsets).map(Number);
    for (const partition of partitions) {
      const durable = durableOffset(state, sinksOfPartition(config, stream, partition), partition);
      dispatch(ingest, { type: 'durable', partition, nextOffset: (BigInt(durable) + 1n).toString() });
    }
  };

  const checkpointer: Ref<CheckpointerMsg> = spawnCheckpointer(parent, { lakeRoot, logger, snapshotEvery: config.etl.snapshot_every, onCommitted, ...(deps.storeId ? { storeId: deps.storeId } : {}) });
  const recovery = await query<CheckpointerMsg, LakeRecovery>(checkpointer, () => ({ type: 'recoverLake' }), READ_TIMEOUT_MS);
  const checkpoint = await query<CheckpointerMsg, CheckpointState>(checkpointer, () => ({ type: 'read' }), READ_TIMEOUT_MS);
  lastCheckpoints = checkpoint.checkpoints;

  const commitTimeoutMs = config.etl.shutdown_timeout + 60_000;
  const aggregator: Ref<WindowAggregatorMsg> = spawnWindowAggregator(parent, {
    sink: aggSink,
    topic: clickTopic,
    lakeRoot,
    windows: { sizeMs: WINDOW_SIZE_MS, watermarkDelayMs: config.etl.watermark_delay, idleTimeoutMs: config.etl.idle_timeout },
    ...(checkpoint.aggregators[aggSink] ? { restored: checkpoint.aggregators[aggSink] } : {}),
    checkpointIntervalMs: config.etl.checkpoint_interval,
    encoderPool,
    encoder: config.etl.parquet_encoder,
    checkpointer,
    rowGroupRows: config.etl.row_group_rows,
    commitTimeoutMs,
    logger,
    ...(deps.storeId ? { storeId: deps.storeId } : {}),
  });

  // Before any partition is read: checkpointed offsets inside the logs, same topic (architecture.md).
  const startOverrides = new Map<StreamName, Map<number, string>>();
  for (const stream of STREAMS) {
    const topic = config.topics[stream];
    try {
      startOverrides.set(stream, await guardCheckpointedOffsets({ config, logger, topic, checkpoint, sinksOf: (p) => sinksOfPartition(config, stream, p), ...(deps.topicIds ? { topicIds: deps.topicIds } : {}) }));
    } catch (err) {
      stop(aggregator);
      await encoderPool.close();
      memoryGuard.stop();
      stop(checkpointer);
      throw err;
    }
  }

  for (const stream of STREAMS) {
    const topic = config.topics[stream];
    const ingest = spawnIngest(parent, {
      startOverrides: startOverrides.get(stream) ?? new Map(),
      topic,
      stream,
      config,
      logger,
      checkpoint,
      sinksOf: (p) => sinksOfPartition(config, stream, p),
      rawSinkOf: (p) => rawSinkId(topic, p),
      ...(stream === 'clickstream' ? { aggregator, aggSink } : {}),
      checkpointer,
      encoderPool,
      bufferBudget,
      lakeRoot,
      ...(deps.storeId ? { storeId: deps.storeId } : {}),
      onRejected: (reason) => {
        rejectedTotal[reason] = (rejectedTotal[reason] ?? 0) + 1;
      },
      ...(deps.createConsumer ? { createConsumer: deps.createConsumer } : {}),
    });
    ingests.set(stream, ingest);
  }
  await Promise.all([...ingests.values()].map((ingest) => query(ingest, () => ({ type: 'start' as const }), READ_TIMEOUT_MS)));
  logger.info({ component: 'etl', lake_root: lakeRoot, checkpoints: checkpoint.checkpoints, encoder: config.etl.parquet_encoder }, 'etl started');

  let stopped = false;
  const teardown = async (graceful: boolean): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const timeoutMs = config.etl.shutdown_timeout;
    if (graceful) {
      await Promise.all([...ingests.values()].map((ingest) => query(ingest, () => ({ type: 'drain' as const }), timeoutMs)));
      await query(aggregator, () => ({ type: 'flush' as const }), timeoutMs);
      await Promise.all([...ingests.values()].map((ingest) => query(ingest, () => ({ type: 'close' as const }), timeoutMs)));
    } else {
      await Promise.allSettled([...ingests.values()].map((ingest) => query(ingest, () => ({ type: 'close' as const }), timeoutMs)));
    }
    for (const ingest of ingests.values()) stop(ingest);
    stop(aggregator);
    await encoderPool.close();
    memoryGuard.stop();
    // Let any commit already queued finish before the checkpointer goes.
    await query(checkpointer, () => ({ type: 'read' as const }), READ_TIMEOUT_MS).catch(() => undefined);
    stop(checkpointer);
  };

  return {
    recovery,
    stop: () => teardown(true),
    abort: () => teardown(false),
    async metrics() {
      const [ingest, agg] = await Promise.all([
        Promise.all([...ingests.values()].map((ref) => query<IngestMsg, IngestStatus>(ref, () => ({ type: 'status' }), 5_000))),
        query<WindowAggregatorMsg, AggregatorMetrics>(aggregator, () => ({ type: 'metrics' }), 5_000),
      ]);
      return { ingest, aggregator: agg, rejectedTotal: { ...rejectedTotal }, checkpoints: lastCheckpoints, offsetsSkipped: offsetsSkippedTotal() };
    },
  };
}
