/**
 * Rebuilding durable offsets from the lake's committed file names, as Kafka Connect's file sinks
 * do (architecture.md, "The checkpoint protocol" → "Rebuilding from the lake"). Pure: the caller
 * lists the files and reads the aggregate table's largest `minute_end`.
 *
 * A raw table file `part-<p>-<first>-<last>.parquet` and a `_rejected` file
 * `part-<topic>-<p>-<first>-<last>.parquet` are written by the same roll and carry the roll's
 * offset range, so the largest `last` over both is the raw sink's durable offset of partition p.
 * A `*.tmp` whose roll (or aggregator checkpoint) also left a final file was committed: only its
 * rename was interrupted, so it is completed; any other tmp was never committed.
 *
 * Files deleted by retention are gone from the listing but not from the truth: the lake's expiry
 * record gives per partition the highest last offset of the expired rolls (its floor) and the highest
 * expired aggregator checkpoint id, and each is a lower bound here (architecture.md, "Keeping the
 * lake: retention"), so a partition whose every file expired resumes after its floor, not at 0.
 */
import { aggSinkId, rawSinkId, type AggCheckpoint, type RawCheckpoint, type Rename } from './checkpointState.js';
import { MANIFEST_FILE } from '../lake/dayManifest.js';
import { inUnitPath } from '../lake/unitMigration.js';
import { AGG_NAME_PATTERN } from '../lake/aggFileName.js';

export interface LakeFileName {
  /** Relative to the lake root: `tables/<table>/dt=YYYY-MM-DD/[<unit>/]<name>`. */
  path: string;
}

export interface TopicsOfTables {
  clickstream: string;
  iot: string;
}

export interface LakeOffsets {
  /** topic → partition → last offset covered by a committed file. */
  raw: Map<string, Map<number, bigint>>;
  /** Largest aggregator checkpoint id named by a committed `clickstream_agg` file, -1 if none. */
  aggSeq: number;
  /** Committed files counted per table. */
  files: number;
  /** tmp files whose commit is proven by a final file of the same roll: rename them. */
  completions: Rename[];
  /** Files whose names follow no rule (left alone, reported). */
  unknown: string[];
}

/** What retention deleted on purpose (lake/expiryRecord.ts), as lower bounds of the rebuilt offsets. */
export interface LakeFloors {
  /** topic → partition → highest last offset of the expired rolls. */
  raw: ReadonlyMap<string, ReadonlyMap<number, bigint>>;
  /** Highest checkpoint id of the expired `clickstream_agg` files, -1 if none. */
  aggSeq: number;
}

const RAW =
  /^tables\/(clickstream|iot)\/dt=\d{4}-\d{2}-\d{2}\/(?:[^/]+\/)?part-(\d+)-(\d{20})-(\d{20})\.parquet(\.tmp)?$/;
const REJECTED =
  /^tables\/_rejected\/dt=\d{4}-\d{2}-\d{2}\/(?:[^/]+\/)?part-(.+)-(\d+)-(\d{20})-(\d{20})\.parquet(\.tmp)?$/;
// A merged `part-<firstId>-<lastId>` counts as its last checkpoint (lake/aggFileName.ts); never a tmp file here.
const AGG = new RegExp(`^tables/clickstream_agg/dt=\\d{4}-\\d{2}-\\d{2}/(?:[^/]+/)?${AGG_NAME_PATTERN}(\\.tmp)?$`);

interface Parsed {
  /** The roll or checkpoint that wrote it. */
  commitKey: string;
  tmp: boolean;
  topic?: string;
  partition?: number;
  last?: bigint;
  seq?: number;
}

export function parseLakeFileName(path: string, topics: TopicsOfTables): Parsed | undefined {
  const normalized = path.split('\\').join('/');
  let m = RAW.exec(normalized);
  if (m) {
    const topic = topics[m[1] as 'clickstream' | 'iot'];
    return {
      commitKey: `raw:${topic}:${Number(m[2])}:${m[3]}:${m[4]}`,
      tmp: m[5] !== undefined,
      topic,
      partition: Number(m[2]),
      last: BigInt(m[4]!),
    };
  }
  m = REJECTED.exec(normalized);
  if (m) {
    return {
      commitKey: `raw:${m[1]}:${Number(m[2])}:${m[3]}:${m[4]}`,
      tmp: m[5] !== undefined,
      topic: m[1]!,
      partition: Number(m[2]),
      last: BigInt(m[4]!),
    };
  }
  m = AGG.exec(normalized);
  if (m && !(m[2] !== undefined && m[3] !== undefined)) {
    const seq = Number(m[2] ?? m[1]);
    return { commitKey: `agg:${seq}`, tmp: m[3] !== undefined, seq };
  }
  return undefined;
}

