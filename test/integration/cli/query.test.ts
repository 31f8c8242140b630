/**
 * `node dist/main.js query "<SQL>"` over a small real lake written with the project's
 * own Parquet encoder and layout, in each output format, with its errors and with an empty lake.
 * Needs no Kafka.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowOf } from '../../../src/lake/tables.js';
import { runCli } from '../helpers/runCli.js';
import { writeGarbage, writeLakeTable } from '../helpers/smallLake.js';

const DAY1 = Date.UTC(2024, 2, 1, 10, 0, 0);
const DAY2 = Date.UTC(2024, 2, 2, 23, 59, 59, 999);

const clicks: RowOf<'clickstream'>[] = [
  { event_id: 'e-1', user_id: 'u-1', url: '/home', referrer: null, ua: 'Mozilla/5.0 (X11; Linux x86_64)', ts: DAY1 },
  {
    event_id: 'e-2',
    user_id: 'u-1',
    url: '/deals',
    referrer: '/home',
    ua: 'Mozilla/5.0 (X11; Linux x86_64)',
    ts: DAY1 + 5_000,
  },
  {
    event_id: 'e-3',
    user_id: 'u-2',
    url: '/home',
    referrer: 'https://www.google.com/search?q=a,"b"',
    ua: 'Googlebot/2.1',
    ts: DAY1 + 61_000,
  },
  { event_id: 'e-4', user_id: 'u-3', url: '/home', referrer: null, ua: 'curl/8.5.0', ts: DAY2 },
  { event_id: 'e-5', user_id: 'u-3', url: '/cart', referrer: '/home', ua: 'curl/8.5.0', ts: DAY2 - 1 },
];

const windows: RowOf<'clickstream_agg'>[] = [
  { minute_start: DAY1, minute_end: DAY1 + 60_000, url: '/home', pv: 1 },
  { minute_start: DAY1, minute_end: DAY1 + 60_000, url: '/deals', pv: 1 },
  { minute_start: DAY1 + 60_000, minute_end: DAY1 + 120_000, url: '/home', pv: 1 },
];

describe('query over a small lake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-query-'));
  const lakeRoot = join(dir, 'lake');
  const env = { SDP_STORAGE__DATALAKE_ROOT: lakeRoot };

  beforeAll(async () => {
    await writeLakeTable(lakeRoot, 'clickstream', clicks);
    await writeLakeTable(lakeRoot, 'clickstream_agg', windows);
    // Not committed yet: a reader must never see it (it would fail the whole query).
    writeGarbage(
      join(lakeRoot, 'tables/clickstream/dt=2024-03-01/part-9-00000000000000000000-00000000000000000009.parquet.tmp'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a table by default, and names the tables that have no data on stderr', async () => {
    const result = await runCli(
      ['query', 'SELECT url, count(*) AS views FROM clickstream GROUP BY url ORDER BY views DESC, url'],
      env,
    );
    expect(result.stderr).toBe(
      `note: no data yet in iot, _rejected (no Parquet files under ${lakeRoot}/tables/); views: clickstream, clickstream_agg\n`,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      ['url     views', '------  -----', '/home       3', '/cart       1', '/deals      1', '(3 rows)', ''].join('\n'),
    );
  });

  it('prints csv with a header, quoting and NULL as an empty field', async () => {
    const result = await runCli(
      [
        'query',
        "SELECT event_id, referrer, dt FROM clickstream WHERE event_id IN ('e-1', 'e-3') ORDER BY event_id",
        '--format',
        'csv',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'event_id,referrer,dt\r\ne-1,,2024-03-01\r\ne-3,"https://www.google.com/search?q=a,""b""",2024-03-01\r\n',
    );
  });

  it('prints json with counts and sums as numbers, dt as a DATE from the Hive partition', async () => {
    const result = await runCli(
      [
        'query',
        'SELECT dt, typeof(dt) AS dt_type, count(*) AS events, min(ts) AS first_ts FROM clickstream GROUP BY dt ORDER BY dt',
        '--format',
        'json',
      ],
      env,
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { dt: '2024-03-01', dt_type: 'DATE', events: 3, first_ts: '2024-03-01 10:00:00' },
      { dt: '2024-03-02', dt_type: 'DATE', events: 2, first_ts: '2024-03-02 23:59:59.998' },
    ]);
    const agg = await runCli(
      [
        'query',
        'SELECT url, sum(pv) AS views FROM clickstream_agg GROUP BY url ORDER BY views DESC LIMIT 1',
        '--format',
        'json',
      ],
      env,
    );
    expect(JSON.parse(agg.stdout)).toEqual([{ url: '/home', views: 2 }]);
  });

  it('exits 2 with DuckDB message for a statement with a syntax error', async () => {
    const result = await runCli(['query', 'SELEC url FROM clickstream'], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error SDP_ERR_QUERY_INVALID: Parser Error: syntax error at or near "SELEC"');
    // DuckDB's context line, with its caret under the offending word.
    const lines = result.stderr.split('\n');
    const context = lines.findIndex((l) => l.includes('LINE 1: SELEC url FROM clickstream'));
    expect(context).toBeGreaterThan(-1);
    expect(lines[context + 1]!.indexOf('^')).toBe(lines[context]!.indexOf('SELEC'));
  });

  it('exits 2 for an unknown column or an unknown table', async () => {
    const column = await runCli(['query', 'SELECT nope FROM clickstream'], env);
    expect(column.code).toBe(2);
    expect(column.stderr).toContain('Binder Error');
    const table = await runCli(['query', 'SELECT * FROM clikstream'], env);
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('Catalog Error: Table with name clikstream does not exist');
  });

  it('exits 1 and says so when the statement needs a table that has no data yet', async () => {
    const result = await runCli(['query', 'SELECT count(*) FROM iot'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error SDP_ERR_QUERY_NO_DATA: table iot has no data in the lake at ${lakeRoot} yet (no Parquet files under tables/iot)`,
    );
  });

  it('exits 2 for an unknown format, before running anything', async () => {
    const result = await runCli(['query', 'SELECT 1', '--format', 'xml'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("argument 'xml' is invalid. expected one of table, csv, json");
  });

  it('exits 1 naming DuckDB I/O error when a committed file is not Parquet', async () => {
    const broken = join(dir, 'broken');
    await writeLakeTable(broken, 'clickstream', clicks.slice(0, 1));
    writeGarbage(
      join(broken, 'tables/clickstream/dt=2024-03-01/part-1-00000000000000000000-00000000000000000001.parquet'),
    );
    const result = await runCli(['query', 'SELECT count(*) FROM clickstream'], { SDP_STORAGE__DATALAKE_ROOT: broken });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error SDP_ERR_QUERY_FAILED: ');
    expect(result.stderr).toMatch(/part-1-0+-0+1\.parquet/);
  });

  it('keeps the other views when one table cannot be read at all, and says which', async () => {
    const broken = join(dir, 'broken-first');
    await writeLakeTable(broken, 'clickstream_agg', windows);
    writeGarbage(
      join(broken, 'tables/clickstream/dt=2024-03-01/part-0-00000000000000000000-00000000000000000001.parquet'),
    );
    const other = await runCli(['query', 'SELECT sum(pv) AS views FROM clickstream_agg', '--format', 'csv'], {
      SDP_STORAGE__DATALAKE_ROOT: broken,
    });
    expect(other.code).toBe(0);
    expect(other.stdout).toBe('views\r\n3\r\n');
    expect(other.stderr).toContain('note: table clickstream cannot be read: ');
    const result = await runCli(['query', 'SELECT count(*) FROM clickstream'], { SDP_STORAGE__DATALAKE_ROOT: broken });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error SDP_ERR_QUERY_FAILED: table clickstream in the lake at ${broken} cannot be read`,
    );
  });
});

describe('query over an empty lake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-query-empty-'));
  const env = { SDP_STORAGE__DATALAKE_ROOT: join(dir, 'never-written') };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs a statement that needs no table, and says the lake is empty', async () => {
    const result = await runCli(['query', 'SELECT 42 AS answer', '--format', 'json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([{ answer: 42 }]);
    expect(result.stderr).toContain(
      `note: the lake at ${join(dir, 'never-written')} is empty: no Parquet files under tables/{clickstream,iot,clickstream_agg,_rejected}`,
    );
  });

  it('exits 1 and says the table has no data for a statement over a lake table', async () => {
    const result = await runCli(['query', 'SELECT count(*) FROM clickstream'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error SDP_ERR_QUERY_NO_DATA: table clickstream has no data in the lake');
  });
});
