/**
 * The lake's committed files sorted into what `verify` checks (architecture.md, "Verifying the
 * lake"). Pure: names in, each partition's files with their offset ranges out.
 *
 * A final file lies in its writer's unit, `tables/<t>/dt=D/<unit>/<name>` (architecture.md, "Who rewrites a
 * partition's files"), or, in a lake written before units, directly in `dt=D/`; both are read. The name says whose
 * file it is: `part-<p>-…` is unit `p<p>`, `part-<topic>-<p>-…` in `_rejected` is `p<p>-<topic>`, the window
 * aggregator's `part-<seq>` is `agg` and stage-2 task r's `part-<r>-<first>-<last>` is `r<r>`. A file in another
 * unit is misplaced: readers read it, but only the unit's owner may write there.
 *
 * How a partition's files are grouped for counting is components.ts's rule: a file's range is not unique to one
 * roll once compaction merges one dt's files and not another's.
 */
import type { OffsetRange } from './tiling.js';
import { AGG_NAME_PATTERN } from '../lake/aggFileName.js';

export interface LakeFileInfo {
  /** Relative to the lake root, `/`-separated: `tables/<table>/dt=…/[<unit>/]<name>`. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

export type RawTable = 'clickstream' | 'iot';

/** A committed file of one input partition: raw, or its `_rejected` records. */
export interface PartitionFile extends OffsetRange {
  path: string;
  /** `clickstream`, `iot` or `_rejected`. */
  table: RawTable | '_rejected';
  dt: string;
}

export interface AggFile {
  path: string;
  dt: string;
  /** The window aggregator's checkpoint id; null for a stage-2 task's `part-<r>-<first>-<last>` (windows across members). */
  seq: bigint | null;
}

/** A final file in a unit its name does not belong to. */
export interface MisplacedFile {
  path: string;
  table: string;
  unit: string;
  /** The unit its name belongs to. */
  owner: string;
}

export interface LakeInventory {
  /** topic → partition → its raw and `_rejected` files, sorted by range. */
  files: Map<string, Map<number, PartitionFile[]>>;
  aggFiles: AggFile[];
  tmpFiles: LakeFileInfo[];
  /** `.parquet` files whose names follow no rule of the layout (a reader would read them). */
  unknown: string[];
  misplaced: MisplacedFile[];
}

// Units are optional: a lake written before them keeps its final files in dt=D/ until migrated.
const DT_UNIT = '\\/dt=(\\d{4}-\\d{2}-\\d{2})\\/(?:([^/]+)\\/)?';
const RANGE = '(\\d{20})-(\\d{20})\\.parquet$';
// table, dt, unit, partition, first, last
const RAW = new RegExp(`^tables\\/(clickstream|iot)${DT_UNIT}part-(\\d+)-${RANGE}`);
// dt, unit, topic, partition, first, last
const REJECTED = new RegExp(`^tables\\/_rejected${DT_UNIT}part-([^/]+)-(\\d+)-${RANGE}`);
// dt, unit, checkpoint id
const AGG = new RegExp(`^tables\\/clickstream_agg${DT_UNIT}${AGG_NAME_PATTERN}$`);
// dt, unit, task, first, last. Like lake/aggTaskFiles.ts's name, with the unit segment it does not parse yet.
const AGG_TASK = new RegExp(`^tables\\/clickstream_agg${DT_UNIT}part-(0|[1-9]\\d{0,9})-${RANGE}`);

/** Whose unit a name belongs to (layout.ts names them so). */
export const rawUnit = (partition: number): string => `p${partition}`;
export const rejectedUnit = (topic: string, partition: number): string => `p${partition}-${topic}`;
export const AGG_UNIT = 'agg';
export const aggTaskUnit = (task: number): string => `r${task}`;

const byRange = (a: OffsetRange, b: OffsetRange): number =>
  a.first !== b.first ? (a.first < b.first ? -1 : 1) : a.last < b.last ? -1 : a.last > b.last ? 1 : 0;

export function inventoryLake(files: readonly LakeFileInfo[], topics: Record<RawTable, string>): LakeInventory {
  const byPartition = new Map<string, Map<number, PartitionFile[]>>();
  const add = (topic: string, partition: number, file: PartitionFile): void => {
    let partitions = byPartition.get(topic);
    if (!partitions) byPartition.set(topic, (partitions = new Map()));
    let list = partitions.get(partition);
    if (!list) partitions.set(partition, (list = []));
    list.push(file);
  };
  const inventory: LakeInventory = { files: new Map(), aggFiles: [], tmpFiles: [], unknown: [], misplaced: [] };
  const inUnit = (path: string, table: string, unit: string | undefined, owner: string): void => {
    if (unit !== undefined && unit !== owner) inventory.misplaced.push({ path, table, unit, owner });
  };
  const configured = new Set(Object.values(topics));
  for (const file of files) {
    const { path } = file;
    if (path.endsWith('.tmp')) {
      inventory.tmpFiles.push(file);
      continue;
    }
    let m = RAW.exec(path);
    if (m) {
      const table = m[1] as RawTable;
      const partition = Number(m[4]);
      inUnit(path, table, m[3], rawUnit(partition));
      add(topics[table], partition, { path, table, dt: m[2]!, first: BigInt(m[5]!), last: BigInt(m[6]!) });
      continue;
    }
    m = REJECTED.exec(path);
    if (m) {
      const topic = m[3]!;
      const partition = Number(m[4]);
      inUnit(path, '_rejected', m[2], rejectedUnit(topic, partition));
      // Rejected records of other topics (another configuration sharing the lake) are not ours to count.
      if (configured.has(topic))
        add(topic, partition, { path, table: '_rejected', dt: m[1]!, first: BigInt(m[5]!), last: BigInt(m[6]!) });
      continue;
    }
    m = AGG.exec(path);
    if (m) {
      inUnit(path, 'clickstream_agg', m[2], AGG_UNIT);
      inventory.aggFiles.push({ path, dt: m[1]!, seq: BigInt(m[4] ?? m[3]!) });
      continue;
    }
    m = AGG_TASK.exec(path);
    if (m && Number(m[3]) <= 0x7fffffff && BigInt(m[4]!) <= BigInt(m[5]!)) {
      inUnit(path, 'clickstream_agg', m[2], aggTaskUnit(Number(m[3])));
      inventory.aggFiles.push({ path, dt: m[1]!, seq: null });
      continue;
    }
    if (path.endsWith('.parquet')) inventory.unknown.push(path);
  }
  for (const [topic, partitions] of byPartition) {
    const sorted = new Map<number, PartitionFile[]>();
    for (const [partition, list] of [...partitions].sort((a, b) => a[0] - b[0]))
      sorted.set(partition, list.sort(byRange));
    inventory.files.set(topic, sorted);
  }
  return inventory;
}
