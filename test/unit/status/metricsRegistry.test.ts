import { describe, expect, it } from 'vitest';
import type { EtlMetrics, PlatformMetrics } from '../../../src/platform/platformMetrics.js';
import { createMetricsRegistry } from '../../../src/status/metricsRegistry.js';
import type { RepartitionPurgeTotals } from '../../../src/windows/repartitionPurgeTotals.js';
import type { CompactionTotals } from '../../../src/lake/compactionTotals.js';
import type { ExpiryTotals } from '../../../src/lake/expiryTotals.js';

function etlMetrics(
  repartitionPurge: RepartitionPurgeTotals,
  expired: ExpiryTotals = { tables: [], failures: 0 },
  compaction: CompactionTotals = { tables: [] },
): EtlMetrics {
  return {
    ingest: [],
    aggregator: {
      lateEventsTotal: 0,
      windowsOpen: 0,
      watermarkLagSeconds: null,
      globalWatermarkMs: null,
      partitions: [],
      windowsEmittedTotal: 0,
      rowsEmittedTotal: 0,
      checkpoints: 0,
    },
    rejectedTotal: {},
    checkpoints: 0,
    progress: [],
    lastCheckpointMs: null,
    offsetsSkipped: [],
    leanDecoderFallbacks: 0,
    encoderThreads: 0,
    repartitionPurge,
    expired,
    compaction,
  };
}

async function scrape(metrics: PlatformMetrics, prefix = 'sdp_repartition_'): Promise<string[]> {
  const registry = createMetricsRegistry(async () => metrics);
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));
}

const base = { etlRestarts: 0, pid: 1, startedAtMs: 0 };

describe('/metrics: the purge of the repartition topic', () => {
  it('shows purges done and failed, and the offset each partition was purged up to', async () => {
    const lines = await scrape({
      ...base,
      etl: etlMetrics({
        done: 7,
        failed: 2,
        purgedTo: [
          { partition: 0, offset: 1_200 },
          { partition: 3, offset: 45 },
        ],
      }),
    });
    expect(lines.sort()).toEqual(
      [
        'sdp_repartition_purged_offset{partition="0"} 1200',
        'sdp_repartition_purged_offset{partition="3"} 45',
        'sdp_repartition_purges_total{outcome="done"} 7',
        'sdp_repartition_purges_total{outcome="failed"} 2',
      ].sort(),
    );
  });

  it('shows both outcomes at 0 before any purge (windows in one process), and nothing without an ETL', async () => {
    expect((await scrape({ ...base, etl: etlMetrics({ done: 0, failed: 0, purgedTo: [] }) })).sort()).toEqual([
      'sdp_repartition_purges_total{outcome="done"} 0',
      'sdp_repartition_purges_total{outcome="failed"} 0',
    ]);
    expect(await scrape(base)).toEqual([]);
  });
});

describe('/metrics: retention inside the ETL', () => {
  it('shows the files and bytes expired per table and the failed rounds', async () => {
    const etl = etlMetrics(
      { done: 0, failed: 0, purgedTo: [] },
      {
        tables: [
          { table: 'clickstream', files: 12, bytes: 3_400 },
          { table: 'iot', files: 3, bytes: 900 },
        ],
        failures: 1,
      },
    );
    expect((await scrape({ ...base, etl }, 'sdp_lake_expir')).sort()).toEqual(
      [
        'sdp_lake_expired_bytes_total{table="clickstream"} 3400',
        'sdp_lake_expired_bytes_total{table="iot"} 900',
        'sdp_lake_expired_files_total{table="clickstream"} 12',
        'sdp_lake_expired_files_total{table="iot"} 3',
        'sdp_lake_expiry_failures_total 1',
      ].sort(),
    );
  });
});

describe('/metrics: compaction inside the ETL', () => {
  it('shows the merges per table and outcome, and the files and bytes merged away', async () => {
    const etl = etlMetrics({ done: 0, failed: 0, purgedTo: [] }, undefined, {
      tables: [
        { table: 'clickstream', merges: { stale: 1, swapped: 3 }, files: 40, bytes: 4_000_000 },
        { table: 'clickstream_agg', merges: { swapped: 2 }, files: 120, bytes: 96_000 },
      ],
    });
    expect((await scrape({ ...base, etl }, 'sdp_lake_compact')).sort()).toEqual(
      [
        'sdp_lake_compacted_bytes_total{table="clickstream"} 4000000',
        'sdp_lake_compacted_bytes_total{table="clickstream_agg"} 96000',
        'sdp_lake_compacted_files_total{table="clickstream"} 40',
        'sdp_lake_compacted_files_total{table="clickstream_agg"} 120',
        'sdp_lake_compactions_total{table="clickstream",outcome="stale"} 1',
        'sdp_lake_compactions_total{table="clickstream",outcome="swapped"} 3',
        'sdp_lake_compactions_total{table="clickstream_agg",outcome="swapped"} 2',
      ].sort(),
    );
  });
});
