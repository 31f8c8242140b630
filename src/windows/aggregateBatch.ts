import { ErrorCodes, SdpError } from '../errors.js';
import type { WindowUrlCount } from './pageViewBatch.js';
import { isLateEvent } from './lateness.js';
import { windowStartMs } from './tumblingWindows.js';

/** One valid clickstream event, as far as windowing cares. */
export interface PageViewEvent {
  readonly eventTimeMs: number;
  readonly url: string;
}

export interface AggregatedBatch {
  /** On-time page views per (window, url), sorted by window start then url. */
  readonly counts: WindowUrlCount[];
  readonly lateCount: number;
  /** Max event time of all events, late ones included; -Infinity for an empty batch. */
  readonly maxEventTimeMs: number;
}

/**
 * Pre-aggregates one batch of one partition before it goes to the window aggregator. Called by
 * the clickstream partition actor once per fetched batch.
 *
 * An event is late iff its window is closed at `knownGlobalWatermarkMs` (`isLateEvent`: window
 * end ≤ watermark; an event behind the watermark in a window still open is counted), where the
 * known watermark is the last global watermark the aggregator sent to the partition actor
 * (-Infinity before the first, after a restart too). It may lag behind the real one; the
 * aggregator then judges the counts by the same rule, so a stale watermark never changes an
 * emitted window and never makes an on-time event late.
 *
 * @throws SdpError(WINDOW_INVALID_INPUT) on a non-finite event time (the validator rejects those
 *   before they get here, so this is a bug, not data).
 */
export function aggregateBatch(
  events: Iterable<PageViewEvent>,
  knownGlobalWatermarkMs: number,
  sizeMs: number,
): AggregatedBatch {
  const eventTimesMs: number[] = [];
  const urls: string[] = [];
  for (const { eventTimeMs, url } of events) {
    eventTimesMs.push(eventTimeMs);
    urls.push(url);
  }
  return aggregateColumns(eventTimesMs, urls, eventTimesMs.length, knownGlobalWatermarkMs, sizeMs);
}

/**
 * `aggregateBatch` over the first `count` events given column-wise (event i is `eventTimesMs[i]`,
 * `urls[i]`): the partition actor fills two reused arrays instead of making an object per event.
 */
export function aggregateColumns(
  eventTimesMs: ArrayLike<number>,
  urls: ArrayLike<string>,
  count: number,
  knownGlobalWatermarkMs: number,
  sizeMs: number,
): AggregatedBatch {
  // window start -> url -> count
  const byWindow = new Map<number, Map<string, number>>();
  let lateCount = 0;
  let maxEventTimeMs = -Infinity;
  for (let i = 0; i < count; i++) {
    const eventTimeMs = eventTimesMs[i]!;
    const url = urls[i]!;
    if (!Number.isFinite(eventTimeMs)) {
      throw new SdpError(
        ErrorCodes.WINDOW_INVALID_INPUT,
        `event time must be a finite number of ms, got ${String(eventTimeMs)}`,
      );
    }
    if (eventTimeMs > maxEventTimeMs) maxEventTimeMs = eventTimeMs;
    if (isLateEvent(eventTimeMs, knownGlobalWatermarkMs, sizeMs)) {
      lateCount += 1;
      continue;
    }
    const startMs = windowStartMs(eventTimeMs, sizeMs);
    let byUrl = byWindow.get(startMs);
    if (byUrl === undefined) {
      byUrl = new Map();
      byWindow.set(startMs, byUrl);
    }
    byUrl.set(url, (byUrl.get(url) ?? 0) + 1);
  }
  const counts: WindowUrlCount[] = [];
  for (const startMs of [...byWindow.keys()].sort((a, b) => a - b)) {
    const byUrl = byWindow.get(startMs)!;
    for (const url of [...byUrl.keys()].sort()) {
      counts.push({ windowStartMs: startMs, url, count: byUrl.get(url)! });
    }
  }
  return { counts, lateCount, maxEventTimeMs };
}
