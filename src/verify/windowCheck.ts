/**
 * The window facts of `verify` (windowRules.ts): page views per (minute, url) of `clickstream_agg`, raw events per
 * (minute, url) of `clickstream` (columns ts and url only) and the open windows of the aggregator's checkpointed
 * state, counted by windowTally.ts. The files are read a row group at a time, one file after another (hyparquet), so
 * what is held is the windows, not the rows: a day at the default rates is ~430,000 windows and ~10M raw rows
 * (architecture.md, "Verifying the lake").
 */
import { join } from 'node:path';
import { asNumber, scanColumns } from '../lake/parquetColumns.js';
import type { WindowFacts } from './windowRules.js';
import { WindowTally } from './windowTally.js';

export interface WindowCheckInput {
  lakeRoot: string;
  /** Relative to the lake root. */
  aggFiles: readonly string[];
  rawFiles: readonly string[];
  openWindows: ReadonlyArray<{ startMs: number; counts: ReadonlyArray<{ url: string; count: number }> }>;
  windowSizeMs: number;
  /** Open windows before this (the --since day) are left out, as the files of earlier days are. */
  sinceMs: number | undefined;
}

const AGG_COLUMNS = ['minute_start', 'minute_end', 'url', 'pv'];

export async function collectWindowFacts(input: WindowCheckInput): Promise<WindowFacts> {
  // In path order: a window names the first agg file it is in, and the files of a window emitted twice are listed so.
  const aggFiles = [...input.aggFiles].sort();
  const tally = new WindowTally(input.windowSizeMs, aggFiles);
  for (const [i, file] of aggFiles.entries())
    await scanColumns(join(input.lakeRoot, file), AGG_COLUMNS, ([start, end, url, pv], rows) => {
      for (let r = 0; r < rows; r++)
        tally.addAgg(asNumber(start![r]), asNumber(end![r]), String(url![r]), asNumber(pv![r]), i);
    });
  for (const file of input.rawFiles)
    await scanColumns(join(input.lakeRoot, file), ['ts', 'url'], ([ts, url], rows) => {
      for (let r = 0; r < rows; r++) tally.addRaw(asNumber(ts![r]), String(url![r]));
    });
  for (const w of input.openWindows) {
    if (input.sinceMs !== undefined && w.startMs < input.sinceMs) continue;
    for (const c of w.counts) tally.addOpen(w.startMs, c.url, c.count);
  }
  const facts = tally.facts();
  // The files of the windows emitted twice, for the examples only: read again rather than a list per window.
  const twice = new Map(facts.emittedTwice.examples.map((e) => [`${e.minuteStartMs} ${e.url}`, e.files]));
  if (twice.size > 0)
    for (const file of aggFiles)
      await scanColumns(join(input.lakeRoot, file), ['minute_start', 'url'], ([start, url], rows) => {
        for (let r = 0; r < rows; r++) twice.get(`${asNumber(start![r])} ${String(url![r])}`)?.push(file);
      });
  return facts;
}
