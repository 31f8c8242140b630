/**
 * The metadata a partition task commits with its offset (`sendOffsets(next offset, metadata)` in the Kafka
 * transaction under `<group>-<topic>-<p>`; architecture.md, "Growing past one machine, and who rewrites a
 * partition's files"): the last offset durable per sink and the files the commit publishes, so that the partition's
 * next owner can finish the commit's renames. Pure.
 *
 * Kafka keeps at most `offset.metadata.max.bytes` (4096 by default) per partition, so the text is compact ASCII
 * and never longer than MAX_COMMIT_METADATA_BYTES:
 *
 *   sdp:1:{"t":<topic id|null>,"r":"<raw>","w":"<win>"|null,"id":"<writer>","f":[["<first>","<last>",{"c":"<dts>"}]]}
 *
 * `f` groups the files by offset range (a roll's files share one) and, per table (`c` clickstream, `i` iot,
 * `x` _rejected), lists their dts as the first one (YYYYMMDD) then day deltas, a run of equal deltas as
 * `<delta>*<count>`: `20261201,1*29` is the 30 days from 2026-12-01. Offsets are decimal without padding. When even
 * that exceeds the bound, `l: ["<first>","<last>"]` replaces `f`: the next owner lists the writer's tmp files of that
 * range instead.
 *
 * A compaction commit of the owner (architecture.md, "Compaction") adds `"m":["<table code>","<YYYYMMDD>","<first>",
 * "<last>"]`: the merged file `part-…-<first>-<last>` of that table and dt (the writer's tmp file until its unit is
 * exchanged), replacing the unit's files inside [first, last]. Metadata without `m` is read as before.
 */
import { ErrorCodes, SdpError } from '../errors.js';
import { dtOfMs, rawFilePath, rejectedFilePath, tmpPathFor } from '../lake/layout.js';
import { isPartitionTable, type PartitionTable, parsePartitionFileName } from '../lake/partitionFileName.js';
import type { TableName } from '../lake/tables.js';
import { NO_OFFSET, type Rename } from './checkpointState.js';

export const COMMIT_METADATA_VERSION = 1;
/** Below Kafka's default `offset.metadata.max.bytes` (4096), with room to spare. */
export const MAX_COMMIT_METADATA_BYTES = 4000;

/** One file a commit publishes: `<final>.<writer>.tmp` → `<final>`, its name made by layout.ts. */
export interface CommitFile {
  table: TableName;
  dt: string;
  first: string;
  last: string;
}

export interface OffsetRange {
  first: string;
  last: string;
}

/** Too many files to name within the bound: the writer's tmp files of this range are the commit's. */
export interface ListedByRange {
  listedByRange: OffsetRange;
}

/** The merged file a compaction commit publishes: it replaces the files of its unit inside [first, last]. */
export interface CommitMerge {
  table: PartitionTable;
  dt: string;
  first: string;
  last: string;
}

export interface CommitMetadata {
  v: 1;
  /** The input topic's id when committed (a recreated topic is a different log); null if unknown. */
  topicId: string | null;
  /** Last offset durable in the raw lake (decimal; '-1' none). */
  raw: string;
  /** clickstream only: last offset whose page-view counts went to the window stage ('-1' none); null for iot. */
  win: string | null;
  /** The writer id this commit's tmp file names carry. */
  writer: string;
  files: CommitFile[] | ListedByRange;
  /** A compaction commit's merged file (architecture.md, "Compaction"); absent on every other commit. */
  merge?: CommitMerge;
}

const PREFIX = 'sdp:';
const INT64_MAX = 2n ** 63n - 1n;
const MS_PER_DAY = 86_400_000;
const TABLE_CODES: ReadonlyArray<[PartitionTable, string]> = [
  ['clickstream', 'c'],
  ['iot', 'i'],
  ['_rejected', 'x'],
];
const WRITER = /^[0-9a-f]{1,32}$/;
const TOPIC_ID = /^[0-9a-f]{32}$/;

export function isListedByRange(files: CommitMetadata['files']): files is ListedByRange {
  return !Array.isArray(files);
}

// ---- offsets and dts ----

/** Canonical decimal of an int64 offset given as decimal (zero padding allowed, as in file names). */
function canonicalOffset(text: unknown, what: string): string {
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text)) throw new RangeError(`${what}: not an offset: ${text}`);
  const value = BigInt(text);
  if (value > INT64_MAX) throw new RangeError(`${what}: beyond int64: ${text}`);
  return value.toString();
}

function canonicalOffsetOrNone(text: unknown, what: string): string {
  return text === NO_OFFSET ? NO_OFFSET : canonicalOffset(text, what);
}

