/**
 * Wires the ETL part of the actor tree (architecture.md, "The actor tree") under the supervisor and runs its
 * lifecycle: recover the lake from the checkpoint store, restore the window aggregator, start one
 * ingest actor per topic; on `stop`, the ordered graceful shutdown of architecture.md, "Back-pressure and shutdown"; on
 * `abort` (after a failure), tear everything down without flushing — the next start recovers
 * from the last checkpoint, so nothing is skipped or repeated.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import {
  aggSinkId,
  durableOffset,
  rawSinkId,
  type CheckpointEvent,
  type CheckpointState,
  type SinkId,
} from '../checkpoint/checkpointState.js';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { StreamName } from '../events/types.js';
import type { RejectReason } from '../events/validate.js';
import { BufferBudget } from '../lake/bufferBudget.js';
import { createEncoderPool, type EncoderPool } from '../lake/encoderPool.js';
import { resolveEncoderThreads } from '../lake/encoderThreads.js';
import type { Logger } from '../log/logger.js';
import { dispatch, isStoppedActorError, query, stop, type AnyRef, type Ref } from '../system/nact.js';
import { drainCatchUpBudgetMs } from '../windows/drainCatchUp.js';
import {
  spawnCheckpointer,
  type CheckpointerMsg,
  type KafkaCommit,
  type LakeRecovery,
} from '../actors/checkpointer.js';
import { spawnIngest, type IngestMsg, type IngestStartReply, type IngestStatus } from '../actors/ingest.js';
import { spawnWindowAggregator, type AggregatorMetrics, type WindowAggregatorMsg } from '../actors/windowAggregator.js';
import { stageMetricsAsAggregator } from './stageMetricsAsAggregator.js';
import type { PartitionWatermarkStatus } from '../windows/watermarks.js';
import {
  spawnWindowStage,
  type WindowStageFlushReply,
  type WindowStageMetrics,
  type WindowStageMsg,
  type WindowStageStartReply,
} from '../actors/windowStage.js';
import { repartitionTopicName } from '../windows/repartitionRecords.js';
import { repartitionPurgeTotals } from '../windows/repartitionPurgeTotals.js';
import { compactionTotals, declareCompactedTables } from '../lake/compactionTotals.js';
import { TABLE_NAMES } from '../lake/tables.js';
import { expiryTotals } from '../lake/expiryTotals.js';
import type { RetentionSettings } from '../etl/ownerExpiry.js';
import { REPO_DIR } from '../storage/repoDir.js';
import { assertSafeRoots } from '../storage/safeClean.js';
import { createTopics, describeTopics } from '../kafka/admin/topics.js';
import { createTopicConsumer } from '../kafka/topicConsumer.js';
import { createPartitionTransactions, type PartitionTransactions } from '../kafka/partitionTransactions.js';
import { GenerationClients } from './generationClients.js';
import { checkWindowsSwitch } from '../etl/windowsSwitchCheck.js';
import { resolveWindowsMode, type ResolvedConfig } from '../etl/windowsModeCheck.js';
import { startMemoryGuard } from '../system/memoryGuard.js';
import { offsetsFromLake } from '../checkpoint/offsetsFromLake.js';
import { planRebuildFromLake, readLakeFloors } from '../checkpoint/rebuildFromLake.js';
import type { EtlMetrics } from './platformMetrics.js';
import { sealPass } from '../lake/sealer.js';
import { startSealTimer } from './sealTimer.js';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { renameDurable } from '../lake/durableFs.js';
import { migrateToUnits } from '../lake/unitMigration.js';
import { join } from 'node:path';

import { topicProgress, type ProgressSample, type TopicProgress } from '../etl/progress.js';
import { leanDecoderFallbacks } from '../kafka/patches/fetchRecordDecoder.js';
import { guardCheckpointedOffsets, offsetsSkippedTotal, type TopicIdStore } from '../etl/offsetGuard.js';

export const STREAMS: readonly StreamName[] = ['clickstream', 'iot'];
export const WINDOW_SIZE_MS = 60_000;

/** The ETL's metrics line comes this often (the producer's: data_generator.metrics_interval). */
export const ETL_METRICS_INTERVAL_MS = 10_000;

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
  /** Transactional producer factory override of the partition and window tasks (tests). */
  createTransactions?: (transactionalId: string) => PartitionTransactions;
  /** The checkpoint store's id: in every tmp file name, so recovery deletes only this store's. */
  storeId?: string;
  /** Where the topic ids of the checkpoints are kept (the checkpoint store). */
  topicIds?: TopicIdStore;
  /** The checkpoint store's file: `etl.windows: auto` reads it when the group in Kafka says nothing. */
  storeFile?: string;
}

