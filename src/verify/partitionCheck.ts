/**
 * The checks of one raw partition (architecture.md, "Verifying the lake"), pure: which offset
 * ranges Kafka must count (`planPartition`), then what those counts prove (`judgePartition`).
 *
 * - Rolls (the files of one range, lakeInventory.ts) must not overlap, and each must hold as many
 *   rows (raw + `_rejected`, from the footers) as Kafka holds committed records in its range.
 * - A gap between rolls, and the range after the last roll up to the checkpointed offset, must
 *   hold no committed record (transaction markers and aborted records only).
 * - What lies below the log start offset Kafka no longer holds: such a range is checked by the
 *   tiling alone and counted as unverifiable.
 * - What retention deleted (the expiry record's ranges) takes part in the tiling as a range the lake
 *   holds nothing of on purpose: no gap, not counted, reported as expired; a roll inside one lost
 *   some of its dt files, so its count is not compared either.
 */
import type { Finding } from './findings.js';
import { rollFiles, rollInScope, type Roll } from './lakeInventory.js';
import { compareRanges, splitAtLogStart, tileRanges, type OffsetRange } from './tiling.js';

export type Segment =
  | { kind: 'roll'; range: OffsetRange; roll: Roll }
  | { kind: 'gap'; range: OffsetRange; before: Roll | undefined; after: Roll }
  | { kind: 'tail'; range: OffsetRange; before: Roll | undefined; checkpoint: bigint };

export interface PartitionInput {
  table: string;
  topic: string;
  partition: number;
  /** In offset order. */
  rolls: readonly Roll[];
  /** The raw sink's checkpointed offset; undefined when the store has none. */
  checkpoint: bigint | undefined;
  /** Kafka's log start offset of the partition. */
  logStart: bigint;
  since: string | undefined;
  /** Ranges retention deleted (lake/expiryRecord.ts), sorted and disjoint. */
  expired?: readonly OffsetRange[];
}

export interface PartitionPlan {
  /** Ranges Kafka still holds, to be counted, sorted by first offset. */
  segments: Segment[];
  findings: Finding[];
  overlaps: number;
  unverifiable: number;
  /** Expired ranges of the partition. */
  expired: number;
}

