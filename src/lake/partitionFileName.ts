/**
 * Which files of the lake belong to one input partition (architecture.md, "Growing past one machine, and who
 * rewrites a partition's files"): `tables/<clickstream|iot>/dt=…/part-<p>-<first>-<last>.parquet` and
 * `tables/_rejected/dt=…/part-<topic>-<p>-<first>-<last>.parquet`, final or tmp (`<final>.<writerId>.tmp`, or the
 * legacy `<final>.tmp`), as layout.ts names them. Pure.
 *
 * Exact on topic and partition: in `_rejected`, `part-clicks-1-0-…` is partition 0 of topic `clicks-1`, never a file
 * of partition 1 of `clicks`, because the 20-digit offsets must follow the partition at once.
 */
import { rawUnit, rejectedUnit, unhiddenTmpPath } from './layout.js';
import type { TableName } from './tables.js';

/** The tables a partition's own files live in (`clickstream_agg` belongs to the window stage). */
export type PartitionTable = 'clickstream' | 'iot' | '_rejected';

export interface PartitionFileName {
  /** As given, lake-relative. */
  path: string;
  table: PartitionTable;
  dt: string;
  /** The roll's offset range, canonical decimal (no zero padding). */
  first: string;
  last: string;
  tmp: boolean;
  /** The writer id a tmp name carries; null for a final file or a legacy tmp name without one. */
  writer: string | null;
  /** The final path (lake-relative, `/`-separated): the path itself for a final file, in the unit for a tmp file. */
  final: string;
}

// A final file in its unit (`dt=…/<unit>/<name>`) or, in a lake from before units, in the dt directory; a tmp file
// always in the dt directory (layout.ts).
const PATH = /^(tables\/(clickstream|iot|_rejected)\/dt=(\d{4}-\d{2}-\d{2}))\/(?:([^/]+)\/)?([^/]+)$/;
const TAIL = '-(\\d{20})-(\\d{20})\\.parquet(?:(?:\\.([0-9a-f]{1,32}))?(\\.tmp))?$';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The name pattern of one partition's files in `table`. */
export function partitionNamePattern(table: PartitionTable, topic: string, partition: number): RegExp {
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`expected a partition, got ${partition}`);
  const owner = table === '_rejected' ? `${escapeRegExp(topic)}-${partition}` : String(partition);
  return new RegExp(`^part-${owner}${TAIL}`);
}

export function isPartitionTable(table: TableName): table is PartitionTable {
  return table === 'clickstream' || table === 'iot' || table === '_rejected';
}

/**
 * The parts of a lake-relative path if it is a file of `partition` of `topic` in one of `tables`; undefined for any
 * other file (another partition, another topic, another table, a name no writer gives).
 */
export function parsePartitionFileName(
  path: string,
  topic: string,
  partition: number,
  tables: readonly TableName[],
): PartitionFileName | undefined {
  // A hidden tmp name (`.part-…`) parses as the name it had before tmp files were hidden (layout.ts).
  const normalized = unhiddenTmpPath(path.split('\\').join('/'));
  const m = PATH.exec(normalized);
  if (!m) return undefined;
  const table = m[2] as PartitionTable;
  if (!tables.includes(table)) return undefined;
  const n = partitionNamePattern(table, topic, partition).exec(m[5]!);
  if (!n) return undefined;
  const first = BigInt(n[1]!);
  const last = BigInt(n[2]!);
  if (first > last) return undefined;
  const tmp = n[4] !== undefined;
  const unit = table === '_rejected' ? rejectedUnit(topic, partition) : rawUnit(partition);
  // Only the owner's unit: a file of p elsewhere is not p's (verify names it).
  if (m[4] !== undefined && (tmp || m[4] !== unit)) return undefined;
  const suffix = (n[3] === undefined ? '' : `.${n[3]}`) + (tmp ? '.tmp' : '');
  const name = m[5]!.slice(0, m[5]!.length - suffix.length);
  return {
    path,
    table,
    dt: m[3]!,
    first: first.toString(),
    last: last.toString(),
    tmp,
    writer: n[3] ?? null,
    final: tmp ? `${m[1]}/${unit}/${name}` : normalized,
  };
}
