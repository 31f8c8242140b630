/**
 * Exponential back-off: the wait before retry number `attempt` (1 for the first retry) doubles from
 * `baseMs` and stops growing at `maxMs`. One formula for every retry loop of the platform, so that
 * they all wait alike and a cap is never forgotten.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1)
    throw new RangeError(`attempt must be an integer >= 1, got ${attempt}`);
  if (!Number.isFinite(baseMs) || baseMs < 0)
    throw new RangeError(`baseMs must be a finite number >= 0, got ${baseMs}`);
  // Finite: a wait of Infinity (or above 2^31 - 1 ms) makes setTimeout fire at once.
  if (!Number.isFinite(maxMs) || maxMs < 0) throw new RangeError(`maxMs must be a finite number >= 0, got ${maxMs}`);
  // 2 ** 1024 is Infinity, and 0 * Infinity is NaN: the exponent stops where the cap has long been reached.
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 1023));
}
