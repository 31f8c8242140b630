/**
 * How offset ranges tile a partition's offsets (architecture.md, "Verifying the lake"). Pure.
 *
 * The ETL names every file of a roll with the roll's range `[first, last]`, both offsets of data
 * records (partition actor: the first and last record it appended); between two rolls lie only
 * transaction markers and records of aborted transactions, which read_committed never delivers.
 * Compaction merges consecutive files of one (table, dt) into one named with their whole range. So
 * the files of one (table, dt) never intersect (an overlap: records written twice), and what lies
 * between the components of all of them (components.ts) must hold no committed record (a gap) —
 * which only Kafka can tell.
 */

/** Inclusive offsets. */
export interface OffsetRange {
  first: bigint;
  last: bigint;
}

export interface Overlap {
  /** The earlier range (the one reaching furthest so far) and the one starting inside it. */
  earlier: OffsetRange;
  later: OffsetRange;
}

export interface Tiling<R extends OffsetRange> {
  /** Holes between consecutive ranges, and from `from` to the first range. */
  gaps: OffsetRange[];
  overlaps: Array<Overlap & { earlierItem: R; laterItem: R }>;
  /** After the last range up to `upTo` (the checkpointed offset), when `upTo` is beyond it. */
  tail: OffsetRange | undefined;
  /** The last offset any range covers; `from - 1` when there are none. */
  coveredTo: bigint;
}

export function compareRanges(a: OffsetRange, b: OffsetRange): number {
  if (a.first !== b.first) return a.first < b.first ? -1 : 1;
  return a.last < b.last ? -1 : a.last > b.last ? 1 : 0;
}

/**
 * Gaps, overlaps and the tail of `ranges` (any order, each `first <= last`) over `[from, upTo]`.
 * Touching ranges (`next.first == prev.last + 1`) are neither. A range nested in another overlaps it.
 */
export function tileRanges<R extends OffsetRange>(
  ranges: readonly R[],
  from: bigint,
  upTo: bigint | undefined,
): Tiling<R> {
  const sorted = [...ranges].sort(compareRanges);
  const gaps: OffsetRange[] = [];
  const overlaps: Tiling<R>['overlaps'] = [];
  let next = from;
  let reaching: R | undefined;
  for (const range of sorted) {
    if (range.last < range.first) throw new RangeError(`range ${range.first}..${range.last} ends before it starts`);
    if (range.first > next) gaps.push({ first: next, last: range.first - 1n });
    else if (reaching !== undefined && range.first < next)
      overlaps.push({ earlier: reaching, later: range, earlierItem: reaching, laterItem: range });
    if (range.last + 1n > next) {
      next = range.last + 1n;
      reaching = range;
    }
  }
  const tail = upTo !== undefined && upTo >= next ? { first: next, last: upTo } : undefined;
  return { gaps, overlaps, tail, coveredTo: next - 1n };
}

/** The parts of `range` below `logStart` (Kafka no longer holds them) and from it on. */
export function splitAtLogStart(
  range: OffsetRange,
  logStart: bigint,
): { gone: OffsetRange | undefined; held: OffsetRange | undefined } {
  if (range.last < logStart) return { gone: range, held: undefined };
  if (range.first >= logStart) return { gone: undefined, held: range };
  return { gone: { first: range.first, last: logStart - 1n }, held: { first: logStart, last: range.last } };
}
