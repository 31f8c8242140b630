/**
 * A lower bound of the windows' global watermark, read from the lake alone (architecture.md, "Sealed days"): the
 * newest `minute_end` in `clickstream_agg`. A window is emitted only once the minimum watermark over every
 * clickstream partition passed its end, and watermarks never go back. Windows are emitted in order of their end, so
 * the newest dt with a window holds the newest one: its files' footers (statistics, or the column when a file has
 * none) answer, no other dt is read. Never below what retention recorded as emitted before it deleted those days
 * (lake/expiryRecord.ts). Undefined when no window was ever emitted (an IoT-only platform, a new lake).
 */
import path from 'node:path';
import { listDtFiles } from './dirEntries.js';
import { readExpiryRecord } from './expiryRecordFile.js';
import { readFooterSummary } from './parquetFooter.js';

export async function watermarkBoundMs(lakeRoot: string): Promise<number | undefined> {
  const expired = readExpiryRecord(lakeRoot)?.agg?.emittedUntilMs;
  const dts = (await listDtFiles(lakeRoot, 'clickstream_agg')).sort((a, b) => (a.dtDir < b.dtDir ? 1 : -1));
  for (const dt of dts) {
    let newest: number | undefined;
    for (const file of dt.files) {
      if (!file.endsWith('.parquet')) continue; // committed only
      const summary = await readFooterSummary(path.join(lakeRoot, file), 'minute_end').catch((err: unknown) => {
        // Compacted away between the listing and the read: its rows are in the merged file of the same dt.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      });
      if (summary?.maxMs !== undefined) newest = Math.max(newest ?? -Infinity, summary.maxMs);
    }
    if (newest !== undefined) return Math.max(newest, expired ?? -Infinity);
  }
  return expired;
}
