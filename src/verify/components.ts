/**
 * How one partition's files are grouped to be counted against Kafka (architecture.md, "Verifying the lake"). Pure.
 *
 * A roll writes, for its range `[first, last]`, a raw file per dt and a `_rejected` file per dt, all named with that
 * range. Compaction merges consecutive files of one (table, dt, unit) into one file named `[min first, max last]`, so
 * once one dt is compacted and another is not, ranges of one partition intersect across dts and tables without being
 * equal. What still holds: every committed record of the partition is in exactly one file, and every file's records
 * lie in its range. So the unit of counting is a *component*: the files whose ranges intersect, transitively, over
 * every dt and both tables. Its rows (raw + rejected, footers) must equal Kafka's committed records in `[min first,
 * max last]`; components never intersect one another, so they tile the partition's offsets as rolls did.
 *
 * Within one (table, dt) no merge leaves two files of a partition intersecting: such a pair is an overlap (records
 * in the lake twice, e.g. a file copied under a second name).
 */
import type { PartitionFile } from './lakeInventory.js';
import { tileRanges, type OffsetRange } from './tiling.js';

export interface Component extends OffsetRange {
  topic: string;
  partition: number;
  /** Raw files (any dt), in range order. */
  rawFiles: string[];
  /** `_rejected` files (any dt), in range order. */
  rejectedFiles: string[];
  /** The dt directories its files are in, sorted. */
  dts: string[];
  /** Ranges retention deleted (the expiry record) that it takes in: it lost files, so its count is not compared. */
  expired: OffsetRange[];
}

/** Two files of one partition in one (table, dt) whose ranges intersect. */
export interface SameDtOverlap {
  table: PartitionFile['table'];
  dt: string;
  /** The file reaching furthest so far, and the one starting inside it. */
  earlier: PartitionFile;
  later: PartitionFile;
}

export interface PartitionGroups {
  /** Disjoint, sorted by first offset. */
  components: Component[];
  overlaps: SameDtOverlap[];
}

/**
 * The components of one partition's files (raw and `_rejected` of every dt) together with the ranges retention
 * deleted (`expired`, disjoint), and the overlaps within one (table, dt).
 */
export function groupPartition(
  topic: string,
  partition: number,
  files: readonly PartitionFile[],
  expired: readonly OffsetRange[] = [],
): PartitionGroups {
  type Item = { range: OffsetRange; file: PartitionFile | undefined };
  const items: Item[] = [
    ...files.map((file) => ({ range: file, file })),
    ...expired.map((range) => ({ range, file: undefined })),
  ];
  items.sort((a, b) => (a.range.first !== b.range.first ? (a.range.first < b.range.first ? -1 : 1) : 0));
  const components: Component[] = [];
  let current: Component | undefined;
  for (const { range, file } of items) {
    if (range.last < range.first) throw new RangeError(`range ${range.first}..${range.last} ends before it starts`);
    // Touching ranges are separate components: each is counted on its own, and a gap between them is impossible.
    if (current === undefined || range.first > current.last) {
      current = {
        topic,
        partition,
        first: range.first,
        last: range.last,
        rawFiles: [],
        rejectedFiles: [],
        dts: [],
        expired: [],
      };
      components.push(current);
    } else if (range.last > current.last) current.last = range.last;
    if (file === undefined) current.expired.push({ first: range.first, last: range.last });
    else {
      (file.table === '_rejected' ? current.rejectedFiles : current.rawFiles).push(file.path);
      if (!current.dts.includes(file.dt)) current.dts.push(file.dt);
    }
  }
  for (const c of components) c.dts.sort();

  const byTableDt = new Map<string, PartitionFile[]>();
  for (const file of files) {
    const key = `${file.table}/${file.dt}`;
    const list = byTableDt.get(key);
    if (list) list.push(file);
    else byTableDt.set(key, [file]);
  }
  const overlaps: SameDtOverlap[] = [];
  for (const list of byTableDt.values()) {
    if (list.length < 2) continue;
    for (const o of tileRanges(list, 0n, undefined).overlaps)
      overlaps.push({ table: o.earlierItem.table, dt: o.earlierItem.dt, earlier: o.earlierItem, later: o.laterItem });
  }
  overlaps.sort((a, b) => (a.later.first < b.later.first ? -1 : a.later.first > b.later.first ? 1 : 0));
  return { components, overlaps };
}

/** With `--since DT`: a component is checked (whole, all its files) when any of its files is in a dt >= DT. */
export function componentInScope(component: Component, since: string | undefined): boolean {
  return since === undefined || component.dts.some((dt) => dt >= since);
}

/** The component's files, raw first, for findings and footers. */
export function componentFiles(component: Component): string[] {
  return [...component.rawFiles, ...component.rejectedFiles];
}
