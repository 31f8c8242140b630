/**
 * Exponential back-off: `baseMs` before the first retry, doubling with each attempt, never more
 * than `maxMs`. `attempt` counts from 1.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** (attempt - 1));
}
