import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectWindowFacts } from '../../../src/verify/windowCheck.js';

// A day at the default rates holds ~430,000 (minute, url) windows against verify's 160 MB; here 300,000 against 64 MB
// (the in-memory version of this check ran out of memory here, at 64 and at 96 MB).
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
    db.closeSync();
  }, 60_000);
  afterAll(() => rmSync(lakeRoot, { recursive: true, force: true }));

  it('accounts for more windows than its memory limit holds, spilling instead of failing', async () => {
    const facts = await collectWindowFacts({
      lakeRoot,
      aggFiles: ['agg/part.parquet'],
      rawFiles: ['raw/part.parquet'],
      openWindows: [],
      windowSizeMs: 60_000,
      sinceMs: undefined,
      memoryLimit: '64MB',
    });
    expect(facts.windows).toBe(MINUTES * URLS);
    expect(facts.emittedTwice.count).toBe(0);
    expect(facts.badBounds.count).toBe(0);
  }, 120_000);
});
