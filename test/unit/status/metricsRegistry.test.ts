import { describe, expect, it } from 'vitest';
import type { EtlMetrics, PlatformMetrics } from '../../../src/platform/platformMetrics.js';
import { createMetricsRegistry } from '../../../src/status/metricsRegistry.js';
import type { RepartitionPurgeTotals } from '../../../src/windows/repartitionPurgeTotals.js';
import type { ExpiryTotals } from '../../../src/lake/expiryTotals.js';

function etlMetrics(
  repartitionPurge: RepartitionPurgeTotals,
  expired: ExpiryTotals = { tables: [], failures: 0 },
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
