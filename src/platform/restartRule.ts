/**
 * What the supervisor does when a component fails (architecture.md, "Supervision"): a retriable
 * failure (errors.ts, `isRetriable`: every ETL actor marks what it escalates so; a failed start
 * of the ETL is one too) restarts the ETL from
 * the last checkpoint after an exponential back-off, unless it already restarted `maxRestarts`
 * times within `windowMs`; anything else (the producer pool's failures, an unmarked crash) stops
 * the process. No name-based fallback: every ETL actor's onCrash marks what it escalates, so actor
 * names play no part. Pure: the supervisor passes the failure, its past restart times and the time.
 */
import { backoffDelayMs } from '../system/backoff.js';

export interface RestartPolicy {
  maxRestarts: number;
  windowMs: number;
  /** Back-off before the first restart, doubling with each, at most `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 5 * 60_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
};

export type RestartDecision =
  /** `restartsMs`: the restart times still in the window, this one included (what to remember). */
  | { action: 'restart'; delayMs: number; attempt: number; restartsMs: number[] }
  | { action: 'fatal'; reason: 'not-retriable' | 'too-many-restarts'; restarts: number };

export function restartDecision(
  failure: { retriable: boolean },
  pastRestartsMs: readonly number[],
  nowMs: number,
  policy: RestartPolicy = RESTART_POLICY,
): RestartDecision {
  const recent = pastRestartsMs.filter((t) => nowMs - t < policy.windowMs);
  if (!failure.retriable) return { action: 'fatal', reason: 'not-retriable', restarts: recent.length };
  if (recent.length >= policy.maxRestarts)
    return { action: 'fatal', reason: 'too-many-restarts', restarts: recent.length };
  const attempt = recent.length + 1;
  return {
    action: 'restart',
    attempt,
    delayMs: backoffDelayMs(attempt, policy.baseDelayMs, policy.maxDelayMs),
    restartsMs: [...recent, nowMs],
  };
}