const READ_TIMEOUT_MS = 60_000;

/**
 * How long a generation's end waits for its Kafka clients to close (architecture.md, "Supervision"): a close sends
 * nothing that needs an answer, so this is only reached with a broker that does not take the connection's end.
 */
export const CLIENTS_CLOSE_BOUND_MS = 10_000;

/**
 * Generations of the ETL in this process: each start (the first, and each in-process restart by
 * the supervisor) gets the next. Actors are respawned under the same names, so every message that
 * can outlive a generation (encodes, commit replies, retry timers, batches) carries it.
 */
let lastGeneration = 0;

/**
 * The store's sinks a partition's durable offset is the smallest of. The one-process window aggregator's sink only
 * with `etl.windows: process`: the stages keep their floor in the partition's Kafka commit, never in the store, so
 * counting that sink made every clickstream partition "durable through nothing" (architecture.md, "Windows across
 * members").
 */
export function sinksOfPartition(config: ResolvedConfig, stream: StreamName, partition: number): SinkId[] {
  const topic = config.topics[stream];
  return stream === 'clickstream' && config.etl.windows === 'process'
    ? [rawSinkId(topic, partition), aggSinkId(topic)]
    : [rawSinkId(topic, partition)];
}

/**
 * Kafka Connect style: an empty checkpoint store beside a lake that holds committed files (the
 * checkpoints were cleaned, or lost) is seeded from the lake's file names before anything is read,
 * so the next run does not write every event a second time (architecture.md, "Rebuilding from the
 * lake"). Interrupted renames of committed rolls are completed first.
 */
async function rebuildFromLakeIfEmpty(
  config: Config,
  logger: Logger,
  lakeRoot: string,
  checkpointer: Ref<CheckpointerMsg>,
  generation: number,
): Promise<void> {
  const before = await query<CheckpointerMsg, CheckpointState>(checkpointer, () => ({ type: 'read' }), READ_TIMEOUT_MS);
  if (before.checkpoints > 0) return;
  const topics = { clickstream: config.topics.clickstream, iot: config.topics.iot };
  const first = offsetsFromLake(
    listLakeFiles(lakeRoot).map((f) => f.path),
    topics,
    readLakeFloors(lakeRoot),
  );
  // A lake whose every file expired still holds its floors (architecture.md, "Keeping the lake: retention").
  if (first.files === 0 && first.raw.size === 0 && first.aggSeq < 0) return;
  for (const { from, to } of first.completions) await renameDurable(join(lakeRoot, from), join(lakeRoot, to));
  const plan = await planRebuildFromLake(lakeRoot, topics, WINDOW_SIZE_MS);
  for (const event of plan.events) {
    await query(checkpointer, () => ({ type: 'commit' as const, event, generation, seed: true }), READ_TIMEOUT_MS);
  }
  const offsets = Object.fromEntries(
    [...plan.lake.raw].map(([topic, m]) => [topic, Object.fromEntries([...m].map(([p, o]) => [p, o.toString()]))]),
  );
  logger.warn(
    {
      component: 'etl',
      lake_files: plan.lake.files,
      renames_completed: first.completions.length,
      offsets,
      agg_seq: plan.lake.aggSeq,
      agg_emitted_until: plan.maxMinuteEndMs === undefined ? null : new Date(plan.maxMinuteEndMs).toISOString(),
      unknown_files: plan.lake.unknown.length,
    },
    'empty checkpoint store beside a non-empty lake: durable offsets rebuilt from the lake file names (clickstream is re-read from its start for the windows only)',
  );
}

