/**
 * What the dashboard shows (and /api/status returns): the platform's own metrics, unchanged, plus
 * Kafka's view of every partition (log start and end offsets), the lag of the lake behind the log
 * in events and seconds, the live actor tree, files and bytes per table, the last checkpoint, the
 * brokers, the ETL's consumer group as Kafka describes it (every member, wherever it runs) and the
 * warnings. A sampler records a bounded history for the 15-minute charts.
 *
 * Lag of a partition = records at and after its durable offset (the next offset not yet durable in
 * every sink: where a restart would resume) up to the log end. Offsets also count transaction
 * markers, so when the difference is small the records are read and counted exactly; the lag in
 * seconds is the age (Kafka timestamp) of the oldest record not yet durable.
 */
import type { Config } from '../config/schema.js';
import type { GroupMember } from '../kafka/admin/groupMembers.js';
import type { ClusterBrowser, BrokerView } from '../kafka/browser/clusterBrowser.js';
import { lakeTableFiles, type TableFiles } from '../lake/lakeStats.js';
import type { Logger } from '../log/logger.js';
import type { PlatformMetrics } from '../platform/platformMetrics.js';
import type { ActorNode } from '../system/actorTree.js';
import { SampleRing } from './sampleRing.js';
import { pipelineWarnings, type Warning } from './warnings.js';
import { withTimeout } from '../system/withTimeout.js';

export interface PartitionRow {
  topic: string;
  partition: number;
  logStartOffset: string | null;
  logEndOffset: string | null;
  /** The next offset not yet durable in every sink (null: not known, e.g. not assigned here). */
  durableNextOffset: string | null;
  lagEvents: number | null;
  /** True when lagEvents counts records exactly (not offsets, which include transaction markers). */
  lagExact: boolean;
  lagSeconds: number | null;
  /** Event-time watermark (clickstream partitions; iot has no windows). */
  watermarkMs: number | null;
  assigned: boolean;
  paused: boolean;
  validEvents: number;
  rejectedEvents: number;
}

/** etl.consumer_group as DescribeGroups answered it, at most GROUP_EVERY_MS old. */
export interface ConsumerGroupStatus {
  id: string;
  /** Kafka's group state; `unknown` when Kafka did not answer (then `error` says why). */
  state: string;
  members: GroupMember[];
  error: string | null;
  atMs: number;
}

export interface DashboardStatus extends PlatformMetrics {
  timeMs: number;
  actors: ActorNode[];
  partitions: PartitionRow[];
  lake: TableFiles[];
  checkpoint: { total: number; lastAtMs: number | null; lastDurationMs: number | null } | null;
  brokers: BrokerView[] | null;
  kafkaError: string | null;
  group: ConsumerGroupStatus;
  restartsLastHour: number;
  rssBytes: number;
  warnings: Warning[];
}

export interface HistorySample {
  tMs: number;
  /** Acknowledged events per second, per stream. */
  producedPerSecond: Record<string, number>;
  /** Rows per second routed to each table's writers (and windows emitted as rows). */
  lakeRowsPerSecond: Record<string, number>;
  lagByTopic: Record<string, number>;
  watermarkLagSeconds: number | null;
  rssBytes: number;
}

export interface PipelineStatusOptions {
  config: Config;
  logger: Logger;
  metrics: () => Promise<PlatformMetrics>;
  browser: ClusterBrowser;
  actorTree: () => ActorNode[];
  restartTimesMs: () => number[];
  /** When the ETL started (for "checkpoints stale" before the first checkpoint). */
  etlStartedAtMs: () => number | null;
  sampleEveryMs?: number;
  historyMs?: number;
}

/** Offset lags up to this are counted record by record (markers excluded). */
const EXACT_LAG_MAX = 200;
const LAKE_STATS_EVERY_MS = 5_000;
/** Members change only on a rebalance; DescribeGroups must not run per request (or per sample). */
const GROUP_EVERY_MS = 5_000;
/** /api/status answers within this even when Kafka does not (the platform's own figures first). */
const KAFKA_ANSWER_MS = 2_500;

function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  return withTimeout(p, ms, `${what}: no answer within ${ms} ms`);
}

export class PipelineStatus {
  private readonly ring: SampleRing<HistorySample>;
  private readonly sampleEveryMs: number;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<DashboardStatus>;
  private lakeCache?: { atMs: number; tables: TableFiles[] };
  private groupCache?: ConsumerGroupStatus;
  private previous?: { tMs: number; produced: Record<string, number>; rows: Record<string, number> };

