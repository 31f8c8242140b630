/**
 * The "one commit in flight, retry with back-off" rule shared by the lake writers and the window
 * aggregator (architecture.md, checkpoint protocol). Pure: the actors keep the timer and the
 * mailbox; this module decides how long to wait and whether a retry must commit again at all.
 *
 * A commit whose reply was lost (a timeout) may have committed after all. A retry therefore
 * first reads the checkpoint store: if the earlier attempt is there, the retry commits nothing
 * (it must not rewrite a tmp file that the committed checkpoint renames, nor journal it twice).
 */
import { backoffDelayMs } from '../system/backoff.js';
import { compareOffsets, sinkOffset, type CheckpointState, type SinkId } from './checkpointState.js';

export const COMMIT_RETRY_BASE_MS = 500;
export const MAX_COMMIT_ATTEMPTS = 6;

/**
 * The wait before the next attempt after `attempts` failed ones (500 ms, 1 s, 2 s, ...), or null
 * once `maxAttempts` have failed: the caller then fails, and supervision restarts the pipeline.
 */
export function commitRetryDelayMs(
  attempts: number,
  maxAttempts = MAX_COMMIT_ATTEMPTS,
  baseMs = COMMIT_RETRY_BASE_MS,
): number | null {
  if (!Number.isSafeInteger(attempts) || attempts < 1)
    throw new RangeError(`attempts must be an integer >= 1, got ${attempts}`);
  if (attempts >= maxAttempts) return null;
  // Bounded by maxAttempts rather than a cap: the last wait before giving up is the longest.
  return backoffDelayMs(attempts, baseMs, baseMs * 2 ** Math.max(0, maxAttempts - 2));
}

/** A retry (attempt 2 and later) must first look whether an earlier attempt committed. */
export function mustCheckEarlierAttempt(attempt: number): boolean {
  return attempt > 1;
}

/** The raw roll up to `lastOffset` of the sink's partition is committed. */
export function isRawRollCommitted(
  state: CheckpointState,
  sink: SinkId,
  partition: number,
  lastOffset: string,
): boolean {
  return compareOffsets(sinkOffset(state, sink, partition), lastOffset) >= 0;
}

/** The aggregator checkpoint `seq` of the sink (or a later one) is committed. */
export function isAggCheckpointCommitted(state: CheckpointState, sink: SinkId, seq: number): boolean {
  const committed = state.aggregators[sink];
  return committed !== undefined && committed.seq >= seq;
}
