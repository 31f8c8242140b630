/**
 * The records of `<group>-pv-repartition`, between the two window stages (architecture.md, "Event time" and "Growing
 * past one machine"): stage 1 (per clickstream partition) sends, inside each commit, one record to every repartition
 * partition r with the page views per (minute, url) of the urls routed to r, plus its mark (watermark, idle flag,
 * partition count); stage 2 (per r) closes the windows.
 *
 * Format: compact JSON, versioned (`"v":1`). The counts are pre-aggregated per commit and partition, so a record is
 * small and there are few of them (R per source partition per `etl.checkpoint_interval`): a binary format would save
 * little CPU, while JSON is readable as it is in kcat and the Kafka browser, and zod checks it like the snapshots.
 *
 * ```json
 * {"v":1,"sp":3,"sn":4,"r":1,"rn":3,"size":60000,"to":"1234","wm":1700000030000,"idle":false,
 *  "w":[[1700000040000,[["/a",3],["/b",1]]]]}
 * ```
 * sp/sn: source partition and the clickstream partition count it sees; r/rn: this record's repartition partition and
 * the count it routed with; size: window size; to: offset of the last clickstream record the source accounted for
 * (null: none yet); wm: its watermark (null: -Infinity); w: [window start, [[url, count]…]]…, windows ascending,
 * urls ascending, counts positive; tk: true on the first commit of a new owner of the source partition (absent
 * otherwise; see windows/stage2Windows.ts for what stage 2 does with it). The key is the source partition in decimal.
 */
import { z } from 'zod';
import { ErrorCodes, SdpError } from '../errors.js';
import { partitionForKey } from '../kafka/patches/partitioning.js';
import { windowStartMs } from './tumblingWindows.js';

export const REPARTITION_RECORD_VERSION = 1;

/** The repartition topic of a consumer group's page-view windows. */
export function repartitionTopicName(group: string): string {
  return `${group}-pv-repartition`;
}

/**
 * The repartition partition that counts a url: Kafka's murmur2 partitioner of the url as a key, so that Kafka's own
 * tools (kcat -K, a Java producer) agree on where a url's windows live.
 */
export function repartitionOfUrl(url: string, partitions: number): number {
  return partitionForKey(url, partitions);
}

export interface UrlCount {
  readonly url: string;
  readonly count: number;
}

/** Page views of one window, urls ascending. */
export interface WindowCounts {
  readonly startMs: number;
  readonly counts: readonly UrlCount[];
}

/** One record of the repartition topic, decoded. */
export interface PageViewRepartitionRecord {
  /** The clickstream partition whose stage 1 sent it. */
  readonly sourcePartition: number;
  /** Clickstream partitions that source sees: stage 2 waits for a mark of each. */
  readonly sourcePartitions: number;
  /** The repartition partition it is for, and the repartition partition count its urls were routed with. */
  readonly partition: number;
  readonly partitions: number;
  readonly windowSizeMs: number;
  /** Offset (decimal) of the last clickstream record the source accounted for; null before its first. */
  readonly throughOffset: string | null;
  /** The source's watermark (max event time − delay); -Infinity before any event. */
  readonly watermarkMs: number;
  readonly idle: boolean;
  /**
   * The first commit of a new owner of the source partition (a start, a restart or a rebalance): stage 2 takes every
   * source as not idle until it says so again (windows/stage2Windows.ts). Absent: false.
   */
  readonly takeover?: boolean;
  /** Windows ascending; only urls routed to `partition`. Empty for a mark alone. */
  readonly windows: readonly WindowCounts[];
}

/** A record ready for a producer: partition explicit (not left to the key). */
export interface RepartitionMessage {
  readonly partition: number;
  readonly key: string;
  readonly value: string;
}

const offsetPattern = /^(0|[1-9]\d*)$/;
const countSchema = z.tuple([z.string(), z.int().positive()]);
const valueSchema = z.strictObject({
  v: z.literal(REPARTITION_RECORD_VERSION),
  sp: z.int().nonnegative(),
  sn: z.int().positive(),
  r: z.int().nonnegative(),
  rn: z.int().positive(),
  size: z.int().positive(),
  to: z.string().regex(offsetPattern).nullable(),
  wm: z.number().nullable(),
  idle: z.boolean(),
  tk: z.literal(true).optional(),
  w: z.array(z.tuple([z.number(), z.array(countSchema)])),
});
type RecordValue = z.infer<typeof valueSchema>;

/**
 * The message of a record. @throws SdpError(WINDOW_RECORD_INVALID) if the record breaks its own rules (a bug in the
 * caller: unsorted windows or urls, a url routed elsewhere, a count that is not positive…).
 */
export function encodeRepartitionRecord(record: PageViewRepartitionRecord): RepartitionMessage {
  const problems = checkRecord(record);
  if (problems.length > 0)
    throw new SdpError(
      ErrorCodes.WINDOW_RECORD_INVALID,
      'cannot encode an invalid page-view repartition record',
      problems,
    );
  const value: RecordValue = {
    v: REPARTITION_RECORD_VERSION,
    sp: record.sourcePartition,
    sn: record.sourcePartitions,
    r: record.partition,
    rn: record.partitions,
    size: record.windowSizeMs,
    to: record.throughOffset,
    wm: record.watermarkMs === -Infinity ? null : record.watermarkMs,
    idle: record.idle,
    ...(record.takeover === true ? { tk: true as const } : {}),
    w: record.windows.map((w) => [w.startMs, w.counts.map((c): [string, number] => [c.url, c.count])]),
  };
  return { partition: record.partition, key: String(record.sourcePartition), value: JSON.stringify(value) };
}