  constructor(private readonly options: PipelineStatusOptions) {
    this.sampleEveryMs = options.sampleEveryMs ?? 2_000;
    this.ring = new SampleRing(Math.ceil((options.historyMs ?? 15 * 60_000) / this.sampleEveryMs));
  }

  /** Starts the sampler (history and lag-growth warnings). */
  start(): void {
    this.timer = setInterval(() => {
      this.collect().catch((err: unknown) => this.options.logger.debug({ err }, 'status sample failed'));
    }, this.sampleEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  history(): HistorySample[] {
    return this.ring.toArray();
  }

  /** One snapshot; concurrent callers share it. Each snapshot also feeds the history. */
  collect(): Promise<DashboardStatus> {
    this.inFlight ??= this.build().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async lakeTables(nowMs: number): Promise<TableFiles[]> {
    if (!this.lakeCache || nowMs - this.lakeCache.atMs >= LAKE_STATS_EVERY_MS) {
      this.lakeCache = { atMs: nowMs, tables: await lakeTableFiles(this.options.config.storage.datalake_root) };
    }
    return this.lakeCache.tables;
  }

  private async consumerGroup(nowMs: number): Promise<ConsumerGroupStatus> {
    if (this.groupCache && nowMs - this.groupCache.atMs < GROUP_EVERY_MS) return this.groupCache;
    const id = this.options.config.etl.consumer_group;
    // A failure is cached too: a Kafka that does not answer is asked again only after GROUP_EVERY_MS.
    this.groupCache = await within(KAFKA_ANSWER_MS, this.options.browser.groupMembers(id), 'consumer group').then(
      (g) => ({ id, state: g.state, members: g.members, error: null, atMs: nowMs }),
      (err: unknown) => ({
        id,
        state: 'unknown',
        members: [],
        error: err instanceof Error ? err.message : String(err),
        atMs: nowMs,
      }),
    );
    return this.groupCache;
  }

  private async build(): Promise<DashboardStatus> {
    const { config, browser } = this.options;
    const metrics = await this.options.metrics();
    const nowMs = Date.now();
    const topics = [config.topics.clickstream, config.topics.iot];
    let kafkaError: string | null = null;
    const [offsets, brokers, group] = await Promise.all([
      within(KAFKA_ANSWER_MS, browser.topicOffsets(topics), 'log end offsets').catch((err: unknown) => {
        kafkaError = err instanceof Error ? err.message : String(err);
        return new Map<string, Array<{ partition: number; start: string; end: string }>>();
      }),
      within(KAFKA_ANSWER_MS, browser.brokers(), 'cluster metadata').catch((err: unknown) => {
        kafkaError = err instanceof Error ? err.message : String(err);
        return null;
      }),
      this.consumerGroup(nowMs),
    ]);

    const partitions: PartitionRow[] = [];
    const lagReads: Array<Promise<void>> = [];
    for (const topic of topics) {
      const ingest = metrics.etl?.ingest.find((i) => i.topic === topic);
      const kafkaPartitions = offsets.get(topic) ?? [];
      const numbers = new Set([
        ...kafkaPartitions.map((p) => p.partition),
        ...(ingest?.partitions.map((p) => p.partition) ?? []),
      ]);
      for (const partition of [...numbers].sort((a, b) => a - b)) {
        const k = kafkaPartitions.find((p) => p.partition === partition);
        const mine = ingest?.partitions.find((p) => p.partition === partition);
        const wm =
          topic === config.topics.clickstream
            ? metrics.etl?.aggregator.partitions.find((p) => p.partition === partition)
            : undefined;
        const row: PartitionRow = {
          topic,
          partition,
          logStartOffset: k?.start ?? null,
          logEndOffset: k?.end ?? null,
          durableNextOffset: mine?.durableNextOffset ?? null,
          lagEvents: null,
          lagExact: false,
          lagSeconds: null,
          watermarkMs: wm?.watermarkMs ?? null,
          assigned: mine !== undefined,
          paused: mine?.paused ?? false,
          validEvents: mine?.valid ?? 0,
          rejectedEvents: Object.values(mine?.rejected ?? {}).reduce((a, b) => a + (b ?? 0), 0),
        };
        if (k && row.durableNextOffset !== null)
          lagReads.push(this.measureLag(row, BigInt(row.durableNextOffset), BigInt(k.start), BigInt(k.end), nowMs));
        partitions.push(row);
      }
    }

    await Promise.all(lagReads);
    const etl = metrics.etl;
    const checkpoint = etl
      ? {
          total: etl.checkpoints,
          lastAtMs: etl.lastCheckpoint?.atMs ?? null,
          lastDurationMs: etl.lastCheckpoint?.durationMs ?? null,
        }
      : null;
    const restartTimesMs = this.options.restartTimesMs();
    const rssBytes = process.memoryUsage.rss();
    const sample = this.sample(metrics, partitions, nowMs, rssBytes);
    const warnings = pipelineWarnings({
      nowMs,
      etlRunning: etl !== undefined,
      partitions,
      lagHistory: this.ring.toArray(),
      lastCheckpointAtMs: checkpoint?.lastAtMs ?? this.options.etlStartedAtMs(),
      checkpointStaleAfterMs: Math.max(
        60_000,
        3 * config.etl.checkpoint_interval,
        config.etl.max_file_age + config.etl.checkpoint_interval,
      ),
      brokers,
      kafkaError,
      restartTimesMs,
    });
    this.ring.push(sample);
    return {
      ...metrics,
      timeMs: nowMs,
      actors: this.options.actorTree(),
      partitions,
      lake: await this.lakeTables(nowMs),
      checkpoint,
      brokers,
      kafkaError,
      group,
      restartsLastHour: restartTimesMs.filter((t) => nowMs - t < 3_600_000).length,
      rssBytes,
      warnings,
    };
  }

  private async measureLag(
    row: PartitionRow,
    durableNext: bigint,
    start: bigint,
    end: bigint,
    nowMs: number,
  ): Promise<void> {
    const from = durableNext < start ? start : durableNext;
    const offsetLag = end > from ? end - from : 0n;
    row.lagEvents = Number(offsetLag);
    row.lagSeconds = 0;
    if (offsetLag === 0n) {
      row.lagExact = true;
      return;
    }
    const exact = offsetLag <= BigInt(EXACT_LAG_MAX);
    try {
      const records = await within(
        KAFKA_ANSWER_MS,
        this.options.browser.recordsFrom(row.topic, row.partition, from, end, exact ? EXACT_LAG_MAX : 1),
        'lag records',
      );
      if (exact) {
        row.lagEvents = records.length;
        row.lagExact = true;
      }
      const oldest = records[0];
      row.lagSeconds = oldest ? Math.max(0, (nowMs - oldest.timestampMs) / 1000) : 0;
    } catch (err) {
      row.lagSeconds = null;
      this.options.logger.debug({ err, topic: row.topic, partition: row.partition }, 'lag records not readable');
    }
  }

  private sample(metrics: PlatformMetrics, partitions: PartitionRow[], nowMs: number, rssBytes: number): HistorySample {
    const produced: Record<string, number> = {};
    for (const s of metrics.producer?.streams ?? []) produced[s.stream] = s.total;
    const rows: Record<string, number> = {};
    const tableOf = (topic: string): string =>
      topic === this.options.config.topics.clickstream ? 'clickstream' : 'iot';
    for (const i of metrics.etl?.ingest ?? []) {
      for (const p of i.partitions) {
        rows[tableOf(i.topic)] = (rows[tableOf(i.topic)] ?? 0) + p.valid;
        rows._rejected = (rows._rejected ?? 0) + Object.values(p.rejected).reduce((a, b) => a + (b ?? 0), 0);
      }
    }
    if (metrics.etl) rows.clickstream_agg = metrics.etl.aggregator.rowsEmittedTotal;
    const rate = (
      now: Record<string, number>,
      before: Record<string, number> | undefined,
      dtS: number,
    ): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(now))
        out[k] = before && dtS > 0 && before[k] !== undefined ? Math.max(0, (v - before[k]!) / dtS) : 0;
      return out;
    };
    const dtS = this.previous ? (nowMs - this.previous.tMs) / 1000 : 0;
    const sample: HistorySample = {
      tMs: nowMs,
      producedPerSecond: rate(produced, this.previous?.produced, dtS),
      lakeRowsPerSecond: rate(rows, this.previous?.rows, dtS),
      lagByTopic: {},
      watermarkLagSeconds: metrics.etl?.aggregator.watermarkLagSeconds ?? null,
      rssBytes,
    };
    for (const p of partitions)
      if (p.lagEvents !== null) sample.lagByTopic[p.topic] = (sample.lagByTopic[p.topic] ?? 0) + p.lagEvents;
    this.previous = { tMs: nowMs, produced, rows };
    return sample;
  }
}
