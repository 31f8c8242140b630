import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectWindowFacts } from '../../../src/verify/windowCheck.js';

// A day at the default rates holds ~430,000 (minute, url) windows; here 300,000, written by DuckDB (TIMESTAMP in
// microseconds, where the lake's writers write milliseconds).
const MINUTES = 1_440;
const URLS = 210;

describe('collectWindowFacts', () => {
  const lakeRoot = mkdtempSync(join(tmpdir(), 'sdp-window-check-'));
  beforeAll(async () => {
    mkdirSync(join(lakeRoot, 'raw'));
    mkdirSync(join(lakeRoot, 'agg'));
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const day = Date.UTC(2026, 11, 4);
    // One raw event per window and its window with pv 1: every window accounted for, nothing late.
    await db.run(`COPY (SELECT make_timestamp((${day} + m * 60000 + 1000) * 1000) AS ts, '/page/' || u || '/' || repeat('x', 40) AS url
      FROM range(${MINUTES}) t(m), range(${URLS}) v(u)) TO '${join(lakeRoot, 'raw/part.parquet')}' (FORMAT parquet)`);
    await db.run(`COPY (SELECT make_timestamp((${day} + m * 60000) * 1000) AS minute_start,
      make_timestamp((${day} + m * 60000 + 60000) * 1000) AS minute_end, '/page/' || u || '/' || repeat('x', 40) AS url,
      1::BIGINT AS pv FROM range(${MINUTES}) t(m), range(${URLS}) v(u)) TO '${join(lakeRoot, 'agg/part.parquet')}' (FORMAT parquet)`);
    // A second file emitting the first window again, named before the first in path order.
    await db.run(`COPY (SELECT make_timestamp(${day} * 1000) AS minute_start, make_timestamp((${day} + 60000) * 1000) AS minute_end,
      '/page/0/' || repeat('x', 40) AS url, 1::BIGINT AS pv) TO '${join(lakeRoot, 'agg/a-again.parquet')}' (FORMAT parquet)`);
    db.closeSync();
  }, 60_000);
  afterAll(() => rmSync(lakeRoot, { recursive: true, force: true }));

  it('accounts for a day of windows: every window emitted once, nothing late, nothing over', async () => {
    const facts = await collectWindowFacts({
      lakeRoot,
      aggFiles: ['agg/part.parquet'],
      rawFiles: ['raw/part.parquet'],
      openWindows: [],
      windowSizeMs: 60_000,
      sinceMs: undefined,
    });
    expect(facts.windows).toBe(MINUTES * URLS);
    expect(facts.emittedTwice.count).toBe(0);
    expect(facts.badBounds.count).toBe(0);
    expect(facts.overRaw.count).toBe(0);
    expect(facts.short.count).toBe(0);
  }, 120_000);

  it('accounts for open windows too (the DuckDB join of three window tables ran out of memory on this)', async () => {
    // The aggregator's state at the end of a day: the last minutes open, each with a count per url.
    const day = Date.UTC(2026, 11, 4);
    const openWindows = [MINUTES, MINUTES + 1].map((m) => ({
      startMs: day + m * 60_000,
      counts: Array.from({ length: URLS }, (_, u) => ({ url: `/page/${u}/${'x'.repeat(40)}`, count: 1 })),
    }));
    const facts = await collectWindowFacts({
      lakeRoot,
      aggFiles: ['agg/part.parquet'],
      rawFiles: ['raw/part.parquet'],
      openWindows,
      windowSizeMs: 60_000,
      sinceMs: undefined,
    });
    expect(facts.windows).toBe(MINUTES * URLS);
    // Open windows of minutes with no raw event in the files: counted above raw, every one of them.
    expect(facts.overRaw.count).toBe(2 * URLS);
    expect(facts.overRaw.examples[0]).toMatchObject({ raw: 0, pv: 0, open: 1, file: null });
    expect(facts.short.count).toBe(0);
  }, 120_000);

  it('names the files of a window emitted twice, and the first of them for a window over its raw count', async () => {
    const facts = await collectWindowFacts({
      lakeRoot,
      aggFiles: ['agg/part.parquet', 'agg/a-again.parquet'],
      rawFiles: ['raw/part.parquet'],
      openWindows: [],
      windowSizeMs: 60_000,
      sinceMs: undefined,
    });
    expect(facts.emittedTwice.count).toBe(1);
    expect(facts.emittedTwice.examples[0]!.files).toEqual(['agg/a-again.parquet', 'agg/part.parquet']);
    expect(facts.overRaw.count).toBe(1);
    expect(facts.overRaw.examples[0]).toMatchObject({ raw: 1, pv: 2, open: 0, file: 'agg/a-again.parquet' });
  }, 120_000);
});