/**
 * Decodes a record read from the repartition topic.
 * @throws SdpError(WINDOW_RECORD_INVALID) naming what is wrong: no value, not JSON, not such a record (a foreign
 *   producer), another version, a malformed field, a broken rule (order, routing), or a key that is not its source.
 */
export function decodeRepartitionRecord(
  key: Buffer | string | null | undefined,
  value: Buffer | string | null | undefined,
): PageViewRepartitionRecord {
  if (value === null || value === undefined) throw invalid('the record has no value (a tombstone?)');
  const text = typeof value === 'string' ? value : value.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(`the value is not JSON: ${preview(text)}`, [], err);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json) || !('v' in json))
    throw invalid(`not a page-view repartition record (no "v" field): ${preview(text)}`);
  if (json.v !== REPARTITION_RECORD_VERSION)
    throw invalid(`version ${JSON.stringify(json.v)}; this build reads version ${REPARTITION_RECORD_VERSION}`);
  const parsed = valueSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw invalid('the page-view repartition record is malformed', lines);
  }
  const v = parsed.data;
  const record: PageViewRepartitionRecord = {
    sourcePartition: v.sp,
    sourcePartitions: v.sn,
    partition: v.r,
    partitions: v.rn,
    windowSizeMs: v.size,
    throughOffset: v.to,
    watermarkMs: v.wm ?? -Infinity,
    idle: v.idle,
    ...(v.tk === true ? { takeover: true } : {}),
    windows: v.w.map(([startMs, counts]) => ({ startMs, counts: counts.map(([url, count]) => ({ url, count })) })),
  };
  const problems = checkRecord(record);
  const keyText = key === null || key === undefined ? null : typeof key === 'string' ? key : key.toString('utf8');
  if (keyText !== String(record.sourcePartition))
    problems.push(`key ${JSON.stringify(keyText)} is not the source partition ${record.sourcePartition}`);
  if (problems.length > 0) throw invalid('the page-view repartition record breaks its rules', problems);
  return record;
}

/** Every rule a record keeps beyond its field types; empty when it keeps them all. */
function checkRecord(record: PageViewRepartitionRecord): string[] {
  const problems: string[] = [];
  const { sourcePartition, sourcePartitions, partition, partitions, windowSizeMs } = record;
  if (!isCount(sourcePartitions) || !isIndex(sourcePartition) || sourcePartition >= sourcePartitions)
    problems.push(`source partition ${String(sourcePartition)} of ${String(sourcePartitions)}`);
  const routable = isCount(partitions) && isIndex(partition) && partition < partitions;
  if (!routable) problems.push(`repartition partition ${String(partition)} of ${String(partitions)}`);
  if (!isCount(windowSizeMs)) problems.push(`window size ${String(windowSizeMs)}`);
  if (record.throughOffset !== null && !offsetPattern.test(String(record.throughOffset)))
    problems.push(`through offset ${String(record.throughOffset)}`);
  if (typeof record.watermarkMs !== 'number' || Number.isNaN(record.watermarkMs) || record.watermarkMs === Infinity)
    problems.push(`watermark ${String(record.watermarkMs)}`);
  if (typeof record.idle !== 'boolean') problems.push(`idle ${String(record.idle)}`);
  if (record.throughOffset === null && record.windows.length > 0)
    problems.push('counts without a through offset: which records do they cover?');
  let previousStartMs = -Infinity;
  for (const { startMs, counts } of record.windows) {
    if (!(startMs > previousStartMs)) problems.push(`window ${String(startMs)} is not after ${previousStartMs}`);
    previousStartMs = startMs;
    if (isCount(windowSizeMs) && !(Number.isFinite(startMs) && windowStartMs(startMs, windowSizeMs) === startMs))
      problems.push(`window ${String(startMs)} is not a window start of size ${windowSizeMs}`);
    if (counts.length === 0) problems.push(`window ${String(startMs)} has no counts`);
    let previousUrl: string | null = null;
    for (const { url, count } of counts) {
      if (typeof url !== 'string') {
        problems.push(`window ${String(startMs)}: url ${String(url)}`);
        continue;
      }
      if (previousUrl !== null && !(url > previousUrl))
        problems.push(
          `window ${String(startMs)}: url ${JSON.stringify(url)} is not after ${JSON.stringify(previousUrl)}`,
        );
      previousUrl = url;
      if (!isCount(count))
        problems.push(`window ${String(startMs)}: count ${String(count)} for ${JSON.stringify(url)}`);
      if (routable && repartitionOfUrl(url, partitions) !== partition)
        problems.push(`url ${JSON.stringify(url)} belongs to partition ${repartitionOfUrl(url, partitions)}`);
    }
  }
  return problems;
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function invalid(message: string, details: readonly string[] = [], cause?: unknown): SdpError {
  const options = cause === undefined ? { retriable: false } : { cause, retriable: false };
  return new SdpError(ErrorCodes.WINDOW_RECORD_INVALID, message, details, options);
}
