import { join } from 'node:path';
import type { BadMessage } from './etlTestEvents.js';
import { listFiles, type LakeReader } from './lakeReader.js';

/** Final names of architecture.md, "The checkpoint protocol" (offsets zero-padded to 20 digits). */
export const RAW_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/part-(\d+)-(\d{20})-(\d{20})\.parquet$/;
export const REJECTED_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/part-(.+)-(\d+)-(\d{20})-(\d{20})\.parquet$/;
export const AGG_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/part-(\d{20})\.parquet$/;

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

export interface RangeProblem {
  partition: number;
  problem: string;
}

/**
 * The distinct offset ranges named by the raw table's files and the topic's `_rejected` files must
 * tile [0, end) of every partition: no gap (nothing lost), no overlap (nothing written twice).
 * Returns the problems found (empty when the lake is right), and the number of distinct ranges.
 */
export function checkRangeTiling(
  lakeRoot: string,
  table: 'clickstream' | 'iot',
  topic: string,
  ends: ReadonlyMap<number, bigint>,
): { problems: RangeProblem[]; badNames: string[]; ranges: number } {
  const badNames: string[] = [];
  const ranges = new Map<number, Set<string>>();
  const add = (partition: number, first: string, last: string): void => {
    const set = ranges.get(partition) ?? new Set<string>();
    set.add(`${first}-${last}`);
    ranges.set(partition, set);
  };
  for (const f of listFiles(join(lakeRoot, 'tables', table))) {
    const m = RAW_FILE.exec(f.path);
    if (!m) badNames.push(`${table}/${f.path}`);
    else add(Number(m[2]), m[3]!, m[4]!);
  }
  for (const f of listFiles(join(lakeRoot, 'tables', '_rejected'))) {
    const m = REJECTED_FILE.exec(f.path);
    if (!m) badNames.push(`_rejected/${f.path}`);
    else if (m[2] === topic) add(Number(m[3]), m[4]!, m[5]!);
  }
  const problems: RangeProblem[] = [];
  let count = 0;
  for (const [partition, end] of ends) {
    const sorted = [...(ranges.get(partition) ?? [])]
      .map((r) => r.split('-').map(BigInt) as [bigint, bigint])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    count += sorted.length;
    let next = 0n;
    for (const [first, last] of sorted) {
      if (first !== next)
        problems.push({
          partition,
          problem:
            first > next
              ? `gap: offsets ${next}..${first - 1n} in no file`
              : `overlap: range ${first}-${last} starts before ${next}`,
        });
      if (last < first) problems.push({ partition, problem: `empty range ${first}-${last}` });
      if (last + 1n > next) next = last + 1n;
    }
    if (next !== end) problems.push({ partition, problem: `files cover up to ${next}, the partition ends at ${end}` });
  }
  return { problems, badNames, ranges: count };
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
