/**
 * The window state `verify` compares the raw table with when the windows run across members (architecture.md,
 * "Windows across members" and "Verifying the lake"): not the checkpoint store, which holds none, but the latest
 * snapshot of every stage-2 task in `<group>-pv-state`, each committed with the windows it emitted. Read-only: a
 * group-less read of the compacted topic per repartition partition (kafka/stateTopicReader.ts).
 */
import type { Config } from '../config/schema.js';
import { readLatestState } from '../kafka/stateTopicReader.js';
import type { Logger } from '../log/logger.js';
import { restore, stateKey, stateTopicName } from '../windows/stage2Windows.js';

export interface StageWindowState {
  /** Late page views over every task. */
  lateEventsTotal: number;
  /** Open windows over every task (each url lives in one task). */
  openWindows: Array<{ startMs: number; counts: Array<{ url: string; count: number }> }>;
  /**
   * Per clickstream partition, the lowest and highest offset the tasks applied its page views through (every stage-1
   * commit sends a record to every task, so they agree once the tasks caught up).
   */
  through: Map<number, { min: bigint; max: bigint }>;
  /** Per repartition partition with a snapshot, the last repartition offset it applied (its records after it wait). */
  applied: Map<number, bigint>;
  /** Every window ending at or before this was emitted by every task; null while one has emitted none. */
  emittedFrontierMs: number | null;
  /** The lowest global watermark of the tasks (each keeps it from every partition's marks); null while one has none. */
  globalWatermarkMs: number | null;
  /** Tasks with a snapshot, of R. */
  snapshots: number;
  partitions: number;
}

/** The smallest of the tasks' values; null when one task has none yet. */
function lowest(values: ReadonlyArray<number | null>): number | null {
  return values.includes(null) ? null : Math.min(...(values as number[]));
}

/** undefined when no task ever committed (no snapshot at all). */
export async function readStageWindowState(
  config: Config,
  logger: Logger,
  partitions: number,
  windowSizeMs: number,
): Promise<StageWindowState | undefined> {
  const topic = stateTopicName(config.etl.consumer_group);
  const open = new Map<number, Array<{ url: string; count: number }>>();
  const through = new Map<number, { min: bigint; max: bigint }>();
  let lateEventsTotal = 0;
  let snapshots = 0;
  const applied = new Map<number, bigint>();
  const frontiers: Array<number | null> = [];
  const watermarks: Array<number | null> = [];
  const seen: Array<Set<number>> = [];
  for (let r = 0; r < partitions; r++) {
    const read = await readLatestState(config, logger, topic, r, stateKey(r));
    const known = new Set<number>();
    seen.push(known);
    if (read.value === null) continue;
    const state = restore(read.value, { partition: r, partitions, sizeMs: windowSizeMs });
    snapshots += 1;
    lateEventsTotal += state.lateEventsTotal;
    if (state.offset !== null) applied.set(r, state.offset);
    frontiers.push(Number.isFinite(state.emittedFrontierMs) ? state.emittedFrontierMs : null);
    watermarks.push(Number.isFinite(state.watermarkMs) ? state.watermarkMs : null);
    for (const [startMs, byUrl] of state.open) {
      const counts = open.get(startMs) ?? [];
      for (const [url, count] of byUrl) counts.push({ url, count });
      open.set(startMs, counts);
    }
    for (const [p, mark] of state.sources) {
      known.add(p);
      const at = mark.throughOffset ?? -1n;
      const range = through.get(p);
      through.set(
        p,
        range ? { min: at < range.min ? at : range.min, max: at > range.max ? at : range.max } : { min: at, max: at },
      );
    }
  }
  if (snapshots === 0) return undefined;
  // A task that never heard of a partition holds none of it: the tasks disagree about that partition.
  for (const [p, range] of through) if (seen.some((known) => !known.has(p))) through.set(p, { ...range, min: -1n });
  return {
    lateEventsTotal,
    openWindows: [...open].map(([startMs, counts]) => ({ startMs, counts })),
    through,
    applied,
    emittedFrontierMs: lowest(frontiers),
    globalWatermarkMs: lowest(watermarks),
    snapshots,
    partitions,
  };
}
