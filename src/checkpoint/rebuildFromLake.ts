/**
 * Reads the lake for `offsetsFromLake`: lists the files, reads the expiry record (what retention
 * deleted: floors, architecture.md "Keeping the lake: retention"), and reads the newest aggregator
 * files' footers for the largest `minute_end` (windows are emitted in order of their end, so the
 * newest checkpoint's files hold it; the record keeps it for expired ones).
 */
import { join } from 'node:path';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { readFooterSummary } from '../lake/parquetFooter.js';
import { readExpiryRecord } from '../lake/expiryRecordFile.js';
import type { ExpiryRecord } from '../lake/expiryRecord.js';
import {
  offsetsFromLake,
  parseLakeFileName,
  seedEventsFromLake,
  type LakeFloors,
  type LakeOffsets,
  type TopicsOfTables,
} from './offsetsFromLake.js';
import type { AggCheckpoint, RawCheckpoint } from './checkpointState.js';

export interface LakeRebuildPlan {
  lake: LakeOffsets;
  events: Array<RawCheckpoint | AggCheckpoint>;
  maxMinuteEndMs: number | undefined;
}

/** The floors of an expiry record; undefined without one. */
export function floorsOfRecord(record: ExpiryRecord | undefined): LakeFloors | undefined {
  if (record === undefined) return undefined;
  const raw = new Map<string, Map<number, bigint>>();
  for (const [topic, byPartition] of record.partitions)
    raw.set(topic, new Map([...byPartition].map(([p, e]) => [p, e.floor])));
  return { raw, aggSeq: record.agg === null ? -1 : Number(record.agg.seq) };
}

/** The lake's expiry record as floors (lake/expiryRecordFile.ts); undefined when nothing ever expired. */
export function readLakeFloors(lakeRoot: string): LakeFloors | undefined {
  return floorsOfRecord(readExpiryRecord(lakeRoot));
}

export async function planRebuildFromLake(
  lakeRoot: string,
  topics: TopicsOfTables,
  windowSizeMs: number,
): Promise<LakeRebuildPlan> {
  const paths = listLakeFiles(lakeRoot).map((f) => f.path);
  const record = readExpiryRecord(lakeRoot);
  const lake = offsetsFromLake(paths, topics, floorsOfRecord(record));
  let maxMinuteEndMs: number | undefined = record?.agg?.emittedUntilMs;
  if (lake.aggSeq >= 0) {
    const newest = paths.filter((p) => !p.endsWith('.tmp') && parseLakeFileName(p, topics)?.seq === lake.aggSeq);
    for (const path of newest) {
      const summary = await readFooterSummary(join(lakeRoot, path), 'minute_end');
      if (summary.maxMs !== undefined) maxMinuteEndMs = Math.max(maxMinuteEndMs ?? -Infinity, summary.maxMs);
    }
  }
  return { lake, events: seedEventsFromLake(lake, { topics, windowSizeMs, maxMinuteEndMs }), maxMinuteEndMs };
}
