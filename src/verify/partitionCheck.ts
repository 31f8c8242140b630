/**
 * The checks of one raw partition (architecture.md, "Verifying the lake"), pure: which offset
 * ranges Kafka must count (`planPartition`), then what those counts prove (`judgePartition`).
 *
 * - Components (the files whose ranges intersect over every dt and both tables, components.ts) must each hold as
 *   many rows (raw + `_rejected`, from the footers) as Kafka holds committed records in their range; within one
 *   (table, dt) no two files may intersect (an overlap).
 * - A gap between components, and the range after the last one up to the checkpointed offset, must
 *   hold no committed record (transaction markers and aborted records only).
 * - What lies below the log start offset Kafka no longer holds: such a range is checked by the
 *   tiling alone and counted as unverifiable.
 * - What retention deleted (the expiry record's ranges) takes part in the tiling as a range the lake
 *   holds nothing of on purpose: no gap, not counted, reported as expired; a component that takes one in lost
 *   some of its files, so its count is not compared either.
 */
import { componentFiles, componentInScope, groupPartition, type Component } from './components.js';
import type { Finding } from './findings.js';
import type { PartitionFile } from './lakeInventory.js';
import { splitAtLogStart, tileRanges, type OffsetRange } from './tiling.js';

export type Segment =
  | { kind: 'component'; range: OffsetRange; component: Component }
  | { kind: 'gap'; range: OffsetRange; before: Component | undefined; after: Component }
  | { kind: 'tail'; range: OffsetRange; before: Component | undefined; checkpoint: bigint };

export interface PartitionInput {
  table: string;
  topic: string;
  partition: number;
  /** Its raw and `_rejected` files, every dt (lakeInventory.ts). */
  files: readonly PartitionFile[];
  /** The raw sink's checkpointed offset; undefined when the store has none. */
  checkpoint: bigint | undefined;
  /** Kafka's log start offset of the partition. */
  logStart: bigint;
  since: string | undefined;
  /** Ranges retention deleted (lake/expiryRecord.ts), sorted and disjoint. */
  expired?: readonly OffsetRange[];
}

export interface PartitionPlan {
  components: Component[];
  /** Ranges Kafka still holds, to be counted, sorted by first offset and disjoint. */
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

function describeRange(c: Component): string {
  if (c.rawFiles.length + c.rejectedFiles.length === 0) return `${c.first}..${c.last} (expired)`;
  const only = c.rawFiles.length === 0 ? ' (_rejected files only)' : '';
  const expired = c.expired.length > 0 ? ' (partly expired)' : '';
  return `${c.first}..${c.last}${only}${expired}`;
}

export function planPartition(input: PartitionInput): PartitionPlan {
  const { topic, partition, table, logStart } = input;
  const { components, overlaps: sameDt } = groupPartition(topic, partition, input.files, input.expired);
  const tiling = tileRanges(components, 0n, input.checkpoint);
  const findings: Finding[] = [];
  const segments: Segment[] = [];
  let unverifiable = 0;
  let overlaps = 0;
  let expired = 0;
  const inScope = (c: Component | undefined): boolean => c !== undefined && componentInScope(c, input.since);

  for (const o of sameDt) {
    if (input.since !== undefined && o.dt < input.since) continue;
    overlaps += 1;
    findings.push({
      kind: 'overlap',
      table: o.table,
      topic,
      partition,
      first: str(o.later.first),
      last: str(smaller(o.earlier.last, o.later.last)),
      files: [o.earlier.path, o.later.path],
      message: `files ${o.earlier.first}..${o.earlier.last} and ${o.later.first}..${o.later.last} of dt ${o.dt} overlap: their records are in the lake twice`,
    });
  }

  const add = (segment: Segment): void => {
    const { gone, held } = splitAtLogStart(segment.range, logStart);
    if (gone) {
      unverifiable += 1;
      // A component Kafka holds only in part cannot be counted: its files hold the whole range.
      if (segment.kind === 'component') return;
    }
    if (held) segments.push({ ...segment, range: held } as Segment);
  };

  let previous: Component | undefined;
  let gapIndex = 0;
  for (const component of components) {
    // The gaps of the tiling are in order and each ends right before a component's first offset.
    while (gapIndex < tiling.gaps.length && tiling.gaps[gapIndex]!.last < component.first) {
      const gap = tiling.gaps[gapIndex++]!;
      if (gap.last + 1n === component.first && (inScope(component) || inScope(previous)))
        add({ kind: 'gap', range: gap, before: previous, after: component });
    }
    for (const e of component.expired) {
      expired += 1;
      findings.push({
        kind: 'expired',
        table,
        topic,
        partition,
        first: str(e.first),
        last: str(e.last),
        message: 'deleted by retention: the lake holds nothing of it on purpose',
      });
    }
    if (component.expired.length === 0 && inScope(component))
      add({ kind: 'component', range: { first: component.first, last: component.last }, component });
    previous = component;
  }
  if (tiling.tail && input.checkpoint !== undefined)
    add({ kind: 'tail', range: tiling.tail, before: previous, checkpoint: input.checkpoint });
  segments.sort((a, b) => (a.range.first < b.range.first ? -1 : a.range.first > b.range.first ? 1 : 0));
  return { components, segments, findings, overlaps, unverifiable, expired };
}

/** Rows the footers gave for one component; undefined when a footer of it was unreadable. */
export type ComponentRows = (component: Component) => { raw: number; rejected: number } | undefined;

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
  rowsOf: ComponentRows,
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
        message: `Kafka delivered records only up to offset ${readTo - 1n} (its last stable offset): the ${segment.kind === 'component' ? 'files' : segment.kind} could not be counted`,
        ...(segment.kind === 'component' ? { files: componentFiles(segment.component) } : {}),
      });
      return;
    }
    if (segment.kind === 'component') {
      const rows = rowsOf(segment.component);
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
          files: componentFiles(segment.component),
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
        ? { files: [...(segment.before ? componentFiles(segment.before) : []), ...componentFiles(segment.after)] }
        : {}),
    });
  });
  return { findings, gaps, countMismatches };
}
