/**
 * Which offsets the lake's raw files cover, read from their names alone (architecture.md, "The checkpoint
 * protocol": `part-<p>-<first>-<last>.parquet` in a raw table and `part-<topic>-<p>-<first>-<last>.parquet` in
 * `_rejected` are written by the same roll with the same range). Shared by the chaos run, `check:scale-out` and the
 * integration tests' lake checks (test/integration/helpers/lakeChecks.ts re-exports it).
 *
 * Two rules:
 * - `tilingProblems`: the ranges tile [0, end) of every partition (no gap, no overlap). Right for topics written
 *   without transactions, where every offset is a record.
 * - `coverProblems`: for transactional topics, whose logs hold commit markers and records of aborted transactions
 *   between the committed records (a roll's first and last are records the ETL read): no two ranges overlap, every
 *   committed record lies in a range, and every range starts and ends on a committed record.
 */
import { MANIFEST_FILE } from '../src/lake/dayManifest.js';
import { listLakeFiles } from '../src/lake/lakeFiles.js';

/** Final names of architecture.md, "The checkpoint protocol" (offsets zero-padded to 20 digits), below a table. */
export const RAW_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/(?:[^/]+\/)?part-(\d+)-(\d{20})-(\d{20})\.parquet$/;
export const REJECTED_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/(?:[^/]+\/)?part-(.+)-(\d+)-(\d{20})-(\d{20})\.parquet$/;
export const AGG_FILE = /^dt=(\d{4}-\d{2}-\d{2})\/(?:[^/]+\/)?part-(\d{20})\.parquet$/;

/** Offsets `first..last`, both included. */
export interface OffsetRange {
  first: bigint;
  last: bigint;
}

export interface RangeProblem {
  partition: number;
  problem: string;
}

export interface LakeRanges {
  /**
   * partition → the ranges of its files (raw table and the topic's `_rejected`), sorted by first, ranges that
   * intersect joined: one roll names the same range in every dt it wrote, and compaction merges a unit's files of one
   * dt into one range that the same rolls' files in another dt only intersect (architecture.md, "Compaction").
   */
  ranges: Map<number, OffsetRange[]>;
  /** Ranges that intersect within one directory of one dt (a unit's files never do: a record written twice). */
  overlaps: RangeProblem[];
  /** Files of the two tables whose names follow no rule, tmp files excluded. */
  badNames: string[];
  /** `*.tmp` files of the two tables (paths below the lake root): none may be left once every member stopped. */
  tmpFiles: string[];
}

function byFirst(a: OffsetRange, b: OffsetRange): number {
  return a.first < b.first ? -1 : a.first > b.first ? 1 : a.last < b.last ? -1 : a.last > b.last ? 1 : 0;
}

/** The ranges the raw `table` and `_rejected` name for `topic`, read from the file names under `lakeRoot`. */
export function lakeFileRanges(lakeRoot: string, table: 'clickstream' | 'iot', topic: string): LakeRanges {
  // partition → directory of a dt (table and dt) → its files' ranges
  const byDir = new Map<number, Map<string, OffsetRange[]>>();
  const badNames: string[] = [];
  const tmpFiles: string[] = [];
  const add = (partition: number, dir: string, first: string, last: string): void => {
    const dirs = byDir.get(partition) ?? new Map<string, OffsetRange[]>();
    const list = dirs.get(dir) ?? [];
    list.push({ first: BigInt(first), last: BigInt(last) });
    dirs.set(dir, list);
    byDir.set(partition, dirs);
  };
  for (const { path } of listLakeFiles(lakeRoot)) {
    const [, dir, ...rest] = path.split('/');
    const name = rest.join('/');
    if (dir !== table && dir !== '_rejected') continue;
    // A sealed day's manifest (or its tmp) indexes the files; it is none (architecture.md, "Sealed days").
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base === MANIFEST_FILE || base.startsWith(`.${MANIFEST_FILE}.`)) continue;
    if (name.endsWith('.tmp')) {
      // A `_rejected` tmp file of the other topic is that topic's business.
      if (dir === table || name.includes(`/part-${topic}-`) || name.includes(`/.part-${topic}-`)) tmpFiles.push(path);
      continue;
    }
    if (dir === table) {
      const m = RAW_FILE.exec(name);
      if (!m) badNames.push(`${table}/${name}`);
      else add(Number(m[2]), `${table}/dt=${m[1]}`, m[3]!, m[4]!);
    } else {
      const m = REJECTED_FILE.exec(name);
      if (!m) badNames.push(`_rejected/${name}`);
      else if (m[2] === topic) add(Number(m[3]), `_rejected/dt=${m[1]}`, m[4]!, m[5]!);
    }
  }
  const ranges = new Map<number, OffsetRange[]>();
  const overlaps: RangeProblem[] = [];
  for (const [partition, dirs] of byDir) {
    const all: OffsetRange[] = [];
    for (const [dir, list] of dirs) {
      list.sort(byFirst);
      for (let i = 1; i < list.length; i++) {
        const [a, b] = [list[i - 1]!, list[i]!];
        if (b.first <= a.last)
          overlaps.push({
            partition,
            problem: `overlap in ${dir}: range ${b.first}-${b.last} starts before ${a.last + 1n}`,
          });
      }
      all.push(...list);
    }
    ranges.set(partition, joinIntersecting(all.sort(byFirst)));
  }
  return { ranges, overlaps, badNames, tmpFiles };
}

