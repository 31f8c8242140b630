/**
 * One event-time window: the half-open interval `[startMs, endMs)` in epoch milliseconds.
 * An event at `startMs` belongs to it; an event at `endMs` belongs to the next window.
 */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export function createTimeWindow(startMs: number, endMs: number): TimeWindow {
  return { startMs, endMs };
}

/** `startMs <= eventTimeMs < endMs`. */
export function isInWindow(window: TimeWindow, eventTimeMs: number): boolean {
  return eventTimeMs >= window.startMs && eventTimeMs < window.endMs;
}
