/**
 * The lake's expiry record, `<lake>/_expired.json` and `<lake>/_expired/<owner>.json` (architecture.md, "Keeping
 * the lake: retention"; lake/expiryRecordFile.ts): what `lake expire` and the owners inside the ETL deleted on purpose, so that the rebuild from file names never reads an expired
 * range into the lake again and `verify` reports it as expired, not missing. Pure: codec and merge.
 *
 * Per topic partition it keeps the offset ranges whose files were deleted, coalesced across holes
 * no remaining file lies in, and their highest last offset: the floor below which the lake
 * deliberately holds nothing new. For the window aggregator it keeps the highest checkpoint id and
 * the latest `minute_end` of the deleted `clickstream_agg` files. Offsets are decimal strings (int64).
 */
import { ErrorCodes, SdpError } from '../errors.js';
import { AGG_NAME_PATTERN } from './aggFileName.js';

export const EXPIRY_RECORD_FILE = '_expired.json';
export const EXPIRY_RECORD_VERSION = 1;

export interface ExpiredRange {
  first: bigint;
  last: bigint;
}

export interface ExpiredPartition {
  /** The highest last offset of every expired roll. */
  floor: bigint;
  /** Sorted, disjoint. */
  ranges: ExpiredRange[];
}

export interface ExpiryRecord {
  /** ISO-8601 time of the last expiry. */
  updated: string;
  retentionDays: number;
  /** table → expired dts, sorted. */
  dts: Record<string, string[]>;
  /** topic → partition → what expired. */
  partitions: Map<string, Map<number, ExpiredPartition>>;
  /** Of the deleted `clickstream_agg` files; null when none was deleted. */
  agg: { seq: bigint; emittedUntilMs: number } | null;
}

export function emptyExpiryRecord(): ExpiryRecord {
  return { updated: new Date(0).toISOString(), retentionDays: 0, dts: {}, partitions: new Map(), agg: null };
}

export function encodeExpiryRecord(record: ExpiryRecord): string {
  const partitions: Record<string, Record<string, { floor: string; ranges: Array<[string, string]> }>> = {};
  for (const [topic, byPartition] of [...record.partitions].sort((a, b) => a[0].localeCompare(b[0]))) {
    partitions[topic] = {};
    for (const [p, e] of [...byPartition].sort((a, b) => a[0] - b[0]))
      partitions[topic][String(p)] = {
        floor: e.floor.toString(),
        ranges: e.ranges.map((r) => [r.first.toString(), r.last.toString()]),
      };
  }
  const doc = {
    version: EXPIRY_RECORD_VERSION,
    updated: record.updated,
    retention_days: record.retentionDays,
    dts: record.dts,
    partitions,
    agg: record.agg === null ? null : { seq: record.agg.seq.toString(), emitted_until_ms: record.agg.emittedUntilMs },
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

const OFFSET = /^\d{1,19}$/;
const DT = /^\d{4}-\d{2}-\d{2}$/;

/** Parses the record's text; throws SdpError(LAKE_EXPIRY_RECORD_INVALID) naming what is wrong. */
export function decodeExpiryRecord(text: string, where: string): ExpiryRecord {
  const bad = (what: string): SdpError =>
    new SdpError(ErrorCodes.LAKE_EXPIRY_RECORD_INVALID, `${where}: ${what}`, [
      "it is written only by `lake expire` and, under `_expired/`, by the ETL's owners; restore it from a backup, or move it away to rebuild from file names alone (expired ranges may then be read again)",
    ]);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (doc === null || typeof doc !== 'object') throw bad('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.version !== EXPIRY_RECORD_VERSION)
    throw bad(`version ${JSON.stringify(d.version)} is not ${EXPIRY_RECORD_VERSION}`);
  if (typeof d.updated !== 'string' || Number.isNaN(Date.parse(d.updated))) throw bad('updated is not an ISO time');
  if (!Number.isInteger(d.retention_days)) throw bad('retention_days is not a whole number');
  const dts: Record<string, string[]> = {};
  if (d.dts === null || typeof d.dts !== 'object') throw bad('dts is not an object');
  for (const [table, list] of Object.entries(d.dts as Record<string, unknown>)) {
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && DT.test(x)))
      throw bad(`dts.${table} is not a list of YYYY-MM-DD days`);
    dts[table] = [...(list as string[])].sort();
  }
  const partitions = new Map<string, Map<number, ExpiredPartition>>();
  if (d.partitions === null || typeof d.partitions !== 'object') throw bad('partitions is not an object');
  for (const [topic, byPartition] of Object.entries(d.partitions as Record<string, unknown>)) {
    if (byPartition === null || typeof byPartition !== 'object') throw bad(`partitions.${topic} is not an object`);
    const out = new Map<number, ExpiredPartition>();
    for (const [p, value] of Object.entries(byPartition as Record<string, unknown>)) {
      const at = `partitions.${topic}.${p}`;
      if (!/^\d+$/.test(p)) throw bad(`${at}: not a partition number`);
      const v = value as { floor?: unknown; ranges?: unknown } | null;
      if (v === null || typeof v !== 'object' || typeof v.floor !== 'string' || !OFFSET.test(v.floor))
        throw bad(`${at}.floor is not a decimal offset`);
      if (!Array.isArray(v.ranges)) throw bad(`${at}.ranges is not a list`);
      const ranges = v.ranges.map((r: unknown) => {
        if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => typeof x === 'string' && OFFSET.test(x)))
          throw bad(`${at}.ranges holds ${JSON.stringify(r)}, not [first, last]`);
        const range = { first: BigInt(r[0] as string), last: BigInt(r[1] as string) };
        if (range.first > range.last) throw bad(`${at}.ranges holds ${JSON.stringify(r)}: first after last`);
        return range;
      });
      out.set(Number(p), { floor: BigInt(v.floor), ranges: coalesce(ranges, []) });
    }
    partitions.set(topic, out);
  }
  let agg: ExpiryRecord['agg'] = null;
  if (d.agg !== null && d.agg !== undefined) {
    const a = d.agg as { seq?: unknown; emitted_until_ms?: unknown };
    if (typeof a.seq !== 'string' || !OFFSET.test(a.seq) || !Number.isSafeInteger(a.emitted_until_ms))
      throw bad('agg is not { seq, emitted_until_ms }');
    agg = { seq: BigInt(a.seq), emittedUntilMs: a.emitted_until_ms as number };
  }
  return { updated: d.updated, retentionDays: d.retention_days as number, dts, partitions, agg };
}