/** Sorted ranges with every intersecting pair joined into one (ranges that only touch stay apart). */
export function joinIntersecting(sorted: readonly OffsetRange[]): OffsetRange[] {
  const out: OffsetRange[] = [];
  for (const range of sorted) {
    const previous = out[out.length - 1];
    if (previous && range.first <= previous.last) {
      if (range.last > previous.last) out[out.length - 1] = { first: previous.first, last: range.last };
    } else out.push({ ...range });
  }
  return out;
}

/** Problems of `ranges` (sorted by first) as a tiling of [0, end): gaps, overlaps, empty ranges, a wrong end. */
export function tilingProblems(ranges: readonly OffsetRange[], end: bigint): string[] {
  const problems: string[] = [];
  let next = 0n;
  for (const { first, last } of ranges) {
    if (first !== next)
      problems.push(
        first > next
          ? `gap: offsets ${next}..${first - 1n} in no file`
          : `overlap: range ${first}-${last} starts before ${next}`,
      );
    if (last < first) problems.push(`empty range ${first}-${last}`);
    if (last + 1n > next) next = last + 1n;
  }
  if (next !== end) problems.push(`files cover up to ${next}, the partition ends at ${end}`);
  return problems;
}

/** Whether `offset` lies in one of `runs` (sorted, disjoint). */
function inRuns(runs: readonly OffsetRange[], offset: bigint): boolean {
  let low = 0;
  let high = runs.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const run = runs[mid]!;
    if (offset < run.first) high = mid - 1;
    else if (offset > run.last) low = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Problems of `ranges` (sorted by first) against the committed records of a transactional partition, given as
 * `committed` runs of consecutive offsets (sorted, disjoint): overlaps, committed offsets in no range, and ranges
 * whose first or last offset is no committed record (a range reaching into an aborted transaction or a marker).
 * At most `limit` problems are listed, then how many more there were.
 */
export function coverProblems(ranges: readonly OffsetRange[], committed: readonly OffsetRange[], limit = 20): string[] {
  const problems: string[] = [];
  let more = 0;
  const report = (problem: string): void => {
    if (problems.length < limit) problems.push(problem);
    else more += 1;
  };
  let previous: OffsetRange | undefined;
  for (const range of ranges) {
    if (range.last < range.first) report(`empty range ${range.first}-${range.last}`);
    if (previous && range.first <= previous.last)
      report(`overlap: range ${range.first}-${range.last} starts before ${previous.last + 1n}`);
    if (!inRuns(committed, range.first)) report(`range ${range.first}-${range.last} starts on no committed record`);
    if (!inRuns(committed, range.last)) report(`range ${range.first}-${range.last} ends on no committed record`);
    if (!previous || range.last > previous.last) previous = range;
  }
  let i = 0;
  for (const run of committed) {
    let position = run.first;
    while (position <= run.last) {
      while (i < ranges.length && ranges[i]!.last < position) i += 1;
      const range = ranges[i];
      if (range === undefined || range.first > position) {
        const gapEnd = range === undefined || range.first - 1n > run.last ? run.last : range.first - 1n;
        report(`gap: committed offsets ${position}..${gapEnd} in no file`);
        position = gapEnd + 1n;
      } else position = range.last + 1n;
    }
  }
  if (more > 0) problems.push(`… and ${more} more`);
  return problems;
}

/**
 * The distinct offset ranges named by the raw table's files and the topic's `_rejected` files must
 * tile [0, end) of every partition: no gap (nothing lost), no overlap (nothing written twice).
 * Returns the problems found (empty when the lake is right), the names that follow no rule (tmp files
 * included), and the number of ranges (intersecting ones joined).
 */
export function checkRangeTiling(
  lakeRoot: string,
  table: 'clickstream' | 'iot',
  topic: string,
  ends: ReadonlyMap<number, bigint>,
): { problems: RangeProblem[]; badNames: string[]; ranges: number } {
  const lake = lakeFileRanges(lakeRoot, table, topic);
  const problems: RangeProblem[] = [...lake.overlaps];
  let count = 0;
  for (const [partition, end] of ends) {
    const ranges = lake.ranges.get(partition) ?? [];
    count += ranges.length;
    for (const problem of tilingProblems(ranges, end)) problems.push({ partition, problem });
  }
  const badNames = [...lake.badNames, ...lake.tmpFiles.map((p) => p.slice('tables/'.length))];
  return { problems, badNames, ranges: count };
}
