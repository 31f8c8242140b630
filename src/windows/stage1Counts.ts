import { ErrorCodes, SdpError } from '../errors.js';
import type { PageViewBatch } from './pageViewBatch.js';
import {
  encodeRepartitionRecord,
  repartitionOfUrl,
  type RepartitionMessage,
  type WindowCounts,
} from './repartitionRecords.js';
import { windowStartMs } from './tumblingWindows.js';

export interface Stage1Options {
  /** Tumbling window size (60_000: one-minute windows). */
  readonly sizeMs: number;
  /**
   * The partition's `win` floor from its last commit: records at or below it were counted (and sent to stage 2) by
   * a previous owner. null: none ever were.
   */
  readonly winFloor: string | null;
  /**
   * Max event time the partition's previous owner had seen, if the commit carried it: a new owner's first marks then
   * do not hold the watermark back below where it was. -Infinity (default): only what this owner reads counts.
   */
  readonly maxEventTimeMs?: number;
}

/**
 * What the partition actor already computes per fetched batch (`aggregateColumns`): on-time counts per (window, url)
 * of the batch's records above the floor, the offset of its last record, its max event time.
 */
export type Stage1Batch = Pick<PageViewBatch, 'lastOffset' | 'maxEventTimeMs' | 'counts' | 'lateCount'>;

/** What the caller knows at a commit; stage 1 decides nothing of it, so it stays pure. */
export interface Stage1Facts {
  /** The partition's watermark: max event time − `etl.watermark_delay`; -Infinity before any event. */
  readonly watermarkMs: number;
  /** Caught up, not paused, and no event for `etl.idle_timeout` (architecture.md, "Event time"). */
  readonly idle: boolean;
  /** Clickstream partitions the caller sees (stage 2 waits for a mark of each). */
  readonly partitionCount: number;
  /** Partitions of the repartition topic (R). */
  readonly repartitions: number;
  readonly sourcePartition: number;
  /** The first commit of this owner: the records say so (repartitionRecords.ts, `tk`). Absent: false. */
  readonly takeover?: boolean;
  /**
   * Offset of the last clickstream record read (at least every batch added; records without page views count too):
   * the new `win` floor. At or below the floor (a new owner re-reading what its predecessor counted), or null
   * (nothing read yet), the floor stays.
   */
  readonly lastOffset: string | null;
}

export interface Stage1Drain {
  /** One per repartition partition, in partition order, each with its mark. */
  readonly records: RepartitionMessage[];
  /** The floor to commit with these records (in the commit's metadata). */
  readonly win: string | null;
}

const offsetPattern = /^(0|[1-9]\d*)$/;

/**
 * Stage 1 of the page-view windows, one per clickstream partition (architecture.md, "Event time"): sums the counts of
 * the batches read since the last commit, then at the commit ({@link drain}) routes them by url to the repartition
 * partitions, each with the partition's mark. Pure: no Kafka, no clock; the caller passes every fact in.
 *
 * - A batch whose last offset is at or below the floor (the committed `win`, or a batch already added) is skipped:
 *   its records were counted already. A batch straddling the floor must come cut at it, as the partition actor
 *   already cuts its batches at the aggregator's offset (only the records above the floor counted).
 * - Lateness is stage 2's alone (it judges per window): batches must be aggregated with no known watermark
 *   (-Infinity), so `lateCount` is 0; a late count here would lose its window.
 * - Deterministic: records by partition; windows ascending, urls ascending inside each.
 */
export class Stage1Counts {
  readonly sizeMs: number;
  private floor: bigint | null;
  /** Highest last offset added since the floor; null if none. */
  private added: bigint | null = null;
  /** window start -> url -> page views since the last drain. */
  private readonly open = new Map<number, Map<string, number>>();
  private maxEventMs: number;

  constructor(options: Stage1Options) {
    if (!Number.isSafeInteger(options.sizeMs) || options.sizeMs <= 0)
      throw invalidInput(`window sizeMs must be a positive integer, got ${String(options.sizeMs)}`);
    if (options.winFloor !== null && !offsetPattern.test(String(options.winFloor)))
      throw invalidInput(`win floor must be a decimal offset or null, got ${String(options.winFloor)}`);
    const maxEventMs = options.maxEventTimeMs ?? -Infinity;
    if (typeof maxEventMs !== 'number' || Number.isNaN(maxEventMs) || maxEventMs === Infinity)
      throw invalidInput(`maxEventTimeMs ${String(maxEventMs)}`);
    this.sizeMs = options.sizeMs;
    this.floor = options.winFloor === null ? null : BigInt(options.winFloor);
    this.maxEventMs = maxEventMs;
  }

  /** The floor as of the last drain (or the constructor): the last record accounted for. */
  get winFloor(): string | null {
    return this.floor?.toString() ?? null;
  }

  /** Max event time of every batch offered, skipped ones included (they are the partition's events all the same). */
  get maxEventTimeMs(): number {
    return this.maxEventMs;
  }

  /** (window, url) pairs waiting for the next drain. */
  get pendingEntries(): number {
    let n = 0;
    for (const byUrl of this.open.values()) n += byUrl.size;
    return n;
  }

