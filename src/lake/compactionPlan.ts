/**
 * Which files compaction merges (architecture.md, "Compaction"). Pure: names and sizes in, merges out.
 *
 * - Per unit (one writer's files of one day, lake/layout.ts), never across units: a merged file replaces files of one
 *   directory, exchanged whole (readerSafeSwap.ts).
 * - Files in offset order, cut into runs of about `targetBytes`; a run of one file is left alone. The merged name
 *   keeps the offsets: `part-<p>-<first of the first>-<last of the last>` (`_rejected`: `part-<topic>-<p>-…`,
 *   a stage-2 task's windows: `part-<r>-…`), so verify, the rebuild from file names and a takeover read merged and
 *   unmerged files alike. No other file of the unit lies inside that range: a unit's ranges never intersect.
 * - Never a file of its writer's newest commit: the checkpoint store or the commit metadata may still name it in a
 *   rename to complete, and a takeover must find it (architecture.md, "The takeover order").
 * - The process-mode aggregator's unit `agg` by checkpoint ids instead of offsets: `part-<checkpointId>` and merged
 *   `part-<firstId>-<lastId>` (lake/aggFileName.ts), one writer (`agg`) whose newest checkpoint's files stay.
 */
import { AGG_NAME_PATTERN } from './aggFileName.js';
import { AGG_UNIT, formatOffset } from './layout.js';
import type { TableName } from './tables.js';

export interface UnitFile {
  /** Lake-relative: `tables/<table>/dt=D/<unit>/<name>`. */
  path: string;
  sizeBytes: number;
}

export interface PlannedMerge {
  table: TableName;
  dt: string;
  unit: string;
  /** Names in the unit, in offset order. */
  inputs: string[];
  inputBytes: number;
  /** Name of the merged file in the unit. */
  merged: string;
}

export interface CompactionFilter {
  table?: TableName;
  dt?: string;
}

interface Parsed {
  table: TableName;
  dt: string;
  unit: string;
  name: string;
  /** Everything of the name before `-<first>-<last>.parquet`: `part-<p>`, `part-<topic>-<p>`, `part` (`agg`). */
  prefix: string;
  /** The writer whose newest commit is kept: `<topic>:<p>` for raw and `_rejected` files, `r<r>` for a task's, `agg`. */
  writer: string;
  first: bigint;
  last: bigint;
  sizeBytes: number;
}

const IN_UNIT = /^tables\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/([^/]+)\/((part-.+)-(\d{20})-(\d{20})\.parquet)$/;
const IN_AGG_UNIT = new RegExp(`^tables/clickstream_agg/dt=(\\d{4}-\\d{2}-\\d{2})/${AGG_UNIT}/(${AGG_NAME_PATTERN})$`);
const RAW_PREFIX = /^part-(\d+)$/;
const REJECTED_PREFIX = /^part-(.+)-(\d+)$/;

function parse(file: UnitFile, rawTopics: Record<'clickstream' | 'iot', string>): Parsed | undefined {
  const m = IN_UNIT.exec(file.path);
  if (!m) return parseAgg(file);
  const table = m[1] as TableName;
  const prefix = m[5]!;
  let writer: string | undefined;
  if (table === 'clickstream' || table === 'iot') {
    // A roll writes a partition's raw and `_rejected` files with one range: one writer, one newest commit.
    const p = RAW_PREFIX.exec(prefix);
    if (p) writer = `${rawTopics[table]}:${p[1]}`;
  } else if (table === '_rejected') {
    const r = REJECTED_PREFIX.exec(prefix);
    if (r) writer = `${r[1]}:${r[2]}`;
  } else {
    const r = RAW_PREFIX.exec(prefix);
    if (r) writer = `r${r[1]}`;
  }
  if (writer === undefined) return undefined;
  const first = BigInt(m[6]!);
  const last = BigInt(m[7]!);
  if (first > last) return undefined;
  return { table, dt: m[2]!, unit: m[3]!, name: m[4]!, prefix, writer, first, last, sizeBytes: file.sizeBytes };
}

/** A file of the process aggregator's unit: its checkpoint ids stand for offsets. */
function parseAgg(file: UnitFile): Parsed | undefined {
  const m = IN_AGG_UNIT.exec(file.path);
  if (!m) return undefined;
  const first = BigInt(m[3]!);
  const last = BigInt(m[4] ?? m[3]!);
  if (first > last) return undefined;
  const [table, unit, name, prefix, writer] = ['clickstream_agg' as const, AGG_UNIT, m[2]!, 'part', AGG_UNIT];
  return { table, dt: m[1]!, unit, name, prefix, writer, first, last, sizeBytes: file.sizeBytes };
}

/**
 * The merges that bring every unit's committed files towards `targetBytes`. `rawTopics` maps a raw table to its topic,
 * so that a partition's `_rejected` files share its newest commit: `{ clickstream: 'clickstream', iot: 'iot' }`.
 */
export function planCompaction(
  files: readonly UnitFile[],
  targetBytes: number,
  rawTopics: Record<'clickstream' | 'iot', string>,
  filter: CompactionFilter = {},
): PlannedMerge[] {
  const parsed = files.map((f) => parse(f, rawTopics)).filter((f): f is Parsed => f !== undefined);
  const newest = new Map<string, bigint>();
  for (const f of parsed) {
    const seen = newest.get(f.writer);
    if (seen === undefined || f.last > seen) newest.set(f.writer, f.last);
  }
  const units = new Map<string, Parsed[]>();
  for (const f of parsed) {
    if (filter.table !== undefined && f.table !== filter.table) continue;
    if (filter.dt !== undefined && f.dt !== filter.dt) continue;
    if (f.last === newest.get(f.writer)) continue;
    const key = `${f.table}/${f.dt}/${f.unit}/${f.prefix}`;
    let list = units.get(key);
    if (!list) units.set(key, (list = []));
    list.push(f);
  }
  const merges: PlannedMerge[] = [];
  for (const list of [...units.values()]) {
    list.sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let run: Parsed[] = [];
    let runBytes = 0;
    const close = (): void => {
      if (run.length >= 2) merges.push(mergeOf(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const f of list) {
      // A file already as large as the target stays as it is; the run before it closes.
      if (f.sizeBytes >= targetBytes) {
        close();
        continue;
      }
      if (run.length > 0 && runBytes + f.sizeBytes > targetBytes) close();
      run.push(f);
      runBytes += f.sizeBytes;
    }
    close();
  }
  return merges.sort((a, b) =>
    `${a.table}/${a.dt}/${a.unit}/${a.merged}` < `${b.table}/${b.dt}/${b.unit}/${b.merged}` ? -1 : 1,
  );
}

/** `<prefix>-<first>-<last>.parquet`: every merged file's name, its range zero-padded (offsets or checkpoint ids). */
export function mergedFileName(prefix: string, first: bigint, last: bigint): string {
  if (first > last) throw new RangeError(`expected first <= last, got ${first} > ${last}`);
  return `${prefix}-${formatOffset(first)}-${formatOffset(last)}.parquet`;
}

function mergeOf(run: readonly Parsed[], bytes: number): PlannedMerge {
  const head = run[0]!;
  return {
    table: head.table,
    dt: head.dt,
    unit: head.unit,
    inputs: run.map((f) => f.name),
    inputBytes: bytes,
    merged: mergedFileName(head.prefix, head.first, run[run.length - 1]!.last),
  };
}
