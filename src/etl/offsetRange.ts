/**
 * The rule for a checkpointed offset that lies outside its partition's log (architecture.md,
 * "Offsets never silently jump"). Pure: the caller fetches the log's start and end offsets.
 *
 * - Before the log start (retention deleted records not yet read): `fail` stops; `earliest` reads
 *   from the log start, `latest` from the log end; either skip is counted.
 * - Beyond the log end (the topic was deleted and recreated, or truncated): always a stop. Reading
 *   the new log from an earlier offset would meet sinks whose checkpointed offsets (and lake file
 *   names) belong to the old log: records up to the old offsets would be skipped as "already
 *   written", which is the silent jump this rule exists to prevent.
 */
export type OffsetOutOfRangePolicy = 'fail' | 'earliest' | 'latest';

export interface LogRange {
  /** First offset still in the log. */
  start: string;
  /** High watermark: the offset the next record will get. */
  end: string;
}

export interface OutOfRange {
  topic: string;
  partition: number;
  /** The next offset the checkpoint says to read. */
  checkpointed: string;
  logStart: string;
  logEnd: string;
  kind: 'before-log-start' | 'beyond-log-end';
}

export type OutOfRangeDecision =
  | { action: 'fail'; reason: string }
  | { action: 'skip'; start: string; skipped: bigint };

/** What the checkpoint says of one partition: where reading resumes, and the furthest any sink got. */
export interface PartitionCheckpoint {
  /** Smallest sink offset + 1: where reading resumes. */
  next: string;
  /** Largest sink offset + 1: a log that ends below it lost records a sink holds. */
  highest: string;
}

/** Partitions whose checkpoint lies outside [log start, log end]; only partitions with a checkpoint are passed in. */
export function findOutOfRange(
  topic: string,
  checkpoints: ReadonlyMap<number, PartitionCheckpoint>,
  ranges: ReadonlyMap<number, LogRange>,
): OutOfRange[] {
  const found: OutOfRange[] = [];
  for (const [partition, checkpoint] of [...checkpoints].sort((a, b) => a[0] - b[0])) {
    const range = ranges.get(partition);
    if (!range) {
      found.push({
        topic,
        partition,
        checkpointed: checkpoint.highest,
        logStart: 'none',
        logEnd: 'none',
        kind: 'beyond-log-end',
      });
    } else if (BigInt(checkpoint.highest) > BigInt(range.end)) {
      found.push({
        topic,
        partition,
        checkpointed: checkpoint.highest,
        logStart: range.start,
        logEnd: range.end,
        kind: 'beyond-log-end',
      });
    } else if (BigInt(checkpoint.next) < BigInt(range.start)) {
      found.push({
        topic,
        partition,
        checkpointed: checkpoint.next,
        logStart: range.start,
        logEnd: range.end,
        kind: 'before-log-start',
      });
    }
  }
  return found;
}

export function describeOutOfRange(o: OutOfRange): string {
  const where =
    o.kind === 'before-log-start'
      ? 'before the log start (records deleted before they were read)'
      : 'beyond the log end (topic deleted and recreated, or truncated)';
  return `${o.topic}[${o.partition}]: checkpointed offset ${o.checkpointed} is ${where}; log start ${o.logStart}, log end ${o.logEnd}`;
}

export function decideOutOfRange(o: OutOfRange, policy: OffsetOutOfRangePolicy): OutOfRangeDecision {
  if (o.kind === 'beyond-log-end') {
    return {
      action: 'fail',
      reason: `${describeOutOfRange(o)}; the checkpoints belong to the old log: use new storage roots for the new topic (etl.on_offset_out_of_range does not apply)`,
    };
  }
  if (policy === 'fail')
    return {
      action: 'fail',
      reason: `${describeOutOfRange(o)}; set etl.on_offset_out_of_range to earliest or latest to skip the missing offsets`,
    };
  const start = policy === 'earliest' ? o.logStart : o.logEnd;
  return { action: 'skip', start, skipped: BigInt(start) - BigInt(o.checkpointed) };
}
