import { describe, expect, it } from 'vitest';
import type { WindowStageMetrics } from '../../../src/actors/windowStage.js';
import { stageMetricsAsAggregator } from '../../../src/platform/stageMetricsAsAggregator.js';
import type { PartitionWatermarkStatus } from '../../../src/windows/watermarks.js';

const T0 = Date.UTC(2026, 11, 6, 10, 0, 0);

function stage(sourceWatermarks: Array<[number, number]>): WindowStageMetrics {
  return {
    partitions: 2,
    tasks: [],
    lateEventsTotal: 3,
    windowsOpen: 1,
    sourceWatermarks: new Map(sourceWatermarks),
    globalWatermarkMs: T0,
    watermarkLagSeconds: 5,
    rowsEmittedTotal: 10,
    windowsEmittedTotal: 4,
    commits: 7,
    commitsRefused: 0,
    takeovers: 2,
    failedTasks: 0,
  };
}

const owned = (partition: number, watermarkMs: number | null): PartitionWatermarkStatus => ({
  partition,
  assigned: true,
  watermarkMs,
  idle: false,
  paused: false,
  caughtUp: true,
});

describe('the window stages metrics as the one-process aggregator has them', () => {
  it('a partition whose stage 1 has read nothing new since its takeover shows the watermark its marks told stage 2', () => {
    const m = stageMetricsAsAggregator(
      stage([
        [0, T0 + 5_000],
        [1, T0 + 9_000],
        [2, T0],
      ]),
      [owned(0, T0 + 7_000), owned(1, null), owned(2, T0 - 1_000), owned(3, null)],
    );
    expect(m.partitions.map((p) => [p.partition, p.watermarkMs])).toEqual([
      [0, T0 + 7_000], // read past what stage 2 knew
      [1, T0 + 9_000], // nothing read since the takeover
      [2, T0], // re-read older events: the watermark does not go back
      [3, null], // never heard of
    ]);
    expect(m).toMatchObject({ lateEventsTotal: 3, windowsOpen: 1, globalWatermarkMs: T0, checkpoints: 7 });
  });
});