  /**
   * Adds one batch's counts. Atomic: the batch is checked first.
   * @returns false if the batch was at or below the floor and skipped.
   * @throws SdpError(WINDOW_INVALID_INPUT) on a malformed batch or a late count (a bug in the caller).
   */
  add(batch: Stage1Batch): boolean {
    const lastOffset = this.checkBatch(batch);
    if (batch.maxEventTimeMs > this.maxEventMs) this.maxEventMs = batch.maxEventTimeMs;
    const highest = this.added ?? this.floor;
    if (highest !== null && lastOffset <= highest) return false;
    for (const { windowStartMs: startMs, url, count } of batch.counts) {
      if (count === 0) continue;
      let byUrl = this.open.get(startMs);
      if (byUrl === undefined) {
        byUrl = new Map();
        this.open.set(startMs, byUrl);
      }
      byUrl.set(url, (byUrl.get(url) ?? 0) + count);
    }
    this.added = lastOffset;
    return true;
  }

  /**
   * The records of a commit: for every repartition partition r (0..R−1) one record with the counts of the urls
   * routed to r (maybe none) and the mark; then the counts start again from zero and the floor moves to
   * `facts.lastOffset`. Atomic: a throw changes nothing.
   * @throws SdpError(WINDOW_INVALID_INPUT) on facts out of range, or a `lastOffset` below a batch added (committing
   *   it would make a new owner count that batch's records again).
   */
  drain(facts: Stage1Facts): Stage1Drain {
    const win = this.checkFacts(facts);
    const R = facts.repartitions;
    const windowsOf: WindowCounts[][] = Array.from({ length: R }, () => []);
    const routeOf = new Map<string, number>();
    for (const startMs of [...this.open.keys()].sort((a, b) => a - b)) {
      const byUrl = this.open.get(startMs)!;
      const countsOf: Array<Array<{ url: string; count: number }>> = Array.from({ length: R }, () => []);
      for (const url of [...byUrl.keys()].sort()) {
        let r = routeOf.get(url);
        if (r === undefined) routeOf.set(url, (r = repartitionOfUrl(url, R)));
        countsOf[r]!.push({ url, count: byUrl.get(url)! });
      }
      for (let r = 0; r < R; r++) if (countsOf[r]!.length > 0) windowsOf[r]!.push({ startMs, counts: countsOf[r]! });
    }
    const throughOffset = win?.toString() ?? null;
    const records = windowsOf.map((windows, partition) =>
      encodeRepartitionRecord({
        sourcePartition: facts.sourcePartition,
        sourcePartitions: facts.partitionCount,
        partition,
        partitions: R,
        windowSizeMs: this.sizeMs,
        throughOffset,
        watermarkMs: facts.watermarkMs,
        idle: facts.idle,
        ...(facts.takeover === true ? { takeover: true } : {}),
        windows,
      }),
    );
    this.open.clear();
    this.added = null;
    this.floor = win;
    return { records, win: throughOffset };
  }

  private checkBatch(batch: Stage1Batch): bigint {
    const problems: string[] = [];
    if (typeof batch.lastOffset !== 'string' || !offsetPattern.test(batch.lastOffset))
      problems.push(`lastOffset ${String(batch.lastOffset)}`);
    const maxMs = batch.maxEventTimeMs;
    if (typeof maxMs !== 'number' || Number.isNaN(maxMs) || maxMs === Infinity)
      problems.push(`maxEventTimeMs ${maxMs}`);
    if (batch.lateCount !== 0)
      problems.push(
        `lateCount ${String(batch.lateCount)}: aggregate with no known watermark (-Infinity); stage 2 judges lateness`,
      );
    for (const c of batch.counts) {
      if (!(Number.isFinite(c.windowStartMs) && windowStartMs(c.windowStartMs, this.sizeMs) === c.windowStartMs))
        problems.push(`windowStartMs ${String(c.windowStartMs)} is not a window start`);
      if (typeof c.url !== 'string') problems.push(`url ${String(c.url)}`);
      if (!Number.isSafeInteger(c.count) || c.count < 0) problems.push(`count ${String(c.count)} for ${String(c.url)}`);
    }
    if (problems.length > 0) throw invalidInput('invalid page-view batch for stage 1', problems);
    return BigInt(batch.lastOffset);
  }

  /** The new floor, once the facts are checked. */
  private checkFacts(facts: Stage1Facts): bigint | null {
    const problems: string[] = [];
    const { sourcePartition, partitionCount, repartitions, watermarkMs, lastOffset } = facts;
    if (!Number.isSafeInteger(partitionCount) || partitionCount <= 0) problems.push(`partitionCount ${partitionCount}`);
    if (!Number.isSafeInteger(sourcePartition) || sourcePartition < 0 || sourcePartition >= partitionCount)
      problems.push(`sourcePartition ${sourcePartition} of ${partitionCount}`);
    if (!Number.isSafeInteger(repartitions) || repartitions <= 0) problems.push(`repartitions ${repartitions}`);
    if (typeof watermarkMs !== 'number' || Number.isNaN(watermarkMs) || watermarkMs === Infinity)
      problems.push(`watermarkMs ${watermarkMs}`);
    if (typeof facts.idle !== 'boolean') problems.push(`idle ${String(facts.idle)}`);
    let win = this.floor;
    if (lastOffset !== null) {
      if (typeof lastOffset !== 'string' || !offsetPattern.test(lastOffset)) problems.push(`lastOffset ${lastOffset}`);
      else {
        const read = BigInt(lastOffset);
        if (this.added !== null && read < this.added)
          problems.push(`lastOffset ${lastOffset} is below a batch added (${this.added})`);
        if (this.floor === null || read > this.floor) win = read;
      }
    } else if (this.added !== null) problems.push(`lastOffset null after a batch up to ${this.added}`);
    if (problems.length > 0) throw invalidInput('invalid facts for a stage 1 drain', problems);
    return win;
  }
}

function invalidInput(message: string, details: readonly string[] = []): SdpError {
  return new SdpError(ErrorCodes.WINDOW_INVALID_INPUT, message, details);
}
