/**
 * Compaction end to end (architecture.md, "Compaction"): a lake of small files made by the real ETL over two days of
 * event time, then `lake compact`: fewer files, the same answers from DuckDB and from `query`, `verify` green, no tmp
 * file; old versions kept in `_swap` until `lake.vacuum_grace`. A DuckDB glob reader loops over the table during the
 * compaction and never sees a row twice; `query` (unit versions read around it) never sees one missing. Then kill -9
 * at every compaction fault point: right after the crash readers still see every row once, and the next `lake
 * compact` settles it, with `verify` green. Refused while an ETL runs.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { EtlProcess, etlEnv } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { createTestTopics, TestProducer } from '../helpers/kafkaTestData.js';
import { listFiles, openLake, parquetFiles, tmpFiles, type LakeReader } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';

const DAY = 86_400_000;
const POINTS = ['compaction-after-merged-tmp', 'compaction-after-version-built', 'compaction-after-exchange'] as const;
const VERIFY_OK =
  /^verify: files=\d+ rows=\d+ gaps=0 overlaps=0 count_mismatches=0 windows=\d+ window_mismatches=0 unverifiable_ranges=\d+ expired_ranges=0(?: \w+=\d+)*$/m;

describe('lake compact', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-compact-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('compact');
  const random = mulberry32(Date.now() % 1_000_000);
  // The day before yesterday, 20:00 UTC: its 8 hours end at yesterday 04:00, in the past at any time of day (events more
  // than etl.max_future_skew ahead go to _rejected, so a start of yesterday 20:00 failed the test from 00:00 to 04:00).
  const startMs = Date.now() - (Date.now() % DAY) - 2 * DAY + 20 * 3_600_000;
  let config: Config;
  let env: Record<string, string>;
  let sent = { clicks: 0, readings: 0, bad: 0 };
  let lake: LakeReader;

  const cli = (args: string[], extra: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { ...env, ...extra });

  /** Clicks and readings spread over 8 hours of event time from `startMs` (two dts), and one bad record. */
  async function send(clicks: number, readings: number): Promise<void> {
    const producer = new TestProducer(config, logger);
    await producer.connect();
    const partitions = config.kafka.partitions;
    const step = (8 * 3_600_000) / 2_400;
    try {
      await producer.send(config.topics.clickstream, [
        ...Array.from(
          { length: clicks },
          (_, i) =>
            clickEvent({
              runId,
              index: sent.clicks + i,
              userCount: 80,
              partitions,
              tsMs: startMs + Math.floor(((sent.clicks + i) % 2_400) * step),
              random,
            }).record,
        ),
        { partition: sent.bad % partitions, key: `bad-${sent.bad}`, value: 'not json', timestampMs: startMs },
      ]);
      await producer.send(
        config.topics.iot,
        Array.from(
          { length: readings },
          (_, i) =>
            iotEvent({
              index: sent.readings + i,
              devices: 16,
              partitions,
              tsMs: startMs + (sent.readings + i) * 1_000,
              random,
            }).record,
        ),
      );
    } finally {
      await producer.disconnect();
    }
    sent = { clicks: sent.clicks + clicks, readings: sent.readings + readings, bad: sent.bad + 1 };
  }

  /**
   * The ETL running while `chunks` sends arrive a little apart, then run to the end: a roll holds what its fetches
   * brought, so small files need small arrivals, as at the default rates.
   */
  async function etlWhileSending(log: string, chunks: number, clicks: number, readings: number): Promise<void> {
    const etl = EtlProcess.start(env, { logFile: join(dir, `${log}-live.log`) });
    try {
      await etl.statusPort();
      for (let i = 0; i < chunks; i++) {
        await send(clicks, readings);
        await new Promise((r) => setTimeout(r, 700));
      }
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    await runEtlToEnd({ config, logger, env, checkpointRoot, logFile: join(dir, log), settleMs: 3_000 });
  }

  /** What every reader must keep answering: rows, distinct ids, page views per day. */
  async function answers(): Promise<Record<string, unknown>> {
    const clicks = await lake.rows(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM ${lake.table('clickstream')}`,
    );
    const readings = await lake.rows(`SELECT count(*) AS n FROM ${lake.table('iot')}`);
    const rejected = await lake.rows(`SELECT count(*) AS n FROM ${lake.table('_rejected')}`);
    const windows = await lake.rows(
      `SELECT count(*) AS n, sum(pv) AS pv, count(DISTINCT (minute_start, url)) AS keys FROM ${lake.table('clickstream_agg')}`,
    );
    return { clicks, readings, rejected, windows };
  }

  const fileCount = (table: string): number => parquetFiles(lakeRoot, table).length;

  async function expectVerified(): Promise<void> {
    const result = await cli(['verify']);
    expect(result.stdout, result.stderr).toMatch(VERIFY_OK);
    expect(result.code).toBe(0);
  }

  beforeAll(async () => {
    config = loadTestConfig();
    mkdirSync(join(dir, 'run'), { recursive: true });
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '60',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    await etlWhileSending('etl-1.log', 16, 150, 75);
    lake = await openLake(lakeRoot);
  }, 600_000);

  afterAll(() => {
    lake?.close();
    if (process.env.COMPACTION_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else logger.info({ dir }, 'kept');
  });

  it('is refused while an ETL runs; a dry run lists the merges and changes nothing', async () => {
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl-running.log') });
    try {
      await etl.statusPort(); // listening: the platform is up and holds the checkpoint store
      const refused = await cli(['lake', 'compact']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('SDP_ERR_STORAGE_PLATFORM_RUNNING');
      const before = listFiles(join(lakeRoot, 'tables')).map((f) => f.path);
      const dry = await cli(['lake', 'compact', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/would merge clickstream dt=\d{4}-\d{2}-\d{2} p\d: \d+ files/);
      expect(dry.stdout).toMatch(/compact: merges=[1-9]\d* .*\(dry run: nothing changed\)/);
      // Every file is still there and no version was built; the running ETL may add files (windows closing) meanwhile.
      expect(listFiles(join(lakeRoot, 'tables')).map((f) => f.path)).toEqual(expect.arrayContaining(before));
      expect(existsSync(join(lakeRoot, '_swap'))).toBe(false);
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
  }, 120_000);

  it('merges the small files of every unit: same answers, verify green, no tmp file, old versions kept', async () => {
    const before = await answers();
    const counts = Object.fromEntries(
      ['clickstream', 'iot', '_rejected', 'clickstream_agg'].map((t) => [t, fileCount(t)]),
    );
    expect(counts.clickstream).toBeGreaterThan(8); // more than one per (dt, partition)
    await expectVerified();
    const sqlViews = "SELECT count(*) AS n FROM clickstream WHERE event_id LIKE '%'";
    const queryBefore = await cli(['query', sqlViews, '--format', 'csv']);
    expect(queryBefore.code, queryBefore.stderr).toBe(0);

    // A plain glob reader and the project's reader, looping while the compaction runs.
    const total = Number((before.clicks as Array<{ n: string }>)[0]!.n);
    const seen = { plain: [] as number[], plainErrors: 0, twice: 0, query: [] as number[] };
    let compacting = true;
    const plainLoop = (async () => {
      while (compacting) {
        try {
          const [row] = await lake.rows(
            `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM ${lake.table('clickstream')}`,
          );
          const n = Number(row!.n);
          seen.plain.push(n);
          if (n !== Number(row!.ids) || n > total) seen.twice += 1;
        } catch {
          seen.plainErrors += 1; // a file listed, then swapped away (architecture.md, "Compaction")
        }
      }
    })();
    const queryLoop = (async () => {
      while (compacting) {
        const r = await cli(['query', 'SELECT count(*) AS n FROM clickstream', '--format', 'csv']);
        expect(r.code, r.stderr).toBe(0);
        seen.query.push(Number(r.stdout.trim().split('\n')[1]));
      }
    })();
    const compacted = await cli(['lake', 'compact']);
    compacting = false;
    await Promise.all([plainLoop, queryLoop]);
    expect(compacted.code, compacted.stderr).toBe(0);
    expect(compacted.stdout).toMatch(/^compact: merges=[1-9]\d* files_before=\d+ files_after=\d+ /m);

    expect(seen.twice).toBe(0);
    expect(seen.plain.length).toBeGreaterThan(0);
    expect(seen.query.length).toBeGreaterThan(0);
    expect(seen.query.every((n) => n === total)).toBe(true);
    const short = seen.plain.filter((n) => n < total).length;
    process.stdout.write(
      `readers during the compaction: plain glob ${seen.plain.length} answers (${short} short, ` +
        `${seen.plainErrors} errors, ${seen.twice} with a row twice), query ${seen.query.length} answers, all exact\n`,
    );

    expect(await answers()).toEqual(before);
    // clickstream_agg: the process aggregator's agg units, by checkpoint ids (its newest checkpoint's files stay).
    for (const table of ['clickstream', 'iot', '_rejected', 'clickstream_agg'])
      expect(fileCount(table), table).toBeLessThan(counts[table]!);
    expect(fileCount('clickstream')).toBeLessThanOrEqual(2 * 4 + 4); // per dt and partition one, plus newest rolls
    expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
    await expectVerified();
    const queryAfter = await cli(['query', sqlViews, '--format', 'csv']);
    expect(queryAfter.stdout).toBe(queryBefore.stdout);
    const swap = join(lakeRoot, '_swap', 'clickstream');
    expect(readdirSync(swap).length).toBeGreaterThan(0);

    // A second run finds nothing to merge; with no grace the old versions go.
    const again = await cli(['lake', 'compact'], { SDP_LAKE__VACUUM_GRACE: '0s' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/compact: merges=0 .* old_versions_vacuumed=[1-9]/);
    expect(listFiles(join(lakeRoot, '_swap')).length).toBe(0);
    expect(await answers()).toEqual(before);
  }, 300_000);

  it.each(POINTS)(
    'killed at %s: readers see every row once, the next run settles it, verify green',
    async (point) => {
      // New small files to merge, after the ETL went on over a compacted lake.
      await etlWhileSending(`etl-${point}`, 4, 150, 60);
      const before = await answers();
      expect((before.clicks as Array<{ n: string; ids: string }>)[0]).toEqual({
        n: String(sent.clicks),
        ids: String(sent.clicks),
      });

      const crashed = await cli(['lake', 'compact'], { SDP_FAULT: point });
      expect(crashed.code, crashed.stdout).toBeNull(); // SIGKILL
      expect(crashed.stderr).toContain(`SDP_FAULT=${point}`);
      expect(await answers()).toEqual(before);

      const settled = await cli(['lake', 'compact']);
      expect(settled.code, settled.stderr).toBe(0);
      expect(settled.stdout).toContain('an interrupted compaction was settled');
      expect(await answers()).toEqual(before);
      expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
      await expectVerified();
    },
    300_000,
  );
});