/** A lake file as the expiry record sees it: the roll range of a raw or `_rejected` file, or an aggregator file. */
export type ExpiryFileName =
  | { kind: 'roll'; topic: string; partition: number; first: bigint; last: bigint }
  | { kind: 'agg'; seq: bigint };

const RAW = /^tables\/(clickstream|iot)\/dt=\d{4}-\d{2}-\d{2}\/(?:[^/]+\/)?part-(\d+)-(\d{20})-(\d{20})\.parquet$/;
const REJECTED = /^tables\/_rejected\/dt=\d{4}-\d{2}-\d{2}\/(?:[^/]+\/)?part-(.+)-(\d+)-(\d{20})-(\d{20})\.parquet$/;
const AGG = new RegExp(`^tables/clickstream_agg/dt=\\d{4}-\\d{2}-\\d{2}/(?:[^/]+/)?${AGG_NAME_PATTERN}$`);

/** The committed file's roll or checkpoint; undefined for a tmp file or a name no writer gives. */
export function parseExpiryFileName(
  path: string,
  topics: { clickstream: string; iot: string },
): ExpiryFileName | undefined {
  let m = RAW.exec(path);
  if (m)
    return {
      kind: 'roll',
      topic: topics[m[1] as 'clickstream' | 'iot'],
      partition: Number(m[2]),
      first: BigInt(m[3]!),
      last: BigInt(m[4]!),
    };
  m = REJECTED.exec(path);
  if (m) return { kind: 'roll', topic: m[1]!, partition: Number(m[2]), first: BigInt(m[3]!), last: BigInt(m[4]!) };
  m = AGG.exec(path);
  if (m) return { kind: 'agg', seq: BigInt(m[2] ?? m[1]!) }; // a merged file: its last checkpoint
  return undefined;
}

/**
 * Ranges sorted by `first` with the running maximum of `last`: "the furthest a range starting below x reaches" in
 * log n. A partition's record meets every roll that stays (a month of a partition: tens of thousands), and the
 * owners inside the ETL merge it on the partition's chain: a scan per range blocked that chain for seconds.
 */
class ReachIndex {
  private readonly firsts: bigint[];
  private readonly maxLast: bigint[];

  constructor(ranges: readonly ExpiredRange[]) {
    const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    this.firsts = sorted.map((r) => r.first);
    this.maxLast = [];
    let max: bigint | undefined;
    for (const r of sorted) {
      if (max === undefined || r.last > max) max = r.last;
      this.maxLast.push(max);
    }
  }