const str = (n: bigint): string => n.toString();
/** Math.min takes no bigint. */
function smaller(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

function describeRange(roll: Roll): string {
  if (roll.expired) return `${roll.first}..${roll.last} (expired)`;
  const only = roll.rawFiles.length === 0 ? ' (_rejected files only)' : '';
  return `${roll.first}..${roll.last}${only}`;
}

export function planPartition(input: PartitionInput): PartitionPlan {
  const { topic, partition, table, logStart } = input;
  const expiredRolls: Roll[] = (input.expired ?? []).map((r) => ({
    topic,
    partition,
    first: r.first,
    last: r.last,
    rawFiles: [],
    rejectedFiles: [],
    dts: [],
    expired: true,
  }));
  const insideExpired = (roll: Roll): boolean => expiredRolls.some((e) => e.first <= roll.first && roll.last <= e.last);
  const rolls = [...input.rolls.filter((r) => !insideExpired(r)), ...expiredRolls].sort(compareRanges);
  const tiling = tileRanges(rolls, 0n, input.checkpoint);
  const findings: Finding[] = [];
  const segments: Segment[] = [];
  let unverifiable = 0;
  let overlaps = 0;
  let expired = 0;
  const inScope = (roll: Roll | undefined): boolean => roll !== undefined && rollInScope(roll, input.since);

  for (const o of tiling.overlaps) {
    if (!inScope(o.earlierItem) && !inScope(o.laterItem)) continue;
    overlaps += 1;
    const exact =
      o.earlierItem.rawFiles.length === 0 || o.laterItem.rawFiles.length === 0
        ? '; a _rejected range that matches no raw file range exactly'
        : '';
    findings.push({
      kind: 'overlap',
      table,
      topic,
      partition,
      first: str(o.later.first),
      last: str(smaller(o.earlier.last, o.later.last)),
      files: [...rollFiles(o.earlierItem), ...rollFiles(o.laterItem)],
      message: `ranges ${describeRange(o.earlierItem)} and ${describeRange(o.laterItem)} overlap: their records are in the lake twice${exact}`,
    });
  }

  const add = (segment: Segment): void => {
    const { gone, held } = splitAtLogStart(segment.range, logStart);
    if (gone) {
      unverifiable += 1;
      // A roll Kafka holds only in part cannot be counted: its files hold the whole range.
      if (segment.kind === 'roll') return;
    }
    if (held) segments.push({ ...segment, range: held } as Segment);
  };

  const sorted = rolls;
  let previous: Roll | undefined;
  let gapIndex = 0;
  for (const roll of sorted) {
    // The gaps of the tiling are in order and each ends right before a roll's first offset.
    while (gapIndex < tiling.gaps.length && tiling.gaps[gapIndex]!.last < roll.first) {
      const gap = tiling.gaps[gapIndex++]!;
      if (gap.last + 1n === roll.first && (inScope(roll) || inScope(previous)))
        add({ kind: 'gap', range: gap, before: previous, after: roll });
    }
    if (roll.expired) {
      expired += 1;
      findings.push({
        kind: 'expired',
        table,
        topic,
        partition,
        first: str(roll.first),
        last: str(roll.last),
        message: 'deleted by retention (lake expire): the lake holds nothing of it on purpose',
      });
    } else if (inScope(roll)) add({ kind: 'roll', range: { first: roll.first, last: roll.last }, roll });
    if (previous === undefined || roll.last > previous.last) previous = roll;
  }
  if (tiling.tail && input.checkpoint !== undefined)
    add({ kind: 'tail', range: tiling.tail, before: previous, checkpoint: input.checkpoint });
  segments.sort((a, b) => (a.range.first < b.range.first ? -1 : a.range.first > b.range.first ? 1 : 0));
  return { segments, findings, overlaps, unverifiable, expired };
}

/** Rows the footers gave for one roll; undefined when a footer of it was unreadable. */
export type RollRows = (roll: Roll) => { raw: number; rejected: number } | undefined;

export interface PartitionVerdict {
  findings: Finding[];
  gaps: number;
  countMismatches: number;
}

/**
 * What Kafka's counts prove. `counts[i]` is the number of committed data records in
 * `segments[i].range`; `readTo` the first offset Kafka did not deliver (its last stable offset):
 * a segment reaching it could not be counted whole.
 */
export function judgePartition(
  input: Pick<PartitionInput, 'table' | 'topic' | 'partition'>,
  segments: readonly Segment[],
  counts: readonly number[],
  readTo: bigint,
  rowsOf: RollRows,
): PartitionVerdict {
  const { table, topic, partition } = input;
  const findings: Finding[] = [];
  let gaps = 0;
  let countMismatches = 0;
  segments.forEach((segment, i) => {
    const committed = counts[i] ?? 0;
    const first = str(segment.range.first);
    const last = str(segment.range.last);
    if (segment.range.last >= readTo) {
      findings.push({
        kind: 'kafka_range',
        table,
        topic,
        partition,
        first,
        last,
        message: `Kafka delivered records only up to offset ${readTo - 1n} (its last stable offset): the ${segment.kind} could not be counted`,
        ...(segment.kind === 'roll' ? { files: rollFiles(segment.roll) } : {}),
      });
      return;
    }
    if (segment.kind === 'roll') {
      const rows = rowsOf(segment.roll);
      if (rows === undefined) return; // its footer finding says why
      if (rows.raw + rows.rejected !== committed) {
        countMismatches += 1;
        findings.push({
          kind: 'count_mismatch',
          table,
          topic,
          partition,
          first,
          last,
          files: rollFiles(segment.roll),
          message: `Kafka holds ${committed} committed records in the range, the files hold ${rows.raw + rows.rejected} (${rows.raw} rows + ${rows.rejected} rejected)`,
        });
      }
      return;
    }
    if (committed === 0) return;
    gaps += 1;
    const between =
      segment.kind === 'gap'
        ? segment.before
          ? `between ${describeRange(segment.before)} and ${describeRange(segment.after)}`
          : `before the first file ${describeRange(segment.after)}`
        : `after the last file${segment.before ? ` ${describeRange(segment.before)}` : ''} up to the checkpointed offset ${segment.checkpoint}`;
    findings.push({
      kind: 'gap',
      table,
      topic,
      partition,
      first,
      last,
      message: `${committed} committed record${committed === 1 ? '' : 's'} in no file, ${between}`,
      ...(segment.kind === 'gap'
        ? { files: [...(segment.before ? rollFiles(segment.before) : []), ...rollFiles(segment.after)] }
        : {}),
    });
  });
  return { findings, gaps, countMismatches };
}