function isManifestPath(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return name === MANIFEST_FILE || name.startsWith(`.${MANIFEST_FILE}.`);
}

/** The offsets the lake's committed files prove, and the interrupted renames to complete. */
export function offsetsFromLake(files: readonly string[], topics: TopicsOfTables, floors?: LakeFloors): LakeOffsets {
  const parsed = files.map((path) => ({ path, p: parseLakeFileName(path, topics) }));
  const committedKeys = new Set(parsed.filter((f) => f.p && !f.p.tmp).map((f) => f.p!.commitKey));
  const result: LakeOffsets = { raw: new Map(), aggSeq: -1, files: 0, completions: [], unknown: [] };
  for (const { path, p } of parsed) {
    if (!p) {
      // A sealed day's manifest, or its tmp file, is an index of the lake's files, none of them (architecture.md,
      // "Sealed days").
      if (isManifestPath(path)) continue;
      result.unknown.push(path);
      continue;
    }
    if (p.tmp) {
      if (!committedKeys.has(p.commitKey)) continue;
      result.completions.push({ from: path, to: inUnitPath(path.slice(0, -'.tmp'.length)) });
    } else {
      result.files += 1;
    }
    if (p.seq !== undefined) {
      result.aggSeq = Math.max(result.aggSeq, p.seq);
    } else if (p.topic !== undefined && p.partition !== undefined && p.last !== undefined) {
      let byPartition = result.raw.get(p.topic);
      if (!byPartition) result.raw.set(p.topic, (byPartition = new Map()));
      const current = byPartition.get(p.partition);
      if (current === undefined || p.last > current) byPartition.set(p.partition, p.last);
    }
  }
  for (const [topic, byFloor] of floors?.raw ?? []) {
    let byPartition = result.raw.get(topic);
    if (!byPartition) result.raw.set(topic, (byPartition = new Map()));
    for (const [partition, floor] of byFloor) {
      const current = byPartition.get(partition);
      if (current === undefined || floor > current) byPartition.set(partition, floor);
    }
  }
  if (floors) result.aggSeq = Math.max(result.aggSeq, floors.aggSeq);
  result.completions.sort((a, b) => a.from.localeCompare(b.from));
  return result;
}

export interface SeedOptions {
  /** The configured topics: files of other topics (in `_rejected`) seed nothing. */
  topics: TopicsOfTables;
  windowSizeMs: number;
  /** Largest `minute_end` in `clickstream_agg`, undefined if the table is empty. */
  maxMinuteEndMs: number | undefined;
}

/**
 * The checkpoint events that make an empty checkpoint store agree with the lake:
 * - per raw sink, its offset = the last offset of its newest committed roll;
 * - for the window aggregator (only when `clickstream_agg` has files): its checkpoint sequence
 *   continues after the newest file (a new file never takes an old name), every window ending at
 *   or before the newest emitted `minute_end` counts as emitted (watermark and emitted frontier),
 *   and its offsets are empty, so the clickstream partitions are read again from their start for
 *   the aggregator alone — the raw sink skips what it holds — and the open windows are rebuilt
 *   from the events themselves.
 */
export function seedEventsFromLake(lake: LakeOffsets, options: SeedOptions): Array<RawCheckpoint | AggCheckpoint> {
  const events: Array<RawCheckpoint | AggCheckpoint> = [];
  for (const topic of [options.topics.clickstream, options.topics.iot]) {
    const byPartition = lake.raw.get(topic);
    if (!byPartition) continue;
    for (const [partition, last] of [...byPartition].sort((a, b) => a[0] - b[0])) {
      events.push({
        type: 'raw',
        sink: rawSinkId(topic, partition),
        topic,
        partition,
        offset: last.toString(),
        renames: [],
        rows: 0,
        rejected: 0,
      });
    }
  }
  if (lake.aggSeq >= 0 && options.maxMinuteEndMs !== undefined) {
    const frontierMs = options.maxMinuteEndMs;
    const state = {
      version: 1,
      sizeMs: options.windowSizeMs,
      lateEventsTotal: 0,
      emittedFrontierMs: frontierMs,
      watermarks: { globalWatermarkMs: frontierMs, partitions: [] },
      offsets: [],
      openWindows: [],
    };
    const topic = options.topics.clickstream;
    events.push({
      type: 'agg',
      sink: aggSinkId(topic),
      topic,
      seq: lake.aggSeq,
      offsets: {},
      state,
      renames: [],
      rows: 0,
    });
  }
  return events;
}
