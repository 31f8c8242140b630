/**
 * The end of a backlog (architecture.md, "Back-pressure and shutdown"): a partition that was at
 * least a threshold of records behind the end of its log, and has now read to the end. Its lake
 * writer rolls there and then, so a catch-up is in the lake as soon as it is read, rather than
 * `etl.max_file_idle` later (a burst that stopped) or `etl.max_file_age` later (a stream that goes
 * on at its paced rate after the catch-up).
 *
 * A partition that keeps up reads to the end at every fetch and never counts as behind, so paced
 * streams keep their large files. Each end of a backlog adds at most one roll, and a backlog is at
 * least the threshold's records, so the extra rolls are at most one per threshold records read.
 */

/** What one fetch of the partition told: did it reach the end of the log, and how far is the end. */
export interface FetchPosition {
  caughtUp: boolean;
  /** Records between the last offset read and the end of the log (0 when unknown). */
  lagRecords: number;
}

export interface BacklogStep {
  /** The partition is catching up on a backlog. */
  behind: boolean;
  /** This fetch ended a backlog: roll now. */
  ended: boolean;
}

/** Behind means at least a tenth of a file behind: a fetch's worth of lag (~1,500 events) is not a backlog. */
export function backlogThresholdRecords(maxFileRows: number): number {
  return Math.max(1, Math.floor(maxFileRows / 10));
}

export function stepBacklog(behind: boolean, fetch: FetchPosition, thresholdRecords: number): BacklogStep {
  if (fetch.caughtUp) return { behind: false, ended: behind };
  return { behind: behind || fetch.lagRecords >= thresholdRecords, ended: false };
}

/** Records after `lastOffset` up to the high watermark (kafkajs's offsetLag), exact for any int64 offsets. */
export function lagAfter(lastOffset: string, highWatermark: string): number {
  const lag = BigInt(highWatermark) - BigInt(lastOffset) - 1n;
  return lag > 0n ? Number(lag) : 0;
}