/** The day number (days since 1970-01-01) of a real calendar date YYYY-MM-DD. */
function dayOf(dt: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dt);
  if (!m) throw new RangeError(`not a dt (YYYY-MM-DD): ${JSON.stringify(dt)}`);
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: years 0..99 stay themselves.
  date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const day = Math.round(date.getTime() / MS_PER_DAY);
  if (dtOf(day) !== dt) throw new RangeError(`not a calendar date: ${dt}`);
  return day;
}

function dtOf(day: number): string {
  return dtOfMs(day * MS_PER_DAY);
}

const LAST_DAY = dayOf('9999-12-31');

/** Sorted distinct day numbers as `YYYYMMDD,<delta>[*<count>],…`. */
function encodeDays(days: readonly number[]): string {
  const tokens = [dtOf(days[0]!).replaceAll('-', '')];
  for (let i = 1; i < days.length; ) {
    const delta = days[i]! - days[i - 1]!;
    let count = 1;
    while (i + count < days.length && days[i + count]! - days[i + count - 1]! === delta) count += 1;
    tokens.push(count > 1 ? `${delta}*${count}` : String(delta));
    i += count;
  }
  return tokens.join(',');
}

function decodeDays(text: unknown): string[] {
  if (typeof text !== 'string') throw new RangeError(`dts: not a string: ${JSON.stringify(text)}`);
  const [head, ...rest] = text.split(',');
  if (!/^\d{8}$/.test(head!)) throw new RangeError(`dts: first dt not YYYYMMDD: ${JSON.stringify(text)}`);
  let day = dayOf(`${head!.slice(0, 4)}-${head!.slice(4, 6)}-${head!.slice(6)}`);
  const dts = [dtOf(day)];
  for (const token of rest) {
    const m = /^([1-9]\d{0,6})(?:\*([1-9]\d{0,6}))?$/.exec(token);
    if (!m) throw new RangeError(`dts: bad delta ${JSON.stringify(token)}`);
    const delta = Number(m[1]);
    const count = m[2] === undefined ? 1 : Number(m[2]);
    // Checked before the loop: a short token must not make millions of dts.
    if (day + delta * count > LAST_DAY) throw new RangeError(`dts: beyond 9999-12-31: ${JSON.stringify(text)}`);
    for (let k = 0; k < count; k += 1) dts.push(dtOf((day += delta)));
  }
  return dts;
}

/**
 * Distinct dts (YYYY-MM-DD, any order) in the compact form of `f` (`20261201,1*29`), for sibling formats that name
 * files per dt too (windows/stage2CommitMetadata.ts). Throws a RangeError on an empty list or a dt that is not one.
 */
export function encodeDtList(dts: readonly string[]): string {
  if (dts.length === 0) throw new RangeError('no dt to encode');
  const days = [...new Set(dts.map(dayOf))].sort((a, b) => a - b);
  return encodeDays(days);
}

/** The dts of {@link encodeDtList}'s text, ascending. Throws a RangeError on a malformed text. */
export function decodeDtList(text: unknown): string[] {
  return decodeDays(text);
}

// ---- encode ----

interface RangeGroup {
  first: string;
  last: string;
  /** table → sorted distinct day numbers. */
  days: Map<PartitionTable, number[]>;
}

