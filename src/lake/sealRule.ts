/**
 * When a day of the lake is complete enough to seal (architecture.md, "Sealed days"). Pure.
 *
 * A dt is sealable once the event-time watermark of every clickstream partition has passed the end of that UTC day
 * plus `lake.seal_after`, and compaction plans no merge for it. The watermark is not in the lake, but a lower bound
 * of it is: a window closes only once the minimum watermark over every clickstream partition passed its end
 * (architecture.md, "Windows across members"), and watermarks never go back, so the newest `minute_end` in
 * `clickstream_agg` is at most today's global watermark. Any process reads it from the lake alone.
 *
 * Without a bound nothing seals: an IoT-only platform writes no windows, and an empty or new lake has none yet. An
 * idle platform's bound stops where its last windows closed (every partition idle: the newest event time − delay),
 * so its last day seals only once events past that day's end plus `seal_after` arrive and their windows close.
 */

const MS_PER_DAY = 86_400_000;

/** Why a dt is not sealable (yet); undefined when it is. */
export type NotSealable = 'no_watermark_bound' | 'watermark_behind' | 'not_compacted';

export interface SealCandidate {
  dt: string;
  /** Compaction plans no merge for this dt (lake/compactionPlan.ts), over every table. */
  compacted: boolean;
}

export interface SealDecision {
  dt: string;
  sealable: boolean;
  reason?: NotSealable;
  /** The watermark the day waits for: its end plus `seal_after`, epoch ms. */
  sealableFromMs: number;
}

/** Epoch ms of the end of UTC day `dt` (YYYY-MM-DD): the next day's 00:00. */
export function dayEndMs(dt: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dt)) throw new RangeError(`expected dt as YYYY-MM-DD, got ${JSON.stringify(dt)}`);
  const start = Date.parse(`${dt}T00:00:00.000Z`);
  if (!Number.isFinite(start)) throw new RangeError(`not a day: ${dt}`);
  return start + MS_PER_DAY;
}

/**
 * Each candidate day judged against `watermarkBoundMs` (the newest `minute_end` in `clickstream_agg`, undefined when
 * there is none). The watermark comes first in the reason: a day still open in event time is not worth compacting.
 */
export function judgeSealable(
  candidates: readonly SealCandidate[],
  watermarkBoundMs: number | undefined,
  sealAfterMs: number,
): SealDecision[] {
  return candidates.map(({ dt, compacted }): SealDecision => {
    const sealableFromMs = dayEndMs(dt) + sealAfterMs;
    if (watermarkBoundMs === undefined) return { dt, sealable: false, reason: 'no_watermark_bound', sealableFromMs };
    if (watermarkBoundMs < sealableFromMs) return { dt, sealable: false, reason: 'watermark_behind', sealableFromMs };
    if (!compacted) return { dt, sealable: false, reason: 'not_compacted', sealableFromMs };
    return { dt, sealable: true, sealableFromMs };
  });
}
