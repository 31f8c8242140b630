/**
 * What the platform reports and is asked to run: a leaf of types only, so that the status server, `services ps`
 * and /metrics read the platform's shape without importing the supervisor that spawns them.
 */
import type { AggregatorMetrics } from '../actors/windowAggregator.js';
import type { IngestStatus } from '../actors/ingest.js';
import type { ProducerMetrics, ProducerPoolOptions, ProducerSummary } from '../actors/producerPool.js';
import type { TopicProgress } from '../etl/progress.js';
import type { RejectReason } from '../events/validate.js';
import type { MemoryBreakdown } from '../status/memoryBreakdown.js';
import type { RepartitionPurgeTotals } from '../windows/repartitionPurgeTotals.js';
import type { SealedDaysStatus } from './sealTimer.js';
import type { CompactionTotals } from '../lake/compactionTotals.js';
import type { ExpiryTotals } from '../lake/expiryTotals.js';

export interface EtlMetrics {
  ingest: IngestStatus[];
  aggregator: AggregatorMetrics;
  rejectedTotal: Partial<Record<RejectReason, number>>;
  checkpoints: number;
  /** Per topic, as of the last metrics line: events/s, lag, estimated seconds to catch up. */
  progress: TopicProgress[];
  /** Wall-clock time of the last checkpoint committed by this process; null before the first. */
  lastCheckpointMs: number | null;
  /** The last checkpoint committed by this process: when, how long its commit point took, which sink. */
  lastCheckpoint?: { atMs: number; durationMs: number; sink: string };
  /** Offsets skipped by etl.on_offset_out_of_range since the process started. */
  offsetsSkipped: Array<{ topic: string; partition: number; offsets: number }>;
  /**
   * Record sets the lean fetch decoder handed back to kafkajs (offsets beyond 2^53, malformed batches): slower, not
   * wrong.
   */
  leanDecoderFallbacks: number;
  /** Threads of this ETL's Parquet encoder pool (`etl.encoder_threads` resolved). */
  encoderThreads: number;
  /** The purge of the repartition topic since the process started (`etl.windows: members`; zeros otherwise). */
  repartitionPurge: RepartitionPurgeTotals;
  /** The sealer's last pass (architecture.md, "Sealed days"). */
  sealedDays?: SealedDaysStatus;
  /** What retention inside the ETL deleted since the process started (architecture.md, "Keeping the lake"). */
  expired: ExpiryTotals;
  /** What compaction inside the ETL merged since the process started (architecture.md, "Compaction"). */
  compaction: CompactionTotals;
}

export interface PlatformPlan {
  producer?: Omit<ProducerPoolOptions, 'config' | 'logger' | 'onFatal'>;
  etl?: boolean;
  /** Serve the status page, /metrics, /healthz and /readyz on ui.status_port. */
  status?: boolean;
  /** Serve the Kafka browser on ui.kafka_ui_port, as ui.kafka_ui says (auto: unless the port is taken). */
  kafkaUi?: boolean;
}

export interface ShutdownReport {
  producer?: ProducerSummary;
  exitCode: number;
}

export interface PlatformMetrics {
  producer?: ProducerMetrics;
  etl?: EtlMetrics;
  etlRestarts: number;
  /** The platform process, for `services ps`: its pid and when it started (epoch ms). */
  pid: number;
  startedAtMs: number;
  /** When each ETL restart happened (the last hour's). */
  etlRestartTimesMs?: number[];
  /** Where the memory goes: main thread and each producer thread (status/memoryBreakdown.ts). */
  memory?: MemoryBreakdown;
}
