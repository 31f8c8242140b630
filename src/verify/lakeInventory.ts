/**
 * The lake's committed files sorted into what `verify` checks (architecture.md, "Verifying the
 * lake"). Pure: names in, rolls out.
 *
 * One roll of a lake writer writes, for its offset range `[first, last]` of one partition, a raw
 * file per `dt` of its valid rows and a `_rejected` file per `dt` of its rejected records, all
 * named with that same range (actors/lakeWriter.ts, "Rebuilding from the lake"). So the files of a
 * roll are found by their common range, and the roll — not a single file — is what Kafka's count
 * of committed records in the range must equal: raw rows plus rejected rows over all its files.
 */
import { parseAggTaskFileName } from '../lake/aggTaskFiles.js';
import type { OffsetRange } from './tiling.js';

export interface LakeFileInfo {
  /** Relative to the lake root, `/`-separated: `tables/<table>/dt=…/<name>`. */
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

export type RawTable = 'clickstream' | 'iot';

export interface Roll extends OffsetRange {
  topic: string;
  partition: number;
  /** Files of the raw table, one per dt. */
  rawFiles: string[];
  /** `_rejected` files of the same range, one per dt. */
  rejectedFiles: string[];
  /** The dt directories its files are in. */
  dts: string[];
  /** A range retention deleted (the expiry record), standing in for its rolls: no files, checked by nothing. */
  expired?: true;
}

export interface AggFile {
  path: string;
  dt: string;
  /** The window aggregator's checkpoint id; null for a stage-2 task's `part-<r>-<first>-<last>` (windows across members). */
  seq: bigint | null;
}

export interface LakeInventory {
  /** topic → partition → rolls, in offset order. */
  rolls: Map<string, Map<number, Roll[]>>;
  aggFiles: AggFile[];
  tmpFiles: LakeFileInfo[];
  /** `.parquet` files whose names follow no rule of the layout (a reader would read them). */
  unknown: string[];
}

const RAW = /^tables\/(clickstream|iot)\/dt=(\d{4}-\d{2}-\d{2})\/part-(\d+)-(\d{20})-(\d{20})\.parquet$/;
const REJECTED = /^tables\/_rejected\/dt=(\d{4}-\d{2}-\d{2})\/part-(.+)-(\d+)-(\d{20})-(\d{20})\.parquet$/;
const AGG = /^tables\/clickstream_agg\/dt=(\d{4}-\d{2}-\d{2})\/part-(\d{20})\.parquet$/;

export function inventoryLake(files: readonly LakeFileInfo[], topics: Record<RawTable, string>): LakeInventory {
  const rolls = new Map<string, Map<number, Map<string, Roll>>>();
  const rollOf = (topic: string, partition: number, first: string, last: string): Roll => {
    let byPartition = rolls.get(topic);
    if (!byPartition) rolls.set(topic, (byPartition = new Map()));
    let byRange = byPartition.get(partition);
    if (!byRange) byPartition.set(partition, (byRange = new Map()));
    const key = `${first}-${last}`;
    let roll = byRange.get(key);
    if (!roll) {
      roll = { topic, partition, first: BigInt(first), last: BigInt(last), rawFiles: [], rejectedFiles: [], dts: [] };
      byRange.set(key, roll);
    }
    return roll;
  };
  const addDt = (roll: Roll, dt: string): void => {
    if (!roll.dts.includes(dt)) roll.dts.push(dt);
  };
  const inventory: LakeInventory = { rolls: new Map(), aggFiles: [], tmpFiles: [], unknown: [] };
  const configured = new Set(Object.values(topics));
  for (const file of files) {
    if (file.path.endsWith('.tmp')) {
      inventory.tmpFiles.push(file);
      continue;
    }
    let m = RAW.exec(file.path);
    if (m) {
      const roll = rollOf(topics[m[1] as RawTable], Number(m[3]), m[4]!, m[5]!);
      roll.rawFiles.push(file.path);
      addDt(roll, m[2]!);
      continue;
    }
    m = REJECTED.exec(file.path);
    if (m) {
      // Rejected records of other topics (another configuration sharing the lake) are not ours to check.
      if (!configured.has(m[2]!)) continue;
      const roll = rollOf(m[2]!, Number(m[3]), m[4]!, m[5]!);
      roll.rejectedFiles.push(file.path);
      addDt(roll, m[1]!);
      continue;
    }
    m = AGG.exec(file.path);
    if (m) {
      inventory.aggFiles.push({ path: file.path, dt: m[1]!, seq: BigInt(m[2]!) });
      continue;
    }
    const task = parseAggTaskFileName(file.path);
    if (task && !task.tmp) {
      inventory.aggFiles.push({ path: file.path, dt: task.dt, seq: null });
      continue;
    }
    if (file.path.endsWith('.parquet')) inventory.unknown.push(file.path);
  }
  for (const [topic, byPartition] of rolls) {
    const out = new Map<number, Roll[]>();
    for (const [partition, byRange] of [...byPartition].sort((a, b) => a[0] - b[0]))
      out.set(
        partition,
        [...byRange.values()].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0)),
      );
    inventory.rolls.set(topic, out);
  }
  return inventory;
}

/** With `--since DT`: a roll is checked (whole, all its files) when any of its files is in a dt >= DT. */
export function rollInScope(roll: Roll, since: string | undefined): boolean {
  return since === undefined || roll.dts.some((dt) => dt >= since);
}

/** The roll's files, raw first, for findings. */
export function rollFiles(roll: Roll): string[] {
  return [...roll.rawFiles, ...roll.rejectedFiles];
}
