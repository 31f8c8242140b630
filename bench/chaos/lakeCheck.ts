/**
 * The chaos run's verdict, computed by DuckDB from files only: the kcat read of the input topics
 * (read_committed) against the lake's Parquet, and `clickstream_agg` against the raw clickstream
 * table and the window aggregator's last checkpointed state.
 *
 * - Raw tables are compared as multisets of whole events (clickstream by event_id, user, url and
 *   event time; IoT by every column, since one device can report twice in one millisecond):
 *   `missing` = committed events the lake lacks, `duplicates` = copies beyond one, `uncommitted` =
 *   lake events that no committed record carries (an aborted transaction leaking).
 * - Windows: each (minute, url) emitted once, minute_end = minute_start + 1 min, pv ≤ the raw count
 *   of its minute and url, no window both emitted and still open, and the total shortfall
 *   (raw clickstream rows − emitted page views − page views held in open windows) equals the
 *   checkpointed late-event count.
 * - Offset ranges (every run, with one member or several): the ranges the raw files' names carry hold every
 *   committed record once and start and end on committed records (`bench/lakeRanges.ts`), and no `*.tmp` file of
 *   the raw tables is left once every process stopped.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type Json } from '@duckdb/node-api';
import { coverProblems, lakeFileRanges, type OffsetRange, type RangeProblem } from '../lakeRanges.js';
import type { AggStateView } from './checkpointJournal.js';

export interface StreamVerdict {
  produced: number;
  lake: number;
  missing: number;
  duplicates: number;
  uncommitted: number;
  /** A few offending events, for the report. */
  examples: string[];
}

export interface RangeVerdict {
  /** Distinct file ranges over the topic's partitions. */
  ranges: number;
  problems: RangeProblem[];
  badNames: string[];
  /** `*.tmp` files of the raw table and the topic's `_rejected` files. */
  tmpFiles: string[];
}

/** Rows and distinct events on each side (clickstream: event ids; IoT: whole readings, which have no id). */
export interface DistinctCounts {
  inputRows: number;
  inputDistinct: number;
  lakeRows: number;
  lakeDistinct: number;
}

export interface WindowVerdict {
  windows: number;
  emittedTwice: number;
  badBounds: number;
  overRaw: number;
  openOverRaw: number;
  openAndEmitted: number;
  rawRows: number;
  emittedPv: number;
  openPv: number;
  shortfall: number;
  lateEventsTotal: number;
  /** Sum of the above problems; the shortfall counts once when it differs from the late count. */
  mismatches: number;
  examples: string[];
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() ? hasParquet(join(dir, e.name)) : e.name.endsWith('.parquet')) return true;
  }
  return false;
}

const TS_MS = (col: string): string =>
  `CASE WHEN regexp_full_match(${col}, '-?[0-9]+') THEN CAST(${col} AS BIGINT) ELSE epoch_ms(CAST(${col} AS TIMESTAMPTZ)) END`;

