/**
 * The message a clickstream partition actor sends to the window aggregator for one fetched batch
 * of ONE partition. Events are pre-aggregated (see `aggregateBatch`): the aggregator never sees
 * individual events.
 */
export interface PageViewBatch {
  readonly partition: number;
  /** Offset of the last record of the batch (decimal string; Kafka offsets are int64). */
  readonly lastOffset: string;
  /** Max event time of the batch's valid events, late ones included; -Infinity if none. */
  readonly maxEventTimeMs: number;
  /** The batch reached the partition's high watermark: nothing else was waiting. */
  readonly caughtUp: boolean;
  /** On-time page views per (window, url); every `count` is positive. */
  readonly counts: readonly WindowUrlCount[];
  /** Events the partition actor already classified as late. */
  readonly lateCount: number;
}

/** Page views of one URL in one window. */
export interface WindowUrlCount {
  readonly windowStartMs: number;
  readonly url: string;
  readonly count: number;
}