  /** The largest `last` of the ranges whose `first` is below `bound` (at or below with `inclusive`); undefined: none. */
  furthestStartingBelow(bound: bigint, inclusive: boolean): bigint | undefined {
    let lo = 0;
    let hi = this.firsts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const f = this.firsts[mid]!;
      if (f < bound || (inclusive && f === bound)) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? undefined : this.maxLast[lo - 1];
  }
}

/**
 * Sorted disjoint ranges covering `ranges`: overlapping ones merge, and so do neighbours with no
 * `blocker` (a roll that stays in the lake) in the hole between them — the hole's offsets are
 * transaction markers or aborted records of rolls that expired, nothing the lake holds.
 */
export function coalesce(ranges: readonly ExpiredRange[], blockers: readonly ExpiredRange[]): ExpiredRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const reach = new ReachIndex(blockers);
  const out: ExpiredRange[] = [];
  for (const r of sorted) {
    const cur = out[out.length - 1];
    if (cur === undefined) {
      out.push({ ...r });
      continue;
    }
    const touching = r.first <= cur.last + 1n;
    // A blocker in the hole: one that starts before r and reaches past cur.
    const furthest = reach.furthestStartingBelow(r.first, false);
    const blocked = furthest !== undefined && furthest > cur.last;
    if (touching || !blocked) {
      if (r.last > cur.last) cur.last = r.last;
    } else out.push({ ...r });
  }
  return out;
}

export interface ExpiryUpdate {
  previous: ExpiryRecord;
  /** The committed files deleted now (relative paths), by table and dt. */
  deleted: ReadonlyArray<{ table: string; dt: string; files: readonly string[] }>;
  /** The committed files that stay (relative paths). */
  remaining: readonly string[];
  topics: { clickstream: string; iot: string };
  /** The latest `minute_end` of the deleted `clickstream_agg` files (their footers), if any. */
  deletedAggEmittedUntilMs: number | undefined;
  nowMs: number;
  retentionDays: number;
}

/** The record after deleting `deleted`: the previous one plus what goes now. */
export function mergeExpiry(update: ExpiryUpdate): ExpiryRecord {
  const { previous, topics } = update;
  const dts: Record<string, string[]> = Object.fromEntries(
    Object.entries(previous.dts).map(([t, list]) => [t, [...list]]),
  );
  const expired = new Map<string, Map<number, ExpiredRange[]>>();
  const floors = new Map<string, Map<number, bigint>>();
  const rangesOf = (topic: string, partition: number): ExpiredRange[] => {
    let byPartition = expired.get(topic);
    if (!byPartition) expired.set(topic, (byPartition = new Map()));
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    return list;
  };
  const raiseFloor = (topic: string, partition: number, last: bigint): void => {
    let byPartition = floors.get(topic);
    if (!byPartition) floors.set(topic, (byPartition = new Map()));
    const current = byPartition.get(partition);
    if (current === undefined || last > current) byPartition.set(partition, last);
  };
  for (const [topic, byPartition] of previous.partitions)
    for (const [partition, e] of byPartition) {
      rangesOf(topic, partition).push(...e.ranges);
      raiseFloor(topic, partition, e.floor);
    }
  let aggSeq = previous.agg?.seq;
  for (const group of update.deleted) {
    const list = (dts[group.table] ??= []);
    if (!list.includes(group.dt)) list.push(group.dt);
    for (const path of group.files) {
      const parsed = parseExpiryFileName(path, topics);
      if (parsed?.kind === 'roll') {
        rangesOf(parsed.topic, parsed.partition).push({ first: parsed.first, last: parsed.last });
        raiseFloor(parsed.topic, parsed.partition, parsed.last);
      } else if (parsed?.kind === 'agg' && (aggSeq === undefined || parsed.seq > aggSeq)) aggSeq = parsed.seq;
    }
  }
  for (const list of Object.values(dts)) list.sort();
  // A roll that stays blocks coalescing across it, unless all of it is inside an expired range (a roll that lost
  // some of its dt files keeps the others: its range is expired).
  const blockers = new Map<string, ExpiredRange[]>();
  for (const path of update.remaining) {
    const parsed = parseExpiryFileName(path, topics);
    if (parsed?.kind !== 'roll') continue;
    const key = `${parsed.topic}\u0000${parsed.partition}`;
    const list = blockers.get(key) ?? [];
    list.push({ first: parsed.first, last: parsed.last });
    blockers.set(key, list);
  }
  const partitions = new Map<string, Map<number, ExpiredPartition>>();
  for (const [topic, byPartition] of expired) {
    const out = new Map<number, ExpiredPartition>();
    for (const [partition, ranges] of byPartition) {
      // Inside one expired range: some range starting at or below it reaches its end.
      const inside = new ReachIndex(ranges);
      const own = (blockers.get(`${topic}\u0000${partition}`) ?? []).filter(
        (b) => (inside.furthestStartingBelow(b.first, true) ?? -1n) < b.last,
      );
      out.set(partition, { floor: floors.get(topic)!.get(partition)!, ranges: coalesce(ranges, own) });
    }
    partitions.set(topic, out);
  }
  const emittedUntil = Math.max(
    previous.agg?.emittedUntilMs ?? -Infinity,
    update.deletedAggEmittedUntilMs ?? -Infinity,
  );
  return {
    updated: new Date(update.nowMs).toISOString(),
    retentionDays: update.retentionDays,
    dts,
    partitions,
    // Only stage-2 tasks' files expired (windows across members): no sequence of the aggregator's, the frontier still
    // counts (lake/aggEmittedUntil.ts).
    agg:
      !update.deleted.some((d) => d.table === 'clickstream_agg' && d.files.length > 0) || !Number.isFinite(emittedUntil)
        ? previous.agg
        : { seq: aggSeq ?? previous.agg?.seq ?? 0n, emittedUntilMs: emittedUntil },
  };
}

