import path from 'node:path';
import type { TableName } from './tables.js';

/**
 * Deterministic lake paths (architecture.md, "The checkpoint protocol"). Recovery re-derives these names from committed
 * checkpoints, so every function here is pure: same inputs, same path, on every run.
 *
 *   <root>/tables/<table>/dt=YYYY-MM-DD/p<partition>/part-<partition>-<firstOffset>-<lastOffset>.parquet   raw tables
 *   <root>/tables/clickstream_agg/dt=YYYY-MM-DD/agg/part-<checkpointId>.parquet                 window aggregator
 *   <root>/tables/clickstream_agg/dt=YYYY-MM-DD/r<r>/part-<r>-<firstOffset>-<lastOffset>.parquet   stage-2 task r
 *   <root>/tables/_rejected/dt=YYYY-MM-DD/p<partition>-<topic>/part-<topic>-<partition>-<first>-<last>.parquet
 *   <root>/tables/<table>/dt=YYYY-MM-DD/.<final name>.<storeId>.tmp                          not committed yet
 *
 * The directory between `dt=` and a final file is its writer's *unit* (architecture.md, "Who rewrites a partition's
 * files"): one owner writes it, so compaction can exchange it whole and no reader sees a row twice. Tmp files stay
 * in the dt directory: an exchange must not carry a tmp file away. Lakes written before units have final files
 * directly in the dt directory; the start moves them (unitMigration.ts), and every parser accepts both.
 *
 * Offsets and checkpoint ids are zero-padded to 20 digits, as Kafka names its log segments, so
 * that a plain lexical listing of a partition's files is in offset order. Partitions are not padded.
 */

export const TABLES_DIR = 'tables';
export const TMP_SUFFIX = '.tmp';

/** An int64 offset as Kafka hands it over (decimal string), or as a bigint or safe integer. */
export type OffsetLike = string | bigint | number;

const OFFSET_DIGITS = 20;
const INT64_MAX = 2n ** 63n - 1n;
const MS_PER_DAY = 86_400_000;
// Years 0000..9999, the range a dt=YYYY-MM-DD directory can name.
const MIN_DT_MS = -62_167_219_200_000;
const MAX_DT_MS = 253_402_300_799_999;

export function tableDir(root: string, table: TableName): string {
  return path.join(root, TABLES_DIR, table);
}

export function partitionDir(root: string, table: TableName, dt: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(dt)) throw new RangeError(`expected dt as YYYY-MM-DD, got ${JSON.stringify(dt)}`);
  return path.join(root, TABLES_DIR, table, `dt=${dt}`);
}

// One-entry memo: a writer asks for the dt of every row, and consecutive rows share a day.
let memoDay = Number.NaN;
let memoDt = '';

/** The UTC date (YYYY-MM-DD) of an epoch-ms instant. */
export function dtOfMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < MIN_DT_MS || ms > MAX_DT_MS) {
    throw new RangeError(`expected epoch ms within years 0000..9999, got ${ms}`);
  }
  const day = Math.floor(ms / MS_PER_DAY);
  if (day !== memoDay) {
    memoDt = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
    memoDay = day;
  }
  return memoDt;
}

/** Canonical 20-digit form of a non-negative int64; throws on anything else. */
export function formatOffset(offset: OffsetLike): string {
  let value: bigint;
  if (typeof offset === 'bigint') {
    value = offset;
  } else if (typeof offset === 'number') {
    if (!Number.isSafeInteger(offset)) throw new RangeError(`expected an integer offset, got ${offset}`);
    value = BigInt(offset);
  } else {
    if (!/^\d{1,19}$/.test(offset))
      throw new RangeError(`expected a decimal int64 offset, got ${JSON.stringify(offset)}`);
    value = BigInt(offset);
  }
  if (value < 0n || value > INT64_MAX) throw new RangeError(`expected an offset in [0, 2^63-1], got ${value}`);
  return value.toString().padStart(OFFSET_DIGITS, '0');
}

function formatPartition(partition: number): string {
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) {
    throw new RangeError(`expected a partition number, got ${partition}`);
  }
  return String(partition);
}

function formatRange(firstOffset: OffsetLike, lastOffset: OffsetLike): string {
  const first = formatOffset(firstOffset);
  const last = formatOffset(lastOffset);
  // Same width, so lexical order is numeric order.
  if (first > last) throw new RangeError(`expected firstOffset <= lastOffset, got ${first} > ${last}`);
  return `${first}-${last}`;
}

/** Legal Kafka topic characters only; also keeps a topic from escaping its directory. */
function formatTopic(topic: string): string {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') {
    throw new RangeError(`expected a Kafka topic name, got ${JSON.stringify(topic)}`);
  }
  return topic;
}

/** The unit of a raw table's partition: `p<partition>`. */
export function rawUnit(partition: number): string {
  return `p${formatPartition(partition)}`;
}

/** The unit of `_rejected` records of one input partition: `p<partition>-<topic>` (starts with a letter, no `=`). */
export function rejectedUnit(topic: string, partition: number): string {
  return `p${formatPartition(partition)}-${formatTopic(topic)}`;
}

/** The unit of the process-mode window aggregator's files. */
export const AGG_UNIT = 'agg';

/** The unit of stage-2 task r's window files: `r<r>`. */
export function aggTaskUnit(partition: number): string {
  return `r${formatPartition(partition)}`;
}

/** `<root>/tables/<table>/dt=<dt>/<unit>`. */
export function unitPath(root: string, table: TableName, dt: string, unit: string): string {
  return path.join(partitionDir(root, table, dt), unit);
}

