import { describe, expect, it } from 'vitest';
import type { EtlMetrics, PlatformMetrics } from '../../../src/platform/platformMetrics.js';
import { createMetricsRegistry } from '../../../src/status/metricsRegistry.js';
import type { RepartitionPurgeTotals } from '../../../src/windows/repartitionPurgeTotals.js';

function etlMetrics(repartitionPurge: RepartitionPurgeTotals): EtlMetrics {
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
  };
}

async function scrape(metrics: PlatformMetrics): Promise<string[]> {
  const registry = createMetricsRegistry(async () => metrics);
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith('sdp_repartition_'));
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