/** The expired ranges of one partition, [] when none. */
export function expiredRangesOf(record: ExpiryRecord, topic: string, partition: number): ExpiredRange[] {
  return record.partitions.get(topic)?.get(partition)?.ranges ?? [];
}

/**
 * Whether `path` (`tables/<table>/dt=YYYY-MM-DD/…`, relative to the lake root) lies in a dt the
 * record says expired. Recovery skips a pending rename whose both ends are gone for this reason: the
 * latest roll of a partition keeps its renames in the store until its next roll, and retention may
 * have deleted their targets on purpose.
 */
export function inExpiredDt(record: ExpiryRecord | undefined, path: string): boolean {
  const m = /^tables\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\//.exec(path.split('\\').join('/'));
  return m !== null && record !== undefined && (record.dts[m[1]!]?.includes(m[2]!) ?? false);
}

function laterSeq(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

/** A blocker across every hole: ranges of different records merge only where they overlap or touch. */
const EVERY_HOLE: readonly ExpiredRange[] = [{ first: -1n, last: 2n ** 63n }];

/**
 * The lake's expiry record from its several files (lake/expiryRecordFile.ts: `lake expire`'s and each owner's inside
 * the ETL): every dt, every range, the highest floors and aggregator position, the latest update. A record coalesced
 * its ranges across holes no file of its own lay in; across records only overlapping or touching ranges merge, since
 * another record cannot tell what lies in a hole of this one. Undefined for none.
 */
export function unionExpiryRecords(records: readonly ExpiryRecord[]): ExpiryRecord | undefined {
  if (records.length === 0) return undefined;
  if (records.length === 1) return records[0];
  const dts: Record<string, Set<string>> = {};
  const ranges = new Map<string, Map<number, { floor: bigint; ranges: ExpiredRange[] }>>();
  let agg: ExpiryRecord['agg'] = null;
  let latest = records[0]!;
  for (const record of records) {
    if (Date.parse(record.updated) > Date.parse(latest.updated)) latest = record;
    for (const [table, list] of Object.entries(record.dts)) for (const dt of list) (dts[table] ??= new Set()).add(dt);
    for (const [topic, byPartition] of record.partitions) {
      let out = ranges.get(topic);
      if (!out) ranges.set(topic, (out = new Map()));
      for (const [partition, e] of byPartition) {
        const cur = out.get(partition);
        if (!cur) out.set(partition, { floor: e.floor, ranges: [...e.ranges] });
        else {
          if (e.floor > cur.floor) cur.floor = e.floor;
          cur.ranges.push(...e.ranges);
        }
      }
    }
    if (record.agg)
      agg =
        agg === null
          ? { ...record.agg }
          : {
              seq: laterSeq(record.agg.seq, agg.seq),
              emittedUntilMs: Math.max(record.agg.emittedUntilMs, agg.emittedUntilMs),
            };
  }
  const partitions = new Map<string, Map<number, ExpiredPartition>>();
  for (const [topic, byPartition] of ranges)
    partitions.set(
      topic,
      new Map(
        [...byPartition].map(([p, e]) => [p, { floor: e.floor, ranges: coalesce(e.ranges, EVERY_HOLE) }] as const),
      ),
    );
  return {
    updated: latest.updated,
    retentionDays: latest.retentionDays,
    dts: Object.fromEntries(Object.entries(dts).map(([t, set]) => [t, [...set].sort()])),
    partitions,
    agg,
  };
}