function groupFiles(files: readonly CommitFile[]): RangeGroup[] {
  const groups = new Map<string, RangeGroup>();
  for (const file of files) {
    if (!isPartitionTable(file.table)) throw new RangeError(`a partition commit publishes no ${file.table} file`);
    const first = canonicalOffset(file.first, 'first');
    const last = canonicalOffset(file.last, 'last');
    if (BigInt(first) > BigInt(last)) throw new RangeError(`file range ${first}-${last}: first > last`);
    const key = `${first}-${last}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { first, last, days: new Map() }));
    let days = group.days.get(file.table);
    if (!days) group.days.set(file.table, (days = []));
    days.push(dayOf(file.dt));
  }
  const sorted = [...groups.values()].sort((a, b) => compareRanges(a, b));
  for (const group of sorted) {
    for (const [table, days] of group.days) {
      days.sort((a, b) => a - b);
      for (let i = 1; i < days.length; i += 1)
        if (days[i] === days[i - 1])
          throw new RangeError(`file ${table} dt=${dtOf(days[i]!)} ${group.first}-${group.last} named twice`);
    }
  }
  return sorted;
}

function compareRanges(a: OffsetRange, b: OffsetRange): number {
  const d = BigInt(a.first) - BigInt(b.first) || BigInt(a.last) - BigInt(b.last);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

function assertHeader(m: CommitMetadata): void {
  if (m.v !== COMMIT_METADATA_VERSION) throw new RangeError(`commit metadata version ${m.v}: this release writes 1`);
  if (m.topicId !== null && !TOPIC_ID.test(m.topicId)) throw new RangeError(`topic id: ${JSON.stringify(m.topicId)}`);
  if (!WRITER.test(m.writer)) throw new RangeError(`writer id (hex, 1..32 digits): ${JSON.stringify(m.writer)}`);
}

/**
 * The compact text of `m`, at most MAX_COMMIT_METADATA_BYTES long: the file list, or its range alone when the list
 * would not fit. Throws a RangeError on a value it cannot carry (never a longer text).
 */
export function encodeCommitMetadata(m: CommitMetadata): string {
  assertHeader(m);
  const head = {
    t: m.topicId,
    r: canonicalOffsetOrNone(m.raw, 'raw'),
    w: m.win === null ? null : canonicalOffsetOrNone(m.win, 'win'),
    id: m.writer,
    ...(m.merge === undefined ? {} : { m: encodeMerge(m.merge) }),
  };
  const text = (body: object): string => `${PREFIX}${COMMIT_METADATA_VERSION}:${JSON.stringify(body)}`;
  let range: OffsetRange;
  if (isListedByRange(m.files)) {
    range = m.files.listedByRange;
  } else {
    const groups = groupFiles(m.files);
    const f = groups.map((g) => {
      const tables: Record<string, string> = {};
      for (const [table, code] of TABLE_CODES) {
        const days = g.days.get(table);
        if (days) tables[code] = encodeDays(days);
      }
      return [g.first, g.last, tables];
    });
    const listed = text({ ...head, f });
    if (listed.length <= MAX_COMMIT_METADATA_BYTES) return listed;
    // A roll's files share one range; only that can stand for the list.
    if (groups.length !== 1) {
      throw new RangeError(
        `commit metadata: ${m.files.length} files over ${groups.length} offset ranges do not fit in ` +
          `${MAX_COMMIT_METADATA_BYTES} bytes, and only a single range can be listed by range`,
      );
    }
    range = groups[0]!;
  }
  const first = canonicalOffset(range.first, 'first');
  const last = canonicalOffset(range.last, 'last');
  if (BigInt(first) > BigInt(last)) throw new RangeError(`range ${first}-${last}: first > last`);
  // ASCII only (validated above), so characters are bytes; the header alone is < 250 bytes.
  return text({ ...head, l: [first, last] });
}

function encodeMerge(merge: CommitMerge): [string, string, string, string] {
  const code = TABLE_CODES.find(([table]) => table === merge.table)?.[1];
  if (code === undefined) throw new RangeError(`a partition commit merges no ${merge.table} file`);
  const first = canonicalOffset(merge.first, 'merge first');
  const last = canonicalOffset(merge.last, 'merge last');
  if (BigInt(first) >= BigInt(last))
    throw new RangeError(`merge range ${first}-${last}: a merge spans two offsets or more`);
  return [code, encodeDays([dayOf(merge.dt)]), first, last];
}

function decodeMerge(value: unknown): CommitMerge {
  if (!Array.isArray(value) || value.length !== 4) throw new RangeError('merge');
  const table = TABLE_CODES.find(([, c]) => c === value[0])?.[0];
  if (table === undefined) throw new RangeError(`merge table code ${JSON.stringify(value[0])}`);
  const dts = decodeDays(value[1]);
  if (dts.length !== 1) throw new RangeError('merge: one dt');
  const first = canonicalOffset(value[2], 'merge first');
  const last = canonicalOffset(value[3], 'merge last');
  if (BigInt(first) >= BigInt(last)) throw new RangeError(`merge range ${first}-${last}`);
  return { table, dt: dts[0]!, first, last };
}

// ---- decode ----

/**
 * The metadata of a committed offset. null when there is none of ours (null, '', or another tool's text, such as
 * kafkajs's default ''): the caller then rebuilds the partition from file names. Throws SdpError
 * SDP_ERR_CHECKPOINT_METADATA_NEWER for our prefix with a version this release does not know, and
 * SDP_ERR_CHECKPOINT_METADATA_INVALID for ours malformed; `where` (e.g. `clickstream[3]`) goes into the message.
 */
export function decodeCommitMetadata(
  text: string | null | undefined,
  where = 'a committed offset',
): CommitMetadata | null {
  if (text === null || text === undefined || !text.startsWith(PREFIX)) return null;
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  const version = /^sdp:(\d{1,9}):/.exec(text);
  if (version && Number(version[1]) > COMMIT_METADATA_VERSION) {
    throw new SdpError(
      ErrorCodes.CHECKPOINT_METADATA_NEWER,
      `the commit metadata of ${where} has version ${version[1]}: a newer release wrote it (this one reads ` +
        `${COMMIT_METADATA_VERSION}); upgrade before it takes the partition over`,
      [shown],
    );
  }
  try {
    if (!version || Number(version[1]) !== COMMIT_METADATA_VERSION) throw new RangeError('no known version');
    return decodeBody(JSON.parse(text.slice(version[0].length)));
  } catch (err) {
    throw new SdpError(
      ErrorCodes.CHECKPOINT_METADATA_INVALID,
      `the commit metadata of ${where} is malformed (${(err as Error).message}): ${shown}`,
      [],
      { cause: err },
    );
  }
}

function decodeBody(body: unknown): CommitMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RangeError('not an object');
  const o = body as Record<string, unknown>;
  // `m` only on a compaction commit: metadata written before it has none.
  const keys = Object.keys(o)
    .filter((k) => k !== 'm')
    .sort()
    .join(',');
  if (keys !== 'f,id,r,t,w' && keys !== 'id,l,r,t,w') throw new RangeError(`keys ${keys}`);
  const topicId = o.t;
  if (topicId !== null && (typeof topicId !== 'string' || !TOPIC_ID.test(topicId))) throw new RangeError('topic id');
  const writer = o.id;
  if (typeof writer !== 'string' || !WRITER.test(writer)) throw new RangeError('writer id');
  return {
    v: 1,
    topicId,
    raw: canonicalOffsetOrNone(o.r, 'raw'),
    win: o.w === null ? null : canonicalOffsetOrNone(o.w, 'win'),
    writer,
    files: o.f === undefined ? { listedByRange: decodeRange(o.l) } : decodeFiles(o.f),
    ...(o.m === undefined ? {} : { merge: decodeMerge(o.m) }),
  };
}

function decodeRange(value: unknown): OffsetRange {
  if (!Array.isArray(value) || value.length !== 2) throw new RangeError('range');
  const first = canonicalOffset(value[0], 'first');
  const last = canonicalOffset(value[1], 'last');
  if (BigInt(first) > BigInt(last)) throw new RangeError(`range ${first}-${last}: first > last`);
  return { first, last };
}

function decodeFiles(value: unknown): CommitFile[] {
  if (!Array.isArray(value)) throw new RangeError('files');
  const files: CommitFile[] = [];
  for (const group of value) {
    if (!Array.isArray(group) || group.length !== 3) throw new RangeError('file group');
    const { first, last } = decodeRange(group.slice(0, 2));
    const tables = group[2] as unknown;
    if (typeof tables !== 'object' || tables === null || Array.isArray(tables)) throw new RangeError('file tables');
    const codes = Object.keys(tables);
    if (codes.length === 0) throw new RangeError(`range ${first}-${last} names no file`);
    for (const code of codes) {
      const table = TABLE_CODES.find(([, c]) => c === code)?.[0];
      if (table === undefined) throw new RangeError(`table code ${JSON.stringify(code)}`);
      for (const dt of decodeDays((tables as Record<string, unknown>)[code])) files.push({ table, dt, first, last });
    }
  }
  return canonicalFiles(files);
}

/** Files in the order decode gives them: by range, then table (clickstream, iot, _rejected), then dt. */
export function canonicalFiles(files: readonly CommitFile[]): CommitFile[] {
  const order = (t: TableName): number => TABLE_CODES.findIndex(([table]) => table === t);
  return [...files].sort((a, b) => compareRanges(a, b) || order(a.table) - order(b.table) || a.dt.localeCompare(b.dt));
}

// ---- renames ----

/**
 * The lake-relative tmp → final renames the commit publishes, names made by layout.ts. A list by range needs the
 * partition's tmp files (lake/partitionTmpFiles.ts): the renames are those of the commit's writer and range.
 */
export function renamesOf(m: CommitMetadata, topic: string, partition: number, tmpFiles?: readonly string[]): Rename[] {
  if (isListedByRange(m.files)) {
    if (tmpFiles === undefined) throw new RangeError('commit metadata listed by range: its renames need the tmp files');
    const { first, last } = m.files.listedByRange;
    const renames: Rename[] = [];
    for (const path of tmpFiles) {
      const name = parsePartitionFileName(path, topic, partition, ['clickstream', 'iot', '_rejected']);
      if (name?.tmp && name.writer === m.writer && name.first === first && name.last === last)
        renames.push({ from: path, to: name.final });
    }
    return renames.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  }
  return m.files.map((file) => {
    const final = finalPathOf(file, topic, partition);
    return { from: tmpPathFor(final, m.writer), to: final };
  });
}

/** The lake-relative final path of a commit's file. */
export function finalPathOf(file: CommitFile, topic: string, partition: number): string {
  if (file.table === '_rejected') return rejectedFilePath('', file.dt, topic, partition, file.first, file.last);
  if (file.table === 'clickstream' || file.table === 'iot')
    return rawFilePath('', file.table, file.dt, partition, file.first, file.last);
  throw new RangeError(`a partition commit publishes no ${file.table} file`);
}
