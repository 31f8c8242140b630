import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import type { SealPassResult } from '../../../src/lake/sealer.js';
import type { PlatformMetrics } from '../../../src/platform/platformMetrics.js';
import { startSealTimer } from '../../../src/platform/sealTimer.js';
import { createMetricsRegistry } from '../../../src/status/metricsRegistry.js';
import { silentLogger } from '../actors/fakes/testKit.js';

afterEach(() => {
  vi.useRealTimers();
});

const result: SealPassResult = {
  watermarkBoundMs: Date.parse('2026-12-05T02:00:00Z'),
  decisions: [],
  tables: [
    {
      table: 'clickstream',
      dt: '2026-12-04',
      action: 'replaced',
      rows: 13,
      files: 2,
      lateRows: 3,
      lateRowsAdded: 3,
      revision: 2,
    },
    {
      table: 'iot',
      dt: '2026-12-04',
      action: 'unchanged',
      rows: 5,
      files: 1,
      lateRows: 0,
      lateRowsAdded: 0,
      revision: 1,
    },
  ],
};

describe('the sealer inside the ETL', () => {
  it('runs a first pass soon, then one an interval after each ended; a failure is counted and logged, never thrown', async () => {
    vi.useFakeTimers();
    const config = parseConfig('', 'x.yml', {}).config;
    let calls = 0;
    let release: () => void = () => undefined;
    const pass = vi.fn(async (): Promise<SealPassResult> => {
      calls += 1;
      if (calls === 1) throw new Error('disk gone');
      if (calls === 2) await new Promise<void>((r) => (release = r));
      return result;
    });
    const timer = startSealTimer(config, silentLogger, pass, 1_000, 200);
    expect(timer.status()).toMatchObject({ lastPassMs: null, failures: 0, manifests: [] });
    await vi.advanceTimersByTimeAsync(199);
    expect(pass).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(timer.status().failures).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000); // the second pass starts and hangs
    await vi.advanceTimersByTimeAsync(5_000); // no pass beside it
    expect(pass).toHaveBeenCalledTimes(2);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(timer.status()).toMatchObject({
      failures: 1,
      watermarkBoundMs: result.watermarkBoundMs,
      manifests: [
        { table: 'clickstream', dt: '2026-12-04', rows: 13, lateRows: 3, revision: 2 },
        { table: 'iot', dt: '2026-12-04', rows: 5, lateRows: 0, revision: 1 },
      ],
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(pass).toHaveBeenCalledTimes(3);
    timer.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(pass).toHaveBeenCalledTimes(3);
  });

  it('shows late rows per table and dt on /metrics under stable names', async () => {
    const metrics: PlatformMetrics = {
      etlRestarts: 0,
      pid: 1,
      startedAtMs: 0,
      etl: {
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
        encoderThreads: 1,
        repartitionPurge: { done: 0, failed: 0, purgedTo: [] },
        expired: { tables: [], failures: 0 },
        compaction: { tables: [] },
        sealedDays: {
          lastPassMs: 1,
          watermarkBoundMs: 1_000_000,
          failures: 0,
          manifests: [
            { table: 'clickstream', dt: '2026-12-04', rows: 13, lateRows: 3, revision: 2 },
            { table: 'iot', dt: '2026-12-04', rows: 5, lateRows: 0, revision: 1 },
          ],
        },
      },
    };
    const text = await createMetricsRegistry(async () => metrics).metrics();
    expect(text).toContain('sdp_lake_late_rows{table="clickstream",dt="2026-12-04"} 3');
    expect(text).toContain('sdp_lake_late_rows{table="iot",dt="2026-12-04"} 0');
    expect(text).toMatch(/^sdp_lake_sealed_days 1$/m);
    expect(text).toMatch(/^sdp_lake_seal_watermark_bound_seconds 1000$/m);
    expect(text).toMatch(/^sdp_lake_seal_failures_total 0$/m);
  });
});
