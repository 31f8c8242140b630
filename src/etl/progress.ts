/**
 * How far behind the ETL is (architecture.md, "Services and operating"): lag per topic from the
 * log end offsets, and an estimate of the time to catch up from how fast the lag shrinks. Pure:
 * the ingest actors and the ETL's metrics line call it.
 */

/** Records left to read, summed over the partitions that have a position and an end offset. */
export function topicLag(positions: ReadonlyMap<number, string>, endOffsets: ReadonlyMap<number, string>): number {
  let lag = 0n;
  for (const [partition, position] of positions) {
    const end = endOffsets.get(partition);
    if (end === undefined) continue;
    const behind = BigInt(end) - BigInt(position);
    if (behind > 0n) lag += behind;
  }
  return Number(lag);
}

export interface ProgressSample {
  atMs: number;
  /** Events processed (valid + rejected) since the ETL started. */
  processed: number;
  /** Null until end offsets are known. */
  lag: number | null;
}

export interface TopicProgress {
  topic: string;
  /** Events processed per second since the previous sample. */
  eventsPerSecond: number;
  lag: number | null;
  /**
   * Seconds until the lag is gone at the rate it shrank since the previous sample; 0 when caught
   * up, null when the lag is not shrinking (or unknown).
   */
  catchUpSeconds: number | null;
}

export function topicProgress(
  topic: string,
  previous: ProgressSample | undefined,
  current: ProgressSample,
): TopicProgress {
  const seconds = previous ? (current.atMs - previous.atMs) / 1000 : 0;
  const eventsPerSecond = previous && seconds > 0 ? Math.max(0, current.processed - previous.processed) / seconds : 0;
  let catchUpSeconds: number | null = null;
  if (current.lag === 0) catchUpSeconds = 0;
  else if (current.lag !== null && previous?.lag !== null && previous !== undefined && seconds > 0) {
    const shrinkPerSecond = (previous.lag! - current.lag) / seconds;
    if (shrinkPerSecond > 0) catchUpSeconds = current.lag / shrinkPerSecond;
  }
  return {
    topic,
    eventsPerSecond: Math.round(eventsPerSecond * 10) / 10,
    lag: current.lag,
    catchUpSeconds: catchUpSeconds === null ? null : Math.round(catchUpSeconds),
  };
}
