/**
 * How far `clickstream_agg` already reaches, for a stage-2 task that starts with neither a commit nor a snapshot of
 * its own over a lake that has windows (a new or expired group, or a group switched from `etl.windows: process`):
 * the largest `minute_end` it finds (architecture.md, "Windows across members"). Windows are emitted in order of their
 * end, so the newest dt holds it, and footers answer without reading rows:
 * - the task's own files (`part-<r>-<first>-<last>`) when it has any: its urls' windows;
 * - otherwise every committed file of the newest dt (the process aggregator's `part-<seq>`, other tasks'), since
 *   the windows of all urls close on one global watermark;
 * - never below what retention recorded as emitted before it deleted those days (lake/expiryRecord.ts).
 * Undefined when the table has no committed window at all.
 */
import path from 'node:path';
import { listDtFiles } from './dirEntries.js';
import { parseAggTaskFileName } from './aggTaskFiles.js';
import { readExpiryRecord } from './expiryRecordFile.js';
import { readFooterSummary } from './parquetFooter.js';

export async function aggEmittedUntilMs(lakeRoot: string, partition: number): Promise<number | undefined> {
  let untilMs = readExpiryRecord(lakeRoot)?.agg?.emittedUntilMs;
  const committed = new Map<string, { own: string[]; all: string[] }>();
  for (const dt of await listDtFiles(lakeRoot, 'clickstream_agg')) {
    const files = { own: [] as string[], all: [] as string[] };
    for (const file of dt.files) {
      if (!file.endsWith('.parquet')) continue; // committed only: a tmp name ends in .tmp
      files.all.push(file);
      if (parseAggTaskFileName(file, partition)) files.own.push(file);
    }
    if (files.all.length > 0) committed.set(dt.dtDir, files);
  }
  const dts = [...committed.keys()].sort();
  const newestOwn = dts.filter((dt) => committed.get(dt)!.own.length > 0).at(-1);
  const newest = dts.at(-1);
  const read = newestOwn !== undefined ? committed.get(newestOwn)!.own : newest ? committed.get(newest)!.all : [];
  for (const file of read) {
    const { maxMs } = await readFooterSummary(path.join(lakeRoot, file), 'minute_end');
    if (maxMs !== undefined) untilMs = Math.max(untilMs ?? -Infinity, maxMs);
  }
  return untilMs;
}
