/**
 * Reads the lake for `offsetsFromLake`: lists the files, and reads the newest aggregator files'
 * footers for the largest `minute_end` (windows are emitted in order of their end, so the newest
 * checkpoint's files hold it).
 */
import { join } from 'node:path';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { readFooterSummary } from '../lake/parquetFooter.js';
import {
  offsetsFromLake,
  parseLakeFileName,
  seedEventsFromLake,
  type LakeOffsets,
  type TopicsOfTables,
} from './offsetsFromLake.js';
import type { AggCheckpoint, RawCheckpoint } from './checkpointState.js';

export interface LakeRebuildPlan {
  lake: LakeOffsets;
  events: Array<RawCheckpoint | AggCheckpoint>;
  maxMinuteEndMs: number | undefined;
}

export async function planRebuildFromLake(
  lakeRoot: string,
  topics: TopicsOfTables,
  windowSizeMs: number,
): Promise<LakeRebuildPlan> {
  const paths = listLakeFiles(lakeRoot).map((f) => f.path);
  const lake = offsetsFromLake(paths, topics);
  let maxMinuteEndMs: number | undefined;
  if (lake.aggSeq >= 0) {
    const newest = paths.filter((p) => !p.endsWith('.tmp') && parseLakeFileName(p, topics)?.seq === lake.aggSeq);
    for (const path of newest) {
      const summary = await readFooterSummary(join(lakeRoot, path), 'minute_end');
      if (summary.maxMs !== undefined) maxMinuteEndMs = Math.max(maxMinuteEndMs ?? -Infinity, summary.maxMs);
    }
  }
  return { lake, events: seedEventsFromLake(lake, { topics, windowSizeMs, maxMinuteEndMs }), maxMinuteEndMs };
}
