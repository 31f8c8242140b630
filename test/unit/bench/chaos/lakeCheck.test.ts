/**
 * The chaos run's verdict must see every kind of damage: a lake built by hand (Parquet written by
 * DuckDB) against a hand-written read_committed input, with one event missing, one written twice,
 * one that no committed record carries, a window emitted twice, a window over its raw count, and a
 * late count that does not add up.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import type { AggStateView } from '../../../../bench/chaos/checkpointJournal.js';
import { LakeCheck } from '../../../../bench/chaos/lakeCheck.js';

const MIN = Date.UTC(2026, 11, 1, 10, 0, 0);

interface Click {
  event_id: string;
  url: string;
  ts: number;
}

const clicks: Click[] = [
  { event_id: 'a', url: '/x', ts: MIN + 1_000 },
  { event_id: 'b', url: '/x', ts: MIN + 2_000 },
  { event_id: 'c', url: '/y', ts: MIN + 3_000 },
  { event_id: 'd', url: '/y', ts: MIN + 61_000 },
];
const readings = [
  { device_id: 'dev-1', site: 's', temp_c: 21.5, humidity: 40.1, battery: 99.5, signal_strength: -60, ts: MIN + 1_000 },
  // The same device twice in one millisecond, identical: a legitimate pair, not a duplicate.
  { device_id: 'dev-1', site: 's', temp_c: 21.5, humidity: 40.1, battery: 99.5, signal_strength: -60, ts: MIN + 1_000 },
];

async function writeParquet(dir: string, file: string, select: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  await db.run(`COPY (${select}) TO '${join(dir, file)}' (FORMAT parquet)`);
  db.closeSync();
  instance.closeSync();
}

function clickRow(c: Click): string {
  return `SELECT '${c.event_id}' AS event_id, 'u1' AS user_id, '${c.url}' AS url, NULL::VARCHAR AS referrer, 'ua' AS ua, make_timestamp(${c.ts}::BIGINT * 1000) AS ts`;
}

function input(file: string, rows: object[]): void {
  writeFileSync(file, rows.map((v, o) => JSON.stringify({ p: 0, o, v })).join('\n') + '\n');
}

describe('LakeCheck', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function verdict(lakeClicks: Click[], agg: Array<{ m: number; url: string; pv: number }>, state: AggStateView) {
    dir = mkdtempSync(join(tmpdir(), 'sdp-chaos-check-'));
    const lake = join(dir, 'lake');
    input(
      join(dir, 'click.ndjson'),
      clicks.map((c) => ({
        event_id: c.event_id,
        user_id: 'u1',
        url: c.url,
        ua: 'ua',
        ts: new Date(c.ts).toISOString(),
      })),
    );
    input(
      join(dir, 'iot.ndjson'),
      readings.map((r) => ({ ...r, ts: r.ts })),
    );
    await writeParquet(
      join(lake, 'tables', 'clickstream', 'dt=2026-12-01'),
      'part-0-00000000000000000000-00000000000000000003.parquet',
      lakeClicks.map(clickRow).join(' UNION ALL '),
    );
    await writeParquet(
      join(lake, 'tables', 'iot', 'dt=2026-12-01'),
      'part-0-00000000000000000000-00000000000000000001.parquet',
      readings
        .map(
          (r) =>
            `SELECT '${r.device_id}' AS device_id, '${r.site}' AS site, ${r.temp_c}::DOUBLE AS temp_c, ${r.humidity}::DOUBLE AS humidity, ${r.battery}::DOUBLE AS battery, ${r.signal_strength}::INTEGER AS signal_strength, make_timestamp(${r.ts}::BIGINT * 1000) AS ts`,
        )
        .join(' UNION ALL '),
    );
    if (agg.length > 0) {
      await writeParquet(
        join(lake, 'tables', 'clickstream_agg', 'dt=2026-12-01'),
        'part-00000000000000000001.parquet',
        agg
          .map(
            (a) =>
              `SELECT make_timestamp(${a.m}::BIGINT * 1000) AS minute_start, make_timestamp(${a.m + 60_000}::BIGINT * 1000) AS minute_end, '${a.url}' AS url, ${a.pv}::BIGINT AS pv`,
          )
          .join(' UNION ALL '),
      );
    }
    const check = await LakeCheck.open(join(dir, 'check.duckdb'), lake);
    try {
      const lastClick = await check.loadInput('clickstream', join(dir, 'click.ndjson'));
      await check.loadInput('iot', join(dir, 'iot.ndjson'));
      return {
        lastClick,
        click: await check.compareStream('clickstream'),
        iot: await check.compareStream('iot'),
        windows: await check.checkWindows(state, dir),
        clickRanges: await check.checkRanges('clickstream', 'clicks'),
        clickDistinct: await check.distinctCounts('clickstream'),
        iotDistinct: await check.distinctCounts('iot'),
      };
    } finally {
      check.close();
    }
  }

  const openMinute2: AggStateView = {
    lateEventsTotal: 0,
    emittedFrontierMs: MIN + 60_000,
    openWindows: [{ startMs: MIN + 60_000, counts: [{ url: '/y', count: 1 }] }],
  };

  it('finds nothing wrong in a right lake', async () => {
    const v = await verdict(
      clicks,
      [
        { m: MIN, url: '/x', pv: 2 },
        { m: MIN, url: '/y', pv: 1 },
      ],
      openMinute2,
    );
    expect(v.lastClick).toEqual(new Map([[0, 3n]]));
    expect(v.click).toMatchObject({ produced: 4, lake: 4, missing: 0, duplicates: 0, uncommitted: 0 });
    expect(v.iot).toMatchObject({ produced: 2, lake: 2, missing: 0, duplicates: 0, uncommitted: 0 });
    expect(v.windows).toMatchObject({ windows: 2, mismatches: 0, shortfall: 0, lateEventsTotal: 0 });
    expect(v.clickRanges).toEqual({ ranges: 1, problems: [], badNames: [], tmpFiles: [] });
    expect(v.clickDistinct).toEqual({ inputRows: 4, inputDistinct: 4, lakeRows: 4, lakeDistinct: 4 });
    // The two identical readings are one distinct reading on both sides.
    expect(v.iotDistinct).toEqual({ inputRows: 2, inputDistinct: 1, lakeRows: 2, lakeDistinct: 1 });
  });

  it('checks file ranges against the committed offsets, markers between them, and finds tmp files', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sdp-chaos-check-'));
    const lake = join(dir, 'lake');
    // Two transactions of two records on p0, each followed by its commit marker (offsets 2 and 5).
    writeFileSync(
      join(dir, 'click.ndjson'),
      [0, 1, 3, 4]
        .map((o, i) => JSON.stringify({ p: 0, o, v: { event_id: `e${i}`, user_id: 'u', url: '/x', ts: MIN + i } }))
        .join('\n'),
    );
    const dt = join(lake, 'tables', 'clickstream', 'dt=2026-12-01');
    const check = await LakeCheck.open(join(dir, 'check.duckdb'), lake);
    try {
      await check.loadInput('clickstream', join(dir, 'click.ndjson'));
      mkdirSync(dt, { recursive: true });
      writeFileSync(join(dt, 'part-0-00000000000000000000-00000000000000000001.parquet'), '');
      writeFileSync(join(dt, 'part-0-00000000000000000003-00000000000000000004.parquet'), '');
      expect((await check.checkRanges('clickstream', 'clicks')).problems).toEqual([]);
      writeFileSync(join(dt, 'part-0-00000000000000000003-00000000000000000005.parquet.s1.tmp'), '');
      writeFileSync(join(dt, 'part-0-00000000000000000001-00000000000000000002.parquet'), '');
      const bad = await check.checkRanges('clickstream', 'clicks');
      expect(bad.tmpFiles).toEqual([
        'tables/clickstream/dt=2026-12-01/part-0-00000000000000000003-00000000000000000005.parquet.s1.tmp',
      ]);
      expect(bad.problems).toEqual([
        { partition: 0, problem: 'overlap in clickstream/dt=2026-12-01: range 1-2 starts before 2' },
        { partition: 0, problem: 'range 0-2 ends on no committed record' },
      ]);
    } finally {
      check.close();
    }
  });

  it('counts a missing, a duplicated and an uncommitted event', async () => {
    const lakeClicks = [
      clicks[0]!,
      clicks[0]!,
      clicks[2]!,
      clicks[3]!,
      { event_id: 'aborted', url: '/x', ts: MIN + 5_000 },
    ];
    const v = await verdict(lakeClicks, [], { ...openMinute2, emittedFrontierMs: null, openWindows: [] });
    expect(v.click).toMatchObject({ produced: 4, lake: 5, missing: 1, duplicates: 1, uncommitted: 1 });
    expect(v.click.examples.join('\n')).toMatch(/"event_id":"b".*"produced":"1","in_lake":"0"/);
  });

  it('counts a window emitted twice, one over its raw count, and a shortfall the late count does not explain', async () => {
    const agg = [
      { m: MIN, url: '/x', pv: 1 },
      { m: MIN, url: '/x', pv: 1 },
      { m: MIN, url: '/y', pv: 2 },
    ];
    const v = await verdict(clicks, agg, openMinute2);
    expect(v.windows).toMatchObject({ emittedTwice: 1, overRaw: 1 });
    // raw 4 − emitted 4 − open 1 = −1 ≠ 0 late events
    expect(v.windows.shortfall).toBe(-1);
    expect(v.windows.mismatches).toBe(3);
  });

  it('accepts a shortfall exactly explained by the checkpointed late count', async () => {
    const v = await verdict(
      clicks,
      [
        { m: MIN, url: '/x', pv: 1 },
        { m: MIN, url: '/y', pv: 1 },
      ],
      { ...openMinute2, lateEventsTotal: 1 },
    );
    expect(v.windows).toMatchObject({ shortfall: 1, lateEventsTotal: 1, mismatches: 0 });
  });
});