export class LakeCheck {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    private readonly lakeRoot: string,
  ) {}

  /** A DuckDB database in `file` (it may spill there: a long run reads millions of events). */
  static async open(file: string, lakeRoot: string): Promise<LakeCheck> {
    const instance = await DuckDBInstance.create(file);
    const db = await instance.connect();
    const check = new LakeCheck(instance, db, lakeRoot);
    await check.run("SET TimeZone = 'UTC'");
    return check;
  }

  async rows(sql: string): Promise<Record<string, Json>[]> {
    return (await this.db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, Json>[];
  }

  async run(sql: string): Promise<void> {
    await this.db.run(sql);
  }

  async scalar(sql: string): Promise<number> {
    const [row] = await this.rows(sql);
    const value = row ? Object.values(row)[0] : undefined;
    return value === null || value === undefined ? 0 : Number(value);
  }

  /** Loads one kcat read (see independentRead.ts) as table `in_<stream>`; returns partition → last offset read. */
  async loadInput(stream: 'clickstream' | 'iot', ndjson: string): Promise<Map<number, bigint>> {
    const value =
      stream === 'clickstream'
        ? 'STRUCT(event_id VARCHAR, user_id VARCHAR, url VARCHAR, ts VARCHAR)'
        : 'STRUCT(device_id VARCHAR, site VARCHAR, temp_c DOUBLE, humidity DOUBLE, battery DOUBLE, signal_strength INTEGER, ts VARCHAR)';
    const columns =
      stream === 'clickstream'
        ? 'v.event_id, v.user_id, v.url'
        : 'v.device_id, v.site, v.temp_c, v.humidity, v.battery, v.signal_strength';
    await this.run(`CREATE OR REPLACE TABLE in_${stream} AS
      SELECT p, o, ${columns}, ${TS_MS('v.ts')} AS ts_ms
      FROM read_json(${sqlString(ndjson)}, format = 'newline_delimited', columns = {p: 'INTEGER', o: 'BIGINT', v: '${value}'})`);
    const rows = await this.rows(`SELECT p, max(o)::VARCHAR AS last FROM in_${stream} GROUP BY p`);
    return new Map(rows.map((r) => [Number(r.p), BigInt(String(r.last))]));
  }

  private async loadLake(stream: 'clickstream' | 'iot'): Promise<void> {
    const dir = join(this.lakeRoot, 'tables', stream);
    const columns =
      stream === 'clickstream'
        ? 'event_id, user_id, url'
        : 'device_id, site, temp_c, humidity, battery, signal_strength';
    const source = hasParquet(dir)
      ? `read_parquet(${sqlString(join(dir, '**', '*.parquet'))}, hive_partitioning = true, filename = true)`
      : `(SELECT * FROM in_${stream} WHERE false)`;
    const fileCol = hasParquet(dir) ? 'filename' : "'' AS filename";
    await this.run(
      `CREATE OR REPLACE TABLE lake_${stream} AS SELECT ${columns}, ${hasParquet(dir) ? 'epoch_ms(ts)' : 'ts_ms'} AS ts_ms, ${fileCol} FROM ${source}`,
    );
  }

  async compareStream(stream: 'clickstream' | 'iot'): Promise<StreamVerdict> {
    await this.loadLake(stream);
    const key =
      stream === 'clickstream'
        ? ['event_id', 'user_id', 'url', 'ts_ms']
        : ['device_id', 'site', 'temp_c', 'humidity', 'battery', 'signal_strength', 'ts_ms'];
    const k = key.join(', ');
    await this.run(`CREATE OR REPLACE TABLE diff_${stream} AS
      WITH i AS (SELECT ${k}, count(*) AS n, min(p) AS p, min(o) AS o FROM in_${stream} GROUP BY ALL),
           l AS (SELECT ${k}, count(*) AS n, min(filename) AS filename FROM lake_${stream} GROUP BY ${k})
      SELECT ${key.map((c) => `coalesce(i.${c}, l.${c}) AS ${c}`).join(', ')}, coalesce(i.n, 0) AS produced, coalesce(l.n, 0) AS in_lake, i.p, i.o, l.filename
      FROM i FULL OUTER JOIN l ON ${key.map((c) => `i.${c} = l.${c}`).join(' AND ')}
      WHERE coalesce(i.n, 0) <> coalesce(l.n, 0)`);
    const produced = await this.scalar(`SELECT count(*) FROM in_${stream}`);
    const lake = await this.scalar(`SELECT count(*) FROM lake_${stream}`);
    const missing = await this.scalar(
      `SELECT coalesce(sum(produced - in_lake), 0) FROM diff_${stream} WHERE produced > in_lake`,
    );
    const duplicates = await this.scalar(
      `SELECT coalesce(sum(in_lake - produced), 0) FROM diff_${stream} WHERE produced > 0 AND in_lake > produced`,
    );
    const uncommitted = await this.scalar(`SELECT coalesce(sum(in_lake), 0) FROM diff_${stream} WHERE produced = 0`);
    const examples = (await this.rows(`SELECT * FROM diff_${stream} ORDER BY p NULLS LAST, o LIMIT 10`)).map(
      (r) => `${stream}: ${JSON.stringify(r)}`,
    );
    return { produced, lake, missing, duplicates, uncommitted, examples };
  }

  /** After compareStream: rows and distinct ids of the kcat read and of the raw table. */
  async distinctCounts(stream: 'clickstream' | 'iot'): Promise<DistinctCounts> {
    const id =
      stream === 'clickstream' ? 'event_id' : '(device_id, site, temp_c, humidity, battery, signal_strength, ts_ms)';
    return {
      inputRows: await this.scalar(`SELECT count(*) FROM in_${stream}`),
      inputDistinct: await this.scalar(`SELECT count(DISTINCT ${id}) FROM in_${stream}`),
      lakeRows: await this.scalar(`SELECT count(*) FROM lake_${stream}`),
      lakeDistinct: await this.scalar(`SELECT count(DISTINCT ${id}) FROM lake_${stream}`),
    };
  }

  /** The committed records of the kcat read as runs of consecutive offsets, per partition (gaps: markers, aborts). */
  async committedRuns(stream: 'clickstream' | 'iot'): Promise<Map<number, OffsetRange[]>> {
    const rows = await this.rows(`SELECT p, min(o)::VARCHAR AS first, max(o)::VARCHAR AS last
      FROM (SELECT p, o, o - row_number() OVER (PARTITION BY p ORDER BY o) AS run FROM in_${stream})
      GROUP BY p, run ORDER BY p, min(o)`);
    const runs = new Map<number, OffsetRange[]>();
    for (const row of rows) {
      const p = Number(row.p);
      const list = runs.get(p) ?? [];
      list.push({ first: BigInt(String(row.first)), last: BigInt(String(row.last)) });
      runs.set(p, list);
    }
    return runs;
  }

  /** After loadInput: the raw files' offset ranges against the committed records (`bench/lakeRanges.ts`). */
  async checkRanges(stream: 'clickstream' | 'iot', topic: string): Promise<RangeVerdict> {
    const committed = await this.committedRuns(stream);
    const lake = lakeFileRanges(this.lakeRoot, stream, topic);
    const problems: RangeProblem[] = [...lake.overlaps];
    let ranges = 0;
    for (const partition of new Set([...committed.keys(), ...lake.ranges.keys()])) {
      const own = lake.ranges.get(partition) ?? [];
      ranges += own.length;
      for (const problem of coverProblems(own, committed.get(partition) ?? [])) problems.push({ partition, problem });
    }
    return { ranges, problems, badNames: lake.badNames, tmpFiles: lake.tmpFiles };
  }

  async checkWindows(agg: AggStateView | undefined, workDir: string): Promise<WindowVerdict> {
    const dir = join(this.lakeRoot, 'tables', 'clickstream_agg');
    const source = hasParquet(dir)
      ? `read_parquet(${sqlString(join(dir, '**', '*.parquet'))}, hive_partitioning = true)`
      : undefined;
    await this.run(
      source
        ? `CREATE OR REPLACE TABLE agg AS SELECT epoch_ms(minute_start) AS m, epoch_ms(minute_end) AS e, url, pv FROM ${source}`
        : 'CREATE OR REPLACE TABLE agg (m BIGINT, e BIGINT, url VARCHAR, pv BIGINT)',
    );
    await this.run(
      'CREATE OR REPLACE TABLE raw_w AS SELECT (ts_ms // 60000) * 60000 AS m, url, count(*) AS n FROM lake_clickstream GROUP BY ALL',
    );
    const openFile = join(workDir, 'open-windows.ndjson');
    const open = (agg?.openWindows ?? []).flatMap((w) =>
      w.counts.map((c) => JSON.stringify({ m: w.startMs, url: c.url, n: c.count })),
    );
    writeFileSync(openFile, open.length > 0 ? `${open.join('\n')}\n` : '');
    await this.run(
      open.length > 0
        ? `CREATE OR REPLACE TABLE open_w AS SELECT * FROM read_json(${sqlString(openFile)}, format = 'newline_delimited', columns = {m: 'BIGINT', url: 'VARCHAR', n: 'BIGINT'})`
        : 'CREATE OR REPLACE TABLE open_w (m BIGINT, url VARCHAR, n BIGINT)',
    );
    const windows = await this.scalar('SELECT count(*) FROM agg');
    const emittedTwice = await this.scalar(
      'SELECT count(*) FROM (SELECT m, url FROM agg GROUP BY ALL HAVING count(*) > 1)',
    );
    const badBounds = await this.scalar('SELECT count(*) FROM agg WHERE e <> m + 60000 OR m % 60000 <> 0');
    const overRaw = await this.scalar(
      'SELECT count(*) FROM (SELECT m, url, sum(pv) AS pv FROM agg GROUP BY ALL) a LEFT JOIN raw_w USING (m, url) WHERE raw_w.n IS NULL OR a.pv > raw_w.n',
    );
    const openOverRaw = await this.scalar(
      'SELECT count(*) FROM open_w LEFT JOIN raw_w USING (m, url) WHERE raw_w.n IS NULL OR open_w.n > raw_w.n',
    );
    const openAndEmitted = await this.scalar('SELECT count(*) FROM open_w WHERE m IN (SELECT DISTINCT m FROM agg)');
    const rawRows = await this.scalar('SELECT count(*) FROM lake_clickstream');
    const emittedPv = await this.scalar('SELECT coalesce(sum(pv), 0) FROM agg');
    const openPv = await this.scalar('SELECT coalesce(sum(n), 0) FROM open_w');
    const shortfall = rawRows - emittedPv - openPv;
    const lateEventsTotal = agg?.lateEventsTotal ?? 0;
    const examples = (
      await this.rows(`SELECT a.m, a.url, a.pv, a.copies, raw_w.n AS raw FROM (SELECT m, url, sum(pv) AS pv, count(*) AS copies FROM agg GROUP BY ALL) a LEFT JOIN raw_w USING (m, url)
        WHERE a.copies > 1 OR raw_w.n IS NULL OR a.pv > raw_w.n ORDER BY a.m, a.url LIMIT 10`)
    ).map((r) => `window: ${JSON.stringify(r)}`);
    const mismatches =
      emittedTwice + badBounds + overRaw + openOverRaw + openAndEmitted + (shortfall === lateEventsTotal ? 0 : 1);
    return {
      windows,
      emittedTwice,
      badBounds,
      overRaw,
      openOverRaw,
      openAndEmitted,
      rawRows,
      emittedPv,
      openPv,
      shortfall,
      lateEventsTotal,
      mismatches,
      examples,
    };
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}