/** Before any partition is read: checkpointed offsets inside the logs, same topic (architecture.md). */
async function guardStartOffsets(
  deps: EtlDeps,
  config: ResolvedConfig,
  checkpoint: CheckpointState,
): Promise<Map<StreamName, Map<number, string>>> {
  const { logger } = deps;
  const startOverrides = new Map<StreamName, Map<number, string>>();
  for (const stream of STREAMS) {
    const topic = config.topics[stream];
    startOverrides.set(
      stream,
      await guardCheckpointedOffsets({
        config,
        logger,
        topic,
        checkpoint,
        sinksOf: (p) => sinksOfPartition(config, stream, p),
        ...(deps.topicIds ? { topicIds: deps.topicIds } : {}),
      }),
    );
  }
  return startOverrides;
}

/**
 * The ETL's 10 s metrics line: events/s and lag per topic, and while behind, when it catches up.
 * Each reading's progress goes to `onProgress` (the metrics' `progress`).
 */
function startMetricsLine(
  config: Config,
  logger: Logger,
  readMetrics: () => Promise<EtlMetrics>,
  onProgress: (progress: TopicProgress[]) => void,
): NodeJS.Timeout {
  const samples = new Map<string, ProgressSample>();
  const etlStartedMs = Date.now();
  for (const stream of STREAMS) samples.set(config.topics[stream], { atMs: etlStartedMs, processed: 0, lag: null });
  let metricsRunning = false;
  const metricsTimer = setInterval(() => {
    if (metricsRunning) return;
    metricsRunning = true;
    readMetrics()
      .then((m) => {
        const atMs = Date.now();
        const progress = m.ingest.map((i) => {
          const current: ProgressSample = {
            atMs,
            processed: i.partitions.reduce(
              (n, p) => n + p.valid + Object.values(p.rejected).reduce((a, b) => a + (b ?? 0), 0),
              0,
            ),
            lag: i.lag,
          };
          const result = topicProgress(i.topic, samples.get(i.topic), current);
          samples.set(i.topic, current);
          return result;
        });
        onProgress(progress);
        const behind = progress.filter((p) => p.lag !== null && p.lag > 0);
        logger.info(
          {
            component: 'etl',
            events_per_s: Object.fromEntries(progress.map((p) => [p.topic, p.eventsPerSecond])),
            lag: Object.fromEntries(progress.map((p) => [p.topic, p.lag])),
            ...(behind.length > 0
              ? { catch_up_s: Object.fromEntries(behind.map((p) => [p.topic, p.catchUpSeconds])) }
              : {}),
            checkpoints: m.checkpoints,
          },
          behind.length > 0 ? 'etl metrics (behind)' : 'etl metrics',
        );
      })
      .catch((err: unknown) => logger.debug({ component: 'etl', err }, 'etl metrics not available'))
      .finally(() => {
        metricsRunning = false;
      });
  }, ETL_METRICS_INTERVAL_MS);
  metricsTimer.unref();
  return metricsTimer;
}

