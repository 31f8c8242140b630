import { aggregateBatch } from '../../../src/windows/aggregateBatch.js';
import type { PageViewBatch } from '../../../src/windows/pageViewBatch.js';
import type { EmittedWindow, PageViewWindowsOptions } from '../../../src/windows/pageViewWindows.js';

export const SIZE_MS = 60_000;
export const DELAY_MS = 10_000;
export const IDLE_MS = 30_000;
export const OPTIONS: PageViewWindowsOptions = { sizeMs: SIZE_MS, watermarkDelayMs: DELAY_MS, idleTimeoutMs: IDLE_MS };

/** An epoch-aligned minute (2023-11-14T22:14:00Z), so `M + k * SIZE_MS` are window starts. */
export const M = 1_700_000_040_000;

export interface BatchSpec {
  /** [eventTimeMs, url] */
  events: ReadonlyArray<readonly [number, string]>;
  /** Global watermark known by the partition actor; -Infinity by default. */
  knownWatermarkMs?: number;
  caughtUp?: boolean;
}

/** Builds a batch the way the partition actor does: through aggregateBatch. */
export function makeBatch(partition: number, lastOffset: number | string, spec: BatchSpec): PageViewBatch {
  const aggregated = aggregateBatch(
    spec.events.map(([eventTimeMs, url]) => ({ eventTimeMs, url })),
    spec.knownWatermarkMs ?? -Infinity,
    SIZE_MS,
  );
  return { partition, lastOffset: String(lastOffset), caughtUp: spec.caughtUp ?? false, ...aggregated };
}

/** Emissions flattened to comparable tuples: [minuteStartMs, url, pv]. */
export function rowsOf(windows: readonly EmittedWindow[]): Array<[number, string, number]> {
  return windows.flatMap((w) => w.rows.map((r): [number, string, number] => [r.minuteStartMs, r.url, r.pv]));
}
