/**
 * The Prometheus view of the platform (served at /metrics). Values are pulled from the actors at
 * scrape time (`collect`), never pushed, so a slow scraper costs nothing between scrapes.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PlatformMetrics } from '../platform/platformMetrics.js';

export function createMetricsRegistry(read: () => Promise<PlatformMetrics>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sdp_process_' });

  // One read per scrape, shared by every gauge of that scrape.
  let pending: Promise<PlatformMetrics> | undefined;
  const snapshot = (): Promise<PlatformMetrics> => {
    pending ??= read().finally(() => setTimeout(() => (pending = undefined), 0));
    return pending;
  };

  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, m: PlatformMetrics) => void,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        fill(this, await snapshot());
      },
    });
  };

  gauge('sdp_producer_events_total', 'Events acknowledged by Kafka since start', ['stream'], (g, m) => {
    for (const s of m.producer?.streams ?? []) g.set({ stream: s.stream }, s.total);
  });
  gauge('sdp_producer_errors_total', 'Failed batch attempts since start (each is sent again)', ['stream'], (g, m) => {
    for (const s of m.producer?.streams ?? []) g.set({ stream: s.stream }, s.errors);
  });
  gauge(
    'sdp_producer_events_per_second',
    'Acknowledged events per second over the last metrics interval',
    ['stream'],
    (g, m) => {
      for (const s of m.producer?.streams ?? []) g.set({ stream: s.stream }, s.eventsPerSecond);
    },
  );
  gauge(
    'sdp_producer_ack_latency_ms',
    'Batch acknowledgement latency over the last metrics interval',
    ['stream', 'quantile'],
    (g, m) => {
      for (const s of m.producer?.streams ?? []) {
        if (s.ackLatencyMsP50 !== null) g.set({ stream: s.stream, quantile: '0.5' }, s.ackLatencyMsP50);
        if (s.ackLatencyMsP99 !== null) g.set({ stream: s.stream, quantile: '0.99' }, s.ackLatencyMsP99);
      }
    },
  );
  gauge('sdp_etl_valid_events_total', 'Valid events routed to the lake since start', ['topic', 'partition'], (g, m) => {
    for (const i of m.etl?.ingest ?? [])
      for (const p of i.partitions) g.set({ topic: i.topic, partition: String(p.partition) }, p.valid);
  });
  gauge('sdp_etl_rejected_events_total', 'Events sent to the _rejected table since start', ['reason'], (g, m) => {
    for (const [reason, n] of Object.entries(m.etl?.rejectedTotal ?? {})) g.set({ reason }, n ?? 0);
  });
  gauge(
    'sdp_etl_partition_paused',
    '1 while a partition is paused by back-pressure',
    ['topic', 'partition'],
    (g, m) => {
      for (const i of m.etl?.ingest ?? [])
        for (const p of i.partitions) g.set({ topic: i.topic, partition: String(p.partition) }, p.paused ? 1 : 0);
    },
  );
  gauge(
    'sdp_offsets_skipped_total',
    'Offsets skipped because the log no longer had them (etl.on_offset_out_of_range)',
    ['topic', 'partition'],
    (g, m) => {
      for (const s of m.etl?.offsetsSkipped ?? []) g.set({ topic: s.topic, partition: String(s.partition) }, s.offsets);
    },
  );
  gauge(
    'sdp_kafka_lean_decoder_fallbacks_total',
    'Record sets the lean fetch decoder left to kafkajs (offsets beyond 2^53, malformed batches): slower, never wrong',
    [],
    (g, m) => {
      if (m.etl) g.set(m.etl.leanDecoderFallbacks);
    },
  );
  // The purge of the repartition topic (architecture.md, "Windows across members"); outcome: done | failed.
  gauge(
    'sdp_repartition_purges_total',
    'DeleteRecords requests of the repartition topic by this process, by outcome (a failed one is tried again)',
    ['outcome'],
    (g, m) => {
      if (!m.etl) return;
      g.set({ outcome: 'done' }, m.etl.repartitionPurge.done);
      g.set({ outcome: 'failed' }, m.etl.repartitionPurge.failed);
    },
  );
  gauge(
    'sdp_repartition_purged_offset',
    'Log start the last purge of this process moved each repartition partition to (records below it deleted)',
    ['partition'],
    (g, m) => {
      for (const p of m.etl?.repartitionPurge.purgedTo ?? []) g.set({ partition: String(p.partition) }, p.offset);
    },
  );
  gauge(
    'sdp_checkpoints_total',
    'Checkpoints committed: to the checkpoint store, and with etl.windows members the stage-1 marks committed to Kafka',
    [],
    (g, m) => {
      if (m.etl) g.set(m.etl.checkpoints);
    },
  );
  gauge(
    'sdp_late_events_total',
    'Clickstream events older than the watermark when they arrived (excluded from windows)',
    [],
    (g, m) => {
      if (m.etl) g.set(m.etl.aggregator.lateEventsTotal);
    },
  );
  gauge('sdp_windows_open', 'Page-view windows not yet emitted', [], (g, m) => {
    if (m.etl) g.set(m.etl.aggregator.windowsOpen);
  });
  gauge('sdp_watermark_lag_seconds', 'Wall-clock time minus the global event-time watermark', [], (g, m) => {
    const lag = m.etl?.aggregator.watermarkLagSeconds;
    if (lag !== null && lag !== undefined) g.set(lag);
  });
  // assigned="false": not consumed by this process right now, yet holding the watermark back.
  gauge(
    'sdp_partition_watermark_seconds',
    'Event-time watermark of each clickstream partition (epoch seconds)',
    ['partition', 'idle', 'assigned'],
    (g, m) => {
      for (const p of m.etl?.aggregator.partitions ?? []) {
        if (p.watermarkMs !== null)
          g.set(
            { partition: String(p.partition), idle: String(p.idle), assigned: String(p.assigned) },
            p.watermarkMs / 1000,
          );
      }
    },
  );
  gauge(
    'sdp_etl_restarts_total',
    'Times the ETL was restarted from the last checkpoint after a failure',
    [],
    (g, m) => {
      g.set(m.etlRestarts);
    },
  );
  // Sealed days (architecture.md, "Sealed days"), as the ETL's last sealer pass found their manifests.
  gauge(
    'sdp_lake_sealed_days',
    'Days (dt) with a manifest in at least one table, as of the last sealer pass',
    [],
    (g, m) => {
      const sealed = m.etl?.sealedDays;
      if (sealed?.lastPassMs != null) g.set(new Set(sealed.manifests.map((x) => x.dt)).size);
    },
  );
  gauge(
    'sdp_lake_late_rows',
    'Rows that landed in a sealed day after its seal, cumulative per table and dt (the manifest late_rows)',
    ['table', 'dt'],
    (g, m) => {
      for (const x of m.etl?.sealedDays?.manifests ?? []) g.set({ table: x.table, dt: x.dt }, x.lateRows);
    },
  );
  gauge(
    'sdp_lake_seal_watermark_bound_seconds',
    'The lower bound of the windows watermark the last sealer pass read (newest minute_end in clickstream_agg)',
    [],
    (g, m) => {
      const bound = m.etl?.sealedDays?.watermarkBoundMs;
      if (bound != null) g.set(bound / 1000);
    },
  );
  // Retention inside the ETL (architecture.md, "Keeping the lake: retention"): what this process's owners deleted.
  gauge(
    'sdp_lake_expired_files_total',
    'Lake files deleted by retention inside the ETL since the process started, per table',
    ['table'],
    (g, m) => {
      for (const t of m.etl?.expired.tables ?? []) g.set({ table: t.table }, t.files);
    },
  );
  gauge(
    'sdp_lake_expired_bytes_total',
    'Bytes of lake files deleted by retention inside the ETL since the process started, per table',
    ['table'],
    (g, m) => {
      for (const t of m.etl?.expired.tables ?? []) g.set({ table: t.table }, t.bytes);
    },
  );
  gauge(
    'sdp_lake_expiry_failures_total',
    "Owners' retention rounds that failed since the process started (each is tried again at the next interval)",
    [],
    (g, m) => {
      if (m.etl) g.set(m.etl.expired.failures);
    },
  );
  // Compaction inside the ETL (architecture.md, "Compaction"): every owner's merges, raw and window units alike.
  gauge(
    'sdp_lake_compactions_total',
    "Merges of a unit's small files by its owner inside the ETL since the process started, per table and outcome",
    ['table', 'outcome'],
    (g, m) => {
      for (const t of m.etl?.compaction.tables ?? [])
        for (const [outcome, n] of Object.entries(t.merges)) g.set({ table: t.table, outcome }, n);
    },
  );
  gauge(
    'sdp_lake_compacted_files_total',
    'Files merged away by compaction inside the ETL since the process started, per table (swapped merges)',
    ['table'],
    (g, m) => {
      for (const t of m.etl?.compaction.tables ?? []) g.set({ table: t.table }, t.files);
    },
  );
  gauge(
    'sdp_lake_compacted_bytes_total',
    'Bytes of the files merged away by compaction inside the ETL since the process started, per table',
    ['table'],
    (g, m) => {
      for (const t of m.etl?.compaction.tables ?? []) g.set({ table: t.table }, t.bytes);
    },
  );
  gauge('sdp_lake_seal_failures_total', 'Sealer passes that failed since the ETL started', [], (g, m) => {
    if (m.etl?.sealedDays) g.set(m.etl.sealedDays.failures);
  });
  // area: main | producer_thread_<slot> | process (rss); kind: heap_used | heap_total | external | array_buffers | rss.
  gauge(
    'sdp_memory_bytes',
    'Memory by thread and kind (V8 heap, external, array buffers) and the process RSS',
    ['area', 'kind'],
    (g, m) => {
      if (!m.memory) return;
      g.set({ area: 'process', kind: 'rss' }, m.memory.rssBytes);
      for (const t of m.memory.threads) {
        g.set({ area: t.area, kind: 'heap_used' }, t.heapUsedBytes);
        g.set({ area: t.area, kind: 'heap_total' }, t.heapTotalBytes);
        g.set({ area: t.area, kind: 'external' }, t.externalBytes);
        g.set({ area: t.area, kind: 'array_buffers' }, t.arrayBuffersBytes);
      }
    },
  );
  return registry;
}
