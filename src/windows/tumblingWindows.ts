import { ErrorCodes, SdpError } from '../errors.js';
import { createTimeWindow, type TimeWindow } from './timeWindow.js';

/**
 * The start of the tumbling window of `sizeMs` that holds `eventTimeMs`. Windows are aligned to
 * the epoch, so every process (and every restart) cuts the same windows:
 * `Math.floor(eventTimeMs / sizeMs) * sizeMs`. Negative event times round down too.
 */
export function windowStartMs(eventTimeMs: number, sizeMs: number): number {
  return Math.floor(eventTimeMs / sizeMs) * sizeMs;
}

/**
 * The specification of tumbling event-time windows (Kafka Streams' `TimeWindows`, without grace:
 * lateness is the watermark's business): contiguous, non-overlapping, half-open windows
 * `[startMs, startMs + sizeMs)` aligned to the epoch. One window is a {@link TimeWindow}.
 *
 * @throws SdpError(WINDOW_INVALID_INPUT) if `sizeMs` is not a positive safe integer.
 */
export class TumblingWindows {
  readonly sizeMs: number;

  constructor(sizeMs: number) {
    if (!Number.isSafeInteger(sizeMs) || sizeMs <= 0) {
      throw new SdpError(
        ErrorCodes.WINDOW_INVALID_INPUT,
        `window sizeMs must be a positive integer, got ${String(sizeMs)}`,
      );
    }
    this.sizeMs = sizeMs;
  }

  windowStartMs(eventTimeMs: number): number {
    return windowStartMs(eventTimeMs, this.sizeMs);
  }

  /** The window that holds `eventTimeMs`. */
  windowFor(eventTimeMs: number): TimeWindow {
    const startMs = this.windowStartMs(eventTimeMs);
    return createTimeWindow(startMs, startMs + this.sizeMs);
  }

  /** True if `startMs` is the start of one of these windows. */
  isWindowStart(startMs: number): boolean {
    return Number.isFinite(startMs) && windowStartMs(startMs, this.sizeMs) === startMs;
  }

  windowEndMs(startMs: number): number {
    return startMs + this.sizeMs;
  }
}
