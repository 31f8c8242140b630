/**
 * The window facts of `verify` (windowRules.ts), computed by DuckDB over the Parquet files: page
 * views per (minute, url) of `clickstream_agg`, raw events per (minute, url) of `clickstream`
 * (columns ts and url only), and the open windows of the aggregator's checkpointed state. DuckDB
 * is held to two threads and a small memory limit, and spills to a temp directory of its own beyond it: a day at the
 * default rates is ~430,000 (minute, url) windows, more than the limit holds in memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';
import { sqlString } from '../query/lakeViews.js';
import type { WindowExample, WindowFacts } from './windowRules.js';

export interface WindowCheckInput {
  lakeRoot: string;
  /** Relative to the lake root. */
  aggFiles: readonly string[];
  rawFiles: readonly string[];
  openWindows: ReadonlyArray<{ startMs: number; counts: ReadonlyArray<{ url: string; count: number }> }>;
  windowSizeMs: number;
  /** Open windows before this (the --since day) are left out, as the files of earlier days are. */
  sinceMs: number | undefined;
  memoryLimit: string;
}

const EXAMPLES = 10;

function fileList(root: string, files: readonly string[]): string {
  return `[${files.map((f) => sqlString(join(root, f))).join(', ')}]`;
}

export async function collectWindowFacts(input: WindowCheckInput): Promise<WindowFacts> {
  // A database file of its own, in a temp directory (verify writes nothing into the lake): its tables are compressed
  // and evicted to disk past the memory limit, where an in-memory database runs out.
  const spill = await mkdtemp(join(tmpdir(), 'sdp-verify-'));
  const instance = await DuckDBInstance.create(join(spill, 'windows.duckdb'), {
    threads: '2',
    memory_limit: input.memoryLimit,
    preserve_insertion_order: 'false',
    temp_directory: spill,
  });
  try {
    const db = await instance.connect();
    try {
      return await facts(db, input);
    } finally {
      db.closeSync();
    }
  } finally {
    instance.closeSync();
    await rm(spill, { recursive: true, force: true });
  }
}

async function facts(db: DuckDBConnection, input: WindowCheckInput): Promise<WindowFacts> {
  const rows = async (sql: string): Promise<Record<string, Json>[]> =>
    (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, Json>[];
  const size = input.windowSizeMs;
  await db.run("SET TimeZone = 'UTC'");
  await db.run(
    input.aggFiles.length > 0
      ? `CREATE TABLE agg AS SELECT epoch_ms(minute_start) AS m, epoch_ms(minute_end) AS e, url, pv, filename AS file FROM read_parquet(${fileList(input.lakeRoot, input.aggFiles)}, filename = true)`
      : 'CREATE TABLE agg (m BIGINT, e BIGINT, url VARCHAR, pv BIGINT, file VARCHAR)',
  );
  await db.run(
    input.rawFiles.length > 0
      ? `CREATE TABLE raw_w AS SELECT (epoch_ms(ts) // ${size}) * ${size} AS m, url, count(*) AS n FROM read_parquet(${fileList(input.lakeRoot, input.rawFiles)}) GROUP BY ALL`
      : 'CREATE TABLE raw_w (m BIGINT, url VARCHAR, n BIGINT)',
  );
  await db.run('CREATE TABLE open_w (m BIGINT, url VARCHAR, n BIGINT)');
  const appender = await db.createAppender('open_w');
  for (const w of input.openWindows) {
    if (input.sinceMs !== undefined && w.startMs < input.sinceMs) continue;
    for (const c of w.counts) {
      appender.appendBigInt(BigInt(w.startMs));
      appender.appendVarchar(c.url);
      appender.appendBigInt(BigInt(c.count));
      appender.endRow();
    }
  }
  appender.closeSync();
  const rel = (file: Json): string | null =>
    file === null
      ? null
      : String(file)
          .slice(input.lakeRoot.length)
          .replace(/^[/\\]+/, '');

  const windows = Number((await rows('SELECT count(*) AS n FROM agg'))[0]!.n);
  // The files only of the examples: an ordered list() per group of the whole table cannot spill.
  const twice = await rows(
    `WITH d AS (SELECT m, url FROM agg GROUP BY m, url HAVING count(*) > 1),
          k AS (SELECT m, url FROM d ORDER BY m, url LIMIT ${EXAMPLES})
     SELECT a.m, a.url, list(a.file ORDER BY a.file) AS files, (SELECT count(*) FROM d) AS total
     FROM agg a JOIN k USING (m, url) GROUP BY a.m, a.url ORDER BY a.m, a.url`,
  );
  const bounds = await rows(
    `SELECT m, e, url, file, count(*) OVER () AS total FROM agg WHERE e <> m + ${size} OR m % ${size} <> 0 ORDER BY m, url LIMIT ${EXAMPLES}`,
  );
  await db.run(`CREATE TABLE acct AS
    WITH a AS (SELECT m, url, sum(pv) AS pv, min(file) AS file FROM agg GROUP BY m, url),
         o AS (SELECT m, url, sum(n) AS n FROM open_w GROUP BY m, url),
         keys AS (SELECT m, url FROM raw_w UNION SELECT m, url FROM a UNION SELECT m, url FROM o)
    SELECT k.m, k.url, coalesce(r.n, 0) AS raw, coalesce(a.pv, 0) AS pv, coalesce(o.n, 0) AS open, a.file,
           coalesce(r.n, 0) - coalesce(a.pv, 0) - coalesce(o.n, 0) AS late
    FROM keys k LEFT JOIN raw_w r USING (m, url) LEFT JOIN a USING (m, url) LEFT JOIN o USING (m, url)`);
  const example = (r: Record<string, Json>): WindowExample => ({
    minuteStartMs: Number(r.m),
    url: String(r.url),
    raw: Number(r.raw),
    pv: Number(r.pv),
    open: Number(r.open),
    file: rel(r.file ?? null),
  });
  const over = await rows(
    `SELECT *, count(*) OVER () AS total FROM acct WHERE late < 0 ORDER BY m, url LIMIT ${EXAMPLES}`,
  );
  const [short] = await rows('SELECT count(*) AS n, coalesce(sum(late), 0) AS s FROM acct WHERE late > 0');
  const shortExamples = await rows(`SELECT * FROM acct WHERE late > 0 ORDER BY m, url LIMIT ${EXAMPLES}`);
  const total = (r: Record<string, Json>[]): number => (r.length > 0 ? Number(r[0]!.total) : 0);
  return {
    windows,
    emittedTwice: {
      count: total(twice),
      examples: twice.map((r) => ({
        minuteStartMs: Number(r.m),
        url: String(r.url),
        files: (r.files as Json[]).map((f) => rel(f)!),
      })),
    },
    badBounds: {
      count: total(bounds),
      examples: bounds.map((r) => ({
        minuteStartMs: Number(r.m),
        minuteEndMs: Number(r.e),
        url: String(r.url),
        file: rel(r.file ?? null)!,
      })),
    },
    overRaw: { count: total(over), examples: over.map(example) },
    short: { count: Number(short!.n), sum: Number(short!.s), examples: shortExamples.map(example) },
  };
}