export function rawFileName(partition: number, firstOffset: OffsetLike, lastOffset: OffsetLike): string {
  return `part-${formatPartition(partition)}-${formatRange(firstOffset, lastOffset)}.parquet`;
}

export function aggFileName(checkpointId: OffsetLike): string {
  return `part-${formatOffset(checkpointId)}.parquet`;
}

export function rejectedFileName(
  topic: string,
  partition: number,
  firstOffset: OffsetLike,
  lastOffset: OffsetLike,
): string {
  return `part-${formatTopic(topic)}-${formatPartition(partition)}-${formatRange(firstOffset, lastOffset)}.parquet`;
}

/** Final path of a raw table file (`clickstream` or `iot`) for the rows of day `dt`. */
export function rawFilePath(
  root: string,
  table: 'clickstream' | 'iot',
  dt: string,
  partition: number,
  firstOffset: OffsetLike,
  lastOffset: OffsetLike,
): string {
  return path.join(unitPath(root, table, dt, rawUnit(partition)), rawFileName(partition, firstOffset, lastOffset));
}

/** Final path of the windows of day `dt` emitted by checkpoint `checkpointId`. */
export function aggFilePath(root: string, dt: string, checkpointId: OffsetLike): string {
  return path.join(unitPath(root, 'clickstream_agg', dt, AGG_UNIT), aggFileName(checkpointId));
}

/**
 * `part-<r>-<first>-<last>.parquet`: the windows the stage-2 task of repartition partition r emitted with the commit
 * covering its input offsets first..last (architecture.md, "Windows across members"). Named like a raw file, in the
 * `clickstream_agg` table: the offsets in the name tell a reader which records of `<group>-pv-repartition` it holds,
 * and a new owner of r which of its tmp files a commit named. Never an aggregator's name: `part-<checkpointId>` and
 * its merged `part-<firstId>-<lastId>` have one or two numbers (aggFileName.ts), this one three.
 */
export function aggTaskFileName(partition: number, firstOffset: OffsetLike, lastOffset: OffsetLike): string {
  return rawFileName(partition, firstOffset, lastOffset);
}

/** Final path of the windows of day `dt` that stage-2 task `partition` emitted with its commit of first..last. */
export function aggTaskFilePath(
  root: string,
  dt: string,
  partition: number,
  firstOffset: OffsetLike,
  lastOffset: OffsetLike,
): string {
  return path.join(
    unitPath(root, 'clickstream_agg', dt, aggTaskUnit(partition)),
    aggTaskFileName(partition, firstOffset, lastOffset),
  );
}

/** Final path of rejected records whose Kafka record timestamp falls on day `dt`. */
export function rejectedFilePath(
  root: string,
  dt: string,
  topic: string,
  partition: number,
  firstOffset: OffsetLike,
  lastOffset: OffsetLike,
): string {
  return path.join(
    unitPath(root, '_rejected', dt, rejectedUnit(topic, partition)),
    rejectedFileName(topic, partition, firstOffset, lastOffset),
  );
}

/**
 * Where a file is written before the checkpoint that commits it renames it to `finalPath`:
 * `.<final name>.<storeId>.tmp` in its dt directory (beside its unit, never inside it). The leading dot hides it from readers that take every file not starting
 * with `.` or `_` whatever its extension (Spark, pyarrow and pandas), so none reads rows not committed yet; DuckDB's
 * `*.parquet` globs skip it by its extension. The checkpoint store's id in the name lets recovery delete only the tmp
 * files of its own store when several share one lake; final names do not carry it.
 */
export function tmpPathFor(finalPath: string, storeId?: string): string {
  // Without a store id: the name builds before store ids used (one process per lake).
  if (storeId !== undefined && !/^[0-9a-f]{1,32}$/.test(storeId))
    throw new RangeError(`expected a checkpoint store id (hex), got ${JSON.stringify(storeId)}`);
  const suffix = storeId === undefined ? TMP_SUFFIX : `.${storeId}${TMP_SUFFIX}`;
  return path.join(dtDirOf(finalPath), `.${path.basename(finalPath)}${suffix}`);
}

/** The dt directory of a final path when the file is in a unit; its parent otherwise. */
function dtDirOf(finalPath: string): string {
  const parent = path.dirname(finalPath);
  const grandparent = path.dirname(parent);
  return !path.basename(parent).startsWith('dt=') && path.basename(grandparent).startsWith('dt=')
    ? grandparent
    : parent;
}

/**
 * The name a tmp file had before tmp files were hidden (`<final>.<storeId>.tmp`, no leading dot); any other path as
 * it is. Parsers read both forms through it, and a takeover finds a commit's tmp file written before the change.
 */
export function unhiddenTmpPath(filePath: string): string {
  const slash = filePath.lastIndexOf('/');
  const name = filePath.slice(slash + 1);
  if (!name.startsWith('.') || !name.endsWith(TMP_SUFFIX)) return filePath;
  return `${filePath.slice(0, slash + 1)}${name.slice(1)}`;
}

export function isTmpPath(filePath: string): boolean {
  return filePath.endsWith(TMP_SUFFIX);
}

/**
 * The store id a tmp file was written under; null for a tmp name without one (written before store
 * ids existed, when one process owned the lake).
 */
export function tmpStoreId(filePath: string): string | null {
  const match = /\.parquet\.([0-9a-f]{1,32})\.tmp$/.exec(filePath);
  return match ? match[1]! : null;
}
