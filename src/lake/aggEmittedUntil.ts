/**
 * How far `clickstream_agg` already reaches for the urls of one stage-2 task, for a task that starts with neither a
 * commit nor a snapshot of its own over a lake that has windows (a new or expired group, a group switched from
 * `etl.windows: process`, or a task that never committed before a crash): the largest `minute_end` of a window of a
 * url routed to it (architecture.md, "Windows across members").
 *
 * By url, not by file: another task's files hold other urls, whose windows say nothing of this task's. Taking them
 * for this task's lost its windows whenever another task had committed and it had not (a crash between their
 * commits), since it then dropped its own first windows as already emitted. The process aggregator's `part-<seq>`
 * files and the files of an earlier group (any R) hold urls of every task; the rows are read, url and minute_end
 * only, a row group at a time. Windows are emitted in order of their end, so the newest dt holding any of the task's
 * urls answers; never below what retention recorded as emitted before it deleted those days
 * (lake/expiryRecord.ts). Undefined when none of the task's urls has a committed window.
 */
import path from 'node:path';
import { repartitionOfUrl } from '../windows/repartitionRecords.js';
import { listDtFiles } from './dirEntries.js';
import { readExpiryRecord } from './expiryRecordFile.js';
import { asNumber, scanColumns } from './parquetColumns.js';

export async function aggEmittedUntilMs(
  lakeRoot: string,
  partition: number,
  partitions: number,
): Promise<number | undefined> {
  const expired = readExpiryRecord(lakeRoot)?.agg?.emittedUntilMs;
  const dts = (await listDtFiles(lakeRoot, 'clickstream_agg')).sort((a, b) => (a.dtDir < b.dtDir ? 1 : -1));
  const routed = new Map<string, boolean>();
  const isMine = (url: string): boolean => {
    let mine = routed.get(url);
    if (mine === undefined) routed.set(url, (mine = repartitionOfUrl(url, partitions) === partition));
    return mine;
  };
  for (const dt of dts) {
    let untilMs: number | undefined;
    for (const file of dt.files) {
      if (!file.endsWith('.parquet')) continue; // committed only: a tmp name ends in .tmp
      await scanColumns(path.join(lakeRoot, file), ['url', 'minute_end'], ([url, end], rows) => {
        for (let i = 0; i < rows; i++) {
          if (!isMine(String(url![i]))) continue;
          const endMs = asNumber(end![i]);
          if (untilMs === undefined || endMs > untilMs) untilMs = endMs;
        }
      });
    }
    if (untilMs !== undefined) return Math.max(untilMs, expired ?? -Infinity);
  }
  return expired;
}