// Longer than 80 lines on purpose: the ETL's start in its order, with the undo of a start that
// fails halfway beside it, and the closures over this generation's state (onCommitted,
// readMetrics, teardown) that the runtime returns; the offset guard and the metrics line are apart.
export async function startEtl(deps: EtlDeps): Promise<EtlRuntime> {
  const { logger, parent } = deps;
  // `etl.windows: auto` decided from the group in Kafka before anything starts (etl/windowsMode.ts): every member of
  // the group decides the same, and a failure here leaves nothing to undo.
  const { config, facts: groupFacts } = await resolveWindowsMode(deps.config, logger, 'info', deps.storeFile);
  const generation = ++lastGeneration;
  const lakeRoot = resolve(config.storage.datalake_root);
  const clickTopic = config.topics.clickstream;
  const aggSink = aggSinkId(clickTopic);
  const rejectedTotal: Partial<Record<RejectReason, number>> = {};
  const ingests = new Map<StreamName, Ref<IngestMsg>>();
  let lastCheckpoints = 0;
  let lastCheckpointMs: number | null = null;
  let progress: TopicProgress[] = [];

  const encoderThreads = resolveEncoderThreads(config.etl.encoder_threads, availableParallelism());
  const encoderPool: EncoderPool = createEncoderPool({
    threads: encoderThreads,
    maxHeapMb: Math.ceil(config.etl.encoder_heap / (1024 * 1024)),
  });
  const bufferBudget = new BufferBudget(config.etl.max_buffered_rows);
  // Every producer and consumer of this generation, closed at its end whatever its actors' state.
  const clients = new GenerationClients(logger);
  const createTransactions = (transactionalId: string): PartitionTransactions =>
    clients.transactions(
      deps.createTransactions?.(transactionalId) ??
        createPartitionTransactions(config, logger, { transactionalId, groupId: config.etl.consumer_group }),
    );
  const createConsumer: typeof createTopicConsumer = (...args) =>
    clients.consumer((deps.createConsumer ?? createTopicConsumer)(...args));
  const memoryGuard = startMemoryGuard({ softLimitBytes: config.etl.heap_soft_limit });
  const streamOfTopic = new Map(STREAMS.map((s) => [config.topics[s], s]));

  let lastCheckpoint: EtlMetrics['lastCheckpoint'];
  const onCommitted = (event: CheckpointEvent, state: CheckpointState, durationMs = 0): void => {
    lastCheckpoints = state.checkpoints;
    lastCheckpointMs = Date.now();
    lastCheckpoint = { atMs: Date.now(), durationMs, sink: event.sink };
    const stream = streamOfTopic.get(event.topic);
    const ingest = stream ? ingests.get(stream) : undefined;
    // Staged windows have no sink in the store: what is durable is the group's offset (onKafkaCommitted).
    if (!stream || !ingest || staged) return;
    const partitions = event.type === 'raw' ? [event.partition] : Object.keys(event.offsets).map(Number);
    for (const partition of partitions) {
      const durable = durableOffset(state, sinksOfPartition(config, stream, partition), partition);
      dispatch(ingest, { type: 'durable', partition, nextOffset: (BigInt(durable) + 1n).toString() });
    }
  };

  // The windows across members (architecture.md, "Windows across members"): stage 1 in the clickstream partitions'
  // tasks at the checkpointer, stage 2 in the window stage; R is known once the stage has started.
  const staged = config.etl.windows === 'members';
  // Every owner compacts its own units with these (`lake.*`; architecture.md, "Compaction").
  const compaction = config.lake.compaction
    ? {
        intervalMs: config.lake.compaction_interval,
        targetBytes: config.lake.target_file_bytes,
        vacuumGraceMs: config.lake.vacuum_grace,
      }
    : undefined;
  if (compaction) declareCompactedTables(TABLE_NAMES);
  let repartitions: number | undefined;
  // Stage 1's marks are members mode's window checkpoint, as the aggregator's are in process mode: without them the
  // status would show no checkpoint until the first file rolls (`etl.max_file_age`), and warn of a stale one.
  let marksCheckpoints = 0;
  // Stage 2's commits are members mode's other window checkpoint: the state of the windows and the windows closed.
  let stage2Checkpoints = 0;
  const onStage2Committed = (partition: number, durationMs: number): void => {
    stage2Checkpoints += 1;
    lastCheckpointMs = Date.now();
    const sink = `windows:${repartitionTopicName(config.etl.consumer_group)}:${partition}`;
    lastCheckpoint = { atMs: lastCheckpointMs, durationMs, sink };
  };
  const onKafkaCommitted = (topic: string, partition: number, nextOffset: string, commit: KafkaCommit): void => {
    // A roll's store checkpoint follows at once (onCommitted) and counts there. A merge or a takeover republishes an
    // offset already committed: not a checkpoint, or it could hide a stale one.
    if (commit.kind === 'marks') {
      marksCheckpoints += 1;
      lastCheckpointMs = Date.now();
      lastCheckpoint = { atMs: lastCheckpointMs, durationMs: commit.durationMs, sink: `marks:${topic}:${partition}` };
    }
    const stream = streamOfTopic.get(topic);
    const ingest = stream ? ingests.get(stream) : undefined;
    if (ingest) dispatch(ingest, { type: 'durable', partition, nextOffset });
  };

  // Each owner deletes its files of the expired dts (architecture.md, "Keeping the lake: retention"): the partitions'
  // tasks at the checkpointer, the window aggregator (process mode) or the stage-2 tasks (members mode).
  const retention: RetentionSettings | undefined =
    config.lake.retention_days === null
      ? undefined
      : {
          days: config.lake.retention_days,
          intervalMs: config.lake.retention_interval,
          topics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
          assertLakeRoot: () =>
            assertSafeRoots([{ kind: 'datalake', configured: config.storage.datalake_root }], REPO_DIR, [
              config.storage.datalake_root,
              config.storage.checkpoint_root,
              config.kafka.local.data_dir,
            ]),
        };
  const checkpointer: Ref<CheckpointerMsg> = spawnCheckpointer(parent, {
    lakeRoot,
    logger,
    snapshotEvery: config.etl.snapshot_every,
    onCommitted,
    generation,
    ...(deps.storeId ? { storeId: deps.storeId } : {}),
    // Each partition's owner compacts its files, the window aggregator its `agg` units in process mode (architecture.md,
    // "Compaction").
    ...(compaction
      ? {
          compaction: { ...compaction, aggregator: !staged },
        }
      : {}),
    // Each owner deletes its files of the expired dts (architecture.md, "Keeping the lake: retention").
    ...(retention ? { retention: { ...retention, aggregator: !staged } } : {}),
    kafka: {
      config,
      groupId: config.etl.consumer_group,
      windowTopic: clickTopic,
      tablesOf: (topic) => [topic === clickTopic ? 'clickstream' : 'iot', '_rejected'],
      createTransactions,
      ...(staged
        ? {
            stage1: {
              sizeMs: WINDOW_SIZE_MS,
              watermarkDelayMs: config.etl.watermark_delay,
              idleTimeoutMs: config.etl.idle_timeout,
              intervalMs: config.etl.checkpoint_interval,
              repartitionTopic: repartitionTopicName(config.etl.consumer_group),
              repartitions: () => repartitions,
            },
            onKafkaCommitted,
          }
        : {}),
    },
  });
  // A start that fails halfway (a broker refusing the group join, an offset out of range) must
  // leave nothing behind: the supervisor's next start spawns the same actor names.
  let recovery!: LakeRecovery;
  let checkpoint!: CheckpointState;
  let aggregator: Ref<WindowAggregatorMsg> | undefined;
  let windowStage: Ref<WindowStageMsg> | undefined;
  let stageStart: Promise<WindowStageStartReply> | undefined;
  try {
    // Its internal topics, if missing, as Kafka Streams makes its own: `etl` on a new machine or group just starts.
    // Only when missing: a member must start while a broker is down, and the topics' settings are `topics`' concern.
    // Looked up beside the lake's recovery, which does not need them.
    const internalTopics = staged ? ensureInternalTopics(config, logger) : undefined;
    internalTopics?.catch(() => undefined); // awaited below; a failure must not be unhandled meanwhile
    await migrateToUnits(lakeRoot, logger);
    await rebuildFromLakeIfEmpty(config, logger, lakeRoot, checkpointer, generation);
    recovery = await query<CheckpointerMsg, LakeRecovery>(
      checkpointer,
      () => ({ type: 'recoverLake' }),
      READ_TIMEOUT_MS,
    );
    checkpoint = await query<CheckpointerMsg, CheckpointState>(checkpointer, () => ({ type: 'read' }), READ_TIMEOUT_MS);
    lastCheckpoints = checkpoint.checkpoints;
    const commitTimeoutMs = config.etl.shutdown_timeout + 60_000;
    if (staged) {
      await internalTopics;
      // A switch from etl.windows: process that would lose the page views of the windows open in this store.
      await checkWindowsSwitch(config, logger, checkpoint.aggregators[aggSink]?.state, groupFacts);
      windowStage = spawnWindowStage(parent, {
        config,
        logger,
        lakeRoot,
        encoderPool,
        writerId: deps.storeId ?? '0',
        windowSizeMs: WINDOW_SIZE_MS,
        kafka: { createTransactions },
        createConsumer,
        onCommitted: onStage2Committed,
        ...(retention ? { retention } : {}),
        // Each stage-2 task compacts its own `r<r>` unit (architecture.md, "Compaction").
        ...(compaction
          ? {
              compaction,
            }
          : {}),
      });
    } else
      aggregator = spawnWindowAggregator(parent, {
        sink: aggSink,
        topic: clickTopic,
        lakeRoot,
        windows: {
          sizeMs: WINDOW_SIZE_MS,
          watermarkDelayMs: config.etl.watermark_delay,
          idleTimeoutMs: config.etl.idle_timeout,
        },
        ...(checkpoint.aggregators[aggSink] ? { restored: checkpoint.aggregators[aggSink] } : {}),
        checkpointIntervalMs: config.etl.checkpoint_interval,
        encoderPool,
        encoder: config.etl.parquet_encoder,
        checkpointer,
        rowGroupRows: config.etl.row_group_rows,
        commitTimeoutMs,
        logger,
        generation,
        ...(deps.storeId ? { storeId: deps.storeId } : {}),
      });

    const startOverrides = await guardStartOffsets(deps, config, checkpoint);

    for (const stream of STREAMS) {
      const topic = config.topics[stream];
      const ingest = spawnIngest(parent, {
        startOverrides: startOverrides.get(stream) ?? new Map(),
        topic,
        stream,
        config,
        logger,
        ...(stream === 'clickstream' && aggregator ? { aggregator } : {}),
        ...(stream === 'clickstream' && staged ? { windowStages: true } : {}),
        checkpointer,
        generation,
        encoderPool,
        bufferBudget,
        lakeRoot,
        ...(deps.storeId ? { storeId: deps.storeId } : {}),
        onRejected: (reason) => {
          rejectedTotal[reason] = (rejectedTotal[reason] ?? 0) + 1;
        },
        createConsumer,
      });
      ingests.set(stream, ingest);
    }
    if (windowStage) {
      // Started in the same tick as the ingests, so that the three consumers join the group in one round: a stage
      // that joined first made a group of one, and the ingests' joins then cost another round, the stage learning
      // of it at its next heartbeat (~1 s of the start). The stage-1 counts wait for R meanwhile (architecture.md,
      // "Windows across members").
      const stage = windowStage;
      stageStart = query<WindowStageMsg, WindowStageStartReply>(stage, () => ({ type: 'start' }), READ_TIMEOUT_MS).then(
        (reply) => {
          if (reply.ok) repartitions = reply.partitions;
          return reply;
        },
      );
      stageStart.catch(() => undefined); // awaited below, with the ingests
    }
    const started = await Promise.all(
      [...ingests].map(async ([stream, ingest]) => ({
        stream,
        reply: await query<IngestMsg, IngestStartReply>(ingest, () => ({ type: 'start' as const }), READ_TIMEOUT_MS),
      })),
    );
    if (stageStart) {
      const stage = await stageStart;
      if (!stage.ok)
        throw new SdpError(
          stage.code ?? ErrorCodes.KAFKA_CONSUMER_FAILED,
          `the window stage could not start: ${stage.error}`,
        );
    }
    for (const { stream, reply } of started) {
      if (!reply.ok)
        throw new SdpError(
          reply.code ?? ErrorCodes.KAFKA_CONSUMER_FAILED,
          `the consumer of ${config.topics[stream]} could not start: ${reply.error}`,
        );
    }
  } catch (err) {
    await Promise.allSettled(
      [...ingests.values()].map((ingest) => query(ingest, () => ({ type: 'close' as const }), READ_TIMEOUT_MS)),
    );
    for (const ingest of ingests.values()) stop(ingest);
    if (aggregator) stop(aggregator);
    if (windowStage) {
      await query(windowStage, () => ({ type: 'close' as const }), READ_TIMEOUT_MS).catch(() => undefined);
      stop(windowStage);
    }
    await encoderPool.close().catch(() => undefined);
    memoryGuard.stop();
    await query(checkpointer, () => ({ type: 'closeTasks' as const }), READ_TIMEOUT_MS).catch(() => undefined);
    stop(checkpointer);
    await clients.end(CLIENTS_CLOSE_BOUND_MS);
    logger.warn({ component: 'etl', generation, err }, 'etl start failed; what it had started is stopped');
    throw err;
  }
  const startedAggregator = aggregator;
  const startedStage = windowStage;
  logger.info(
    {
      component: 'etl',
      generation,
      lake_root: lakeRoot,
      checkpoints: checkpoint.checkpoints,
      encoder: config.etl.parquet_encoder,
    },
    'etl started',
  );

  const readMetrics = async (): Promise<EtlMetrics> => {
    const [ingest, agg] = await Promise.all([
      Promise.all(
        [...ingests.values()].map((ref) => query<IngestMsg, IngestStatus>(ref, () => ({ type: 'status' }), 5_000)),
      ),
      startedAggregator
        ? query<WindowAggregatorMsg, AggregatorMetrics>(startedAggregator, () => ({ type: 'metrics' }), 5_000)
        : Promise.all([
            query<WindowStageMsg, WindowStageMetrics>(startedStage!, () => ({ type: 'metrics' }), 5_000),
            query<CheckpointerMsg, PartitionWatermarkStatus[]>(checkpointer, () => ({ type: 'sourceStatus' }), 5_000),
          ]).then(([stage, sources]) => stageMetricsAsAggregator(stage, sources)),
    ]);
    return {
      ingest,
      aggregator: agg,
      rejectedTotal: { ...rejectedTotal },
      checkpoints: lastCheckpoints + marksCheckpoints + stage2Checkpoints,
      progress,
      lastCheckpointMs,
      ...(lastCheckpoint ? { lastCheckpoint } : {}),
      offsetsSkipped: offsetsSkippedTotal(),
      leanDecoderFallbacks: leanDecoderFallbacks(),
      encoderThreads,
      repartitionPurge: repartitionPurgeTotals(),
      sealedDays: sealer.status(),
      expired: expiryTotals(),
      compaction: compactionTotals(),
    };
  };

  const metricsTimer = startMetricsLine(config, logger, readMetrics, (p) => {
    progress = p;
  });
  // Sealed days (architecture.md, "Sealed days"): manifests only, so beside every member's own commits.
  const sealer = startSealTimer(config, logger, () =>
    sealPass(
      lakeRoot,
      {
        sealAfterMs: config.lake.seal_after,
        targetBytes: config.lake.target_file_bytes,
        rawTopics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
      },
      logger,
    ),
  );

  /** The ETL's actors in the order of architecture.md, "Back-pressure and shutdown" (graceful) or torn down. */
  const closeActors = async (graceful: boolean): Promise<void> => {
    const timeoutMs = config.etl.shutdown_timeout;
    const stopStartedMs = Date.now();
    if (graceful) {
      // An ingest that already failed (a takeover during a broker outage, say) has nothing left to drain: its
      // uncommitted rolls are simply not committed, and its partitions resume from Kafka at the next start. The
      // others still stop gracefully (architecture.md, "Back-pressure and shutdown").
      await Promise.all(
        [...ingests.entries()].map(([stream, ingest]) =>
          query(ingest, () => ({ type: 'drain' as const }), timeoutMs).catch((err: unknown) => {
            if (!isStoppedActorError(err)) throw err;
            logger.warn({ component: 'etl', generation, stream }, 'ingest already stopped (it failed): not drained');
          }),
        ),
      );
      if (startedAggregator) await query(startedAggregator, () => ({ type: 'flush' as const }), timeoutMs);
      if (startedStage) {
        // Stage 1's last counts go out with their partitions' marks, then stage 2 commits what it applied.
        await query(checkpointer, () => ({ type: 'flushMarks' as const }), timeoutMs);
        // It reads on to the marks just committed within a share of what is left of the stop's deadline.
        const catchUpMs = drainCatchUpBudgetMs(timeoutMs - (Date.now() - stopStartedMs));
        await query<WindowStageMsg, WindowStageFlushReply>(
          startedStage,
          () => ({ type: 'drain', catchUpMs }),
          timeoutMs,
        );
      }
      await Promise.all(
        [...ingests.values()].map((ingest) =>
          query(ingest, () => ({ type: 'close' as const }), timeoutMs).catch((err: unknown) => {
            if (!isStoppedActorError(err)) throw err;
          }),
        ),
      );
    } else {
      await Promise.allSettled(
        [...ingests.values()].map((ingest) => query(ingest, () => ({ type: 'close' as const }), timeoutMs)),
      );
    }
    if (startedStage) await query(startedStage, () => ({ type: 'close' as const }), timeoutMs).catch(() => undefined);
    for (const ingest of ingests.values()) stop(ingest);
    if (startedAggregator) stop(startedAggregator);
    if (startedStage) stop(startedStage);
    await encoderPool.close();
    memoryGuard.stop();
    // Let any commit already queued finish before the checkpointer goes, then close the partitions' producers. After
    // a failure the checkpointer may be the actor that failed (stopped: it answers nothing), or its commits may wait
    // on a broker that is down: the wait is bounded, and whatever it leaves open is closed below.
    await query(
      checkpointer,
      () => ({ type: 'closeTasks' as const }),
      graceful ? READ_TIMEOUT_MS : Math.min(READ_TIMEOUT_MS, timeoutMs),
    ).catch(() => undefined);
    stop(checkpointer);
  };

  let stopped = false;
  const teardown = async (graceful: boolean): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearInterval(metricsTimer);
    sealer.stop();
    try {
      await closeActors(graceful);
    } finally {
      // Whatever the actors left open, even after a drain that failed (architecture.md, "Supervision").
      const ended = await clients.end(CLIENTS_CLOSE_BOUND_MS);
      logger.info(
        {
          component: 'etl',
          generation,
          graceful,
          clients_closed_at_end: ended.closed,
          clients_still_closing: ended.stillClosing.length,
        },
        'etl generation ended',
      );
    }
  };

  return {
    recovery,
    stop: () => teardown(true),
    abort: () => teardown(false),
    metrics: readMetrics,
  };
}

/** The window stages' internal topics of the group, created if missing (architecture.md, "Windows across members"). */
async function ensureInternalTopics(config: Config, logger: Logger): Promise<void> {
  const internal = await describeTopics(config, logger, { windowTopicsOnly: true });
  if (!internal.some((t) => !t.exists)) return;
  const topics = await createTopics(config, logger, { windowTopicsOnly: true });
  logger.info(
    { component: 'etl', topics: topics.created.map((t) => t.topic) },
    'internal topics of the window stages created',
  );
}
