/**
 * The one rule for lateness (architecture.md, event time; Flink's rule): an event is late if and
 * only if its window was already emitted, i.e. the window's end ≤ the watermark it is judged
 * against. An event behind the watermark whose window is still open is on time and counted.
 *
 * Every path uses it: the partition actor's pre-aggregation (against the last global watermark it
 * heard of, which may lag but is never ahead of the aggregator's) and the aggregator itself
 * (against its global watermark and its emitted frontier), the first batch after a restart included.
 */
import { windowStartMs } from './tumblingWindows.js';

/** A window `[start, windowEndMs)` is closed (emitted, never to change) once its end ≤ the watermark. */
export function isWindowClosed(windowEndMs: number, watermarkMs: number): boolean {
  return windowEndMs <= watermarkMs;
}

/** True iff the tumbling window of `sizeMs` holding `eventTimeMs` is closed at `watermarkMs`. */
export function isLateEvent(eventTimeMs: number, watermarkMs: number, sizeMs: number): boolean {
  return isWindowClosed(windowStartMs(eventTimeMs, sizeMs) + sizeMs, watermarkMs);
}
