/**
 * How the global watermark follows from the partitions' own (architecture.md, "Event time"), one rule
 * for the one-process tracker (`watermarks.ts`) and the second window stage (`stage2Windows.ts`).
 */

/** One input partition's say in the global watermark. */
export interface WatermarkVote {
  /** Max event time − delay; -Infinity while the partition has delivered no event (or was never heard from). */
  readonly watermarkMs: number;
  readonly idle: boolean;
}

/**
 * The global watermark after `previousMs`: the min over the partitions that are not idle; the max
 * when every partition is idle (the stream is quiet: let the last windows complete); never below
 * `previousMs` (it never goes backwards). With no partitions at all it stays `previousMs`.
 */
export function combineWatermarks(votes: Iterable<WatermarkVote>, previousMs: number): number {
  let minActiveMs = Infinity;
  let maxIdleMs = -Infinity;
  let active = 0;
  for (const { watermarkMs, idle } of votes) {
    if (idle) {
      if (watermarkMs > maxIdleMs) maxIdleMs = watermarkMs;
    } else {
      active += 1;
      if (watermarkMs < minActiveMs) minActiveMs = watermarkMs;
    }
  }
  const candidateMs = active > 0 ? minActiveMs : maxIdleMs;
  return Math.max(candidateMs, previousMs);
}
