import type { AggregatorMetrics } from '../actors/windowAggregator.js';
import type { WindowStageMetrics } from '../actors/windowStage.js';
import type { PartitionWatermarkStatus } from '../windows/watermarks.js';

/**
 * The window stages' metrics in the form the dashboard and `/metrics` read (one aggregator's, before): the windows of
 * this member's stage-2 tasks, the watermarks of the clickstream partitions it owns (stage 1). A partition's stage 1
 * starts at no watermark when it is taken over; what its marks told stage 2 before stands until it reads past it, as
 * the one-process tracker restores it from its checkpoint.
 */
export function stageMetricsAsAggregator(m: WindowStageMetrics, owned: PartitionWatermarkStatus[]): AggregatorMetrics {
  const sources = owned.map((s) => {
    const known = m.sourceWatermarks.get(s.partition);
    if (known === undefined || (s.watermarkMs !== null && s.watermarkMs >= known)) return s;
    return { ...s, watermarkMs: known };
  });
  return {
    lateEventsTotal: m.lateEventsTotal,
    windowsOpen: m.windowsOpen,
    watermarkLagSeconds: m.watermarkLagSeconds,
    globalWatermarkMs: m.globalWatermarkMs,
    partitions: sources,
    windowsEmittedTotal: m.windowsEmittedTotal,
    rowsEmittedTotal: m.rowsEmittedTotal,
    checkpoints: m.commits,
  };
}
