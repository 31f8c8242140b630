import type { BadMessage } from './etlTestEvents.js';
import type { LakeReader } from './lakeReader.js';

// The file-name rules and the range tiling live in bench/ (the chaos run and check:scale-out use them too).
export { AGG_FILE, checkRangeTiling, RAW_FILE, REJECTED_FILE, type RangeProblem } from '../../../bench/lakeRanges.js';

/** A bad message as produced: where it landed and when. */
export interface InjectedBad extends BadMessage {
  topic: string;
  partition: number;
  offset: bigint;
  recordTimestampMs: number;
}

export interface RejectedRow {
  topic: string;
  partition: number;
  offset: string;
  reason: string;
  payload: string;
  payload_encoding: string;
  kafka_ts_ms: number;
  dt: string;
}

/** `_rejected` as DuckDB reads it, in (topic, partition, offset) order. */
export async function readRejected(lake: LakeReader): Promise<RejectedRow[]> {
  const rows = await lake.rows(
    `SELECT topic, partition, "offset", reason, payload, payload_encoding, epoch_ms(kafka_ts) AS kafka_ts_ms, dt::VARCHAR AS dt FROM ${lake.table('_rejected')} ORDER BY topic, partition, "offset"`,
  );
  return rows.map((r) => ({
    topic: String(r.topic),
    partition: Number(r.partition),
    offset: String(r.offset),
    reason: String(r.reason),
    payload: String(r.payload),
    payload_encoding: String(r.payload_encoding),
    kafka_ts_ms: Number(r.kafka_ts_ms),
    dt: String(r.dt),
  }));
}

/** What `_rejected` must hold for the injected messages, in the same order as readRejected. */
export function expectedRejected(injected: readonly InjectedBad[]): RejectedRow[] {
  return [...injected]
    .sort((a, b) =>
      a.topic < b.topic
        ? -1
        : a.topic > b.topic
          ? 1
          : a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
    )
    .map((b) => ({
      topic: b.topic,
      partition: b.partition,
      offset: b.offset.toString(),
      reason: b.reason,
      payload: b.payload,
      payload_encoding: b.encoding,
      kafka_ts_ms: b.recordTimestampMs,
      // _rejected rows are filed under the date of their Kafka record timestamp.
      dt: new Date(b.recordTimestampMs).toISOString().slice(0, 10),
    }));
}

/** Long payloads shortened, so that a failing comparison prints a readable diff. */
export function abbreviated(rows: readonly RejectedRow[]): RejectedRow[] {
  return rows.map((r) => ({
    ...r,
    payload: r.payload.length > 200 ? `${r.payload.slice(0, 40)}…(${r.payload.length} chars)` : r.payload,
  }));
}

/**
 * Emitted windows whose page views differ from the raw clickstream rows of their (minute, url); none expected without
 * late events.
 */
export function windowsNotMatchingRaw(lake: LakeReader): ReturnType<LakeReader['rows']> {
  return lake.rows(`
    WITH raw AS (SELECT date_trunc('minute', ts) AS minute_start, url, count(*) AS n FROM ${lake.table('clickstream')} GROUP BY ALL)
    SELECT a.minute_start::VARCHAR AS minute_start, a.url, a.pv, raw.n FROM ${lake.table('clickstream_agg')} a LEFT JOIN raw USING (minute_start, url)
    WHERE raw.n IS NULL OR a.pv <> raw.n LIMIT 5`);
}

/**
 * Raw (minute, url) pairs up to the last emitted minute that no window holds: emitted windows must be a prefix of event
 * time.
 */
export function windowsMissingBeforeLastEmitted(lake: LakeReader): ReturnType<LakeReader['rows']> {
  return lake.rows(`
    WITH raw AS (SELECT DISTINCT date_trunc('minute', ts) AS minute_start, url FROM ${lake.table('clickstream')}),
         last AS (SELECT max(minute_start) AS m FROM ${lake.table('clickstream_agg')})
    SELECT raw.minute_start::VARCHAR AS minute_start, raw.url FROM raw, last WHERE raw.minute_start <= last.m
    EXCEPT SELECT minute_start::VARCHAR, url FROM ${lake.table('clickstream_agg')} LIMIT 5`);
}
