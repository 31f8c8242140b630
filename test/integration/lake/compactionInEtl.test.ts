/**
 * Compaction inside the ETL (architecture.md, "Compaction"): each partition's owner merges its units' small files as
 * one more commit of its own, while late events of the same day keep arriving. Real cluster, real Parquet read back
 * by DuckDB: every row once, `verify` green. Then kill -9 (SDP_FAULT) at points of the owner's compaction (all four
 * with TEST_LONG=1, two per owner otherwise), a restart in the same group (the takeover completes what the last
 * commit named), every row once, `verify` green.
 * With ETL_TEST_WINDOWS=members the stage-2 tasks compact their `clickstream_agg` units `r<r>` too: fewer files than
 * their commits published, one row per (minute, url) matching the raw rows, and the same kills settle.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { EtlProcess, etlEnv, type LogLine } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { createTestTopics, TestProducer } from '../helpers/kafkaTestData.js';
import { windowsMissingBeforeLastEmitted, windowsNotMatchingRaw } from '../helpers/lakeChecks.js';
import { type LakeReader, listFiles, openLake, parquetFiles, tmpFiles } from '../helpers/lakeReader.js';
import { loadTestConfig, windowsModeOf } from '../helpers/loadTestConfig.js';
import { shortOrAll } from '../helpers/longRun.js';
import { sampleValue, scrapeMetrics } from '../helpers/prometheusText.js';
import { randomName } from '../helpers/randomName.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const DAY = 86_400_000;
const POINTS = [
  'compaction-after-merged-tmp',
  'compaction-after-commit',
  'compaction-after-version-built',
  'compaction-after-exchange',
] as const;
/**
 * The short run (CI) kills each owner at two of the four points, the two owners together at all four: the raw
 * owners where a restart must roll forward or find it done, the aggregator (its points named `agg-…`, so a kill
 * lands in the owner meant) where its store says roll back or forward; the stage-2 tasks (the same `agg-…` points)
 * at one more. `npm run test:long` kills each at all four.
 */
const RAW_POINTS = shortOrAll(POINTS, ['compaction-after-commit', 'compaction-after-exchange']);
const AGG_POINTS = shortOrAll(
  POINTS.map((p) => `agg-${p}` as const),
  ['agg-compaction-after-merged-tmp', 'agg-compaction-after-version-built'],
);
const VERIFY_OK =
  /^verify: files=\d+ rows=\d+ gaps=0 overlaps=0 count_mismatches=0 windows=\d+ window_mismatches=0 unverifiable_ranges=\d+ expired_ranges=0 sealed_manifests=\d+ manifest_mismatches=0 manifest_pending=\d+$/m;

const swapped = (l: LogLine): boolean => l.msg === 'unit compacted by its owner' && l.outcome === 'swapped';
/** A stage-2 commit that published windows: one file per dt in its task's unit `r<r>` (one dt here). */
const windowsPublished = (l: LogLine): boolean => l.msg === 'windows committed' && Number(l.rows) > 0;

describe('compaction inside the ETL', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-compact-etl-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('compact-etl');
  const random = mulberry32(Date.now() % 1_000_000);
  // The day before yesterday, 06:00 UTC onwards: in the past at any hour of today, one dt.
  const startMs = Date.now() - (Date.now() % DAY) - 2 * DAY + 6 * 3_600_000;
  let config: Config;
  let env: Record<string, string>;
  let sent = { clicks: 0, readings: 0 };
  let lake: LakeReader;
  let members = false;

  /** Clicks and readings of the day before yesterday: late events for a dt whose files are being compacted. */
  async function send(clicks: number, readings: number): Promise<void> {
    const producer = new TestProducer(config, logger);
    await producer.connect();
    const partitions = config.kafka.partitions;
    try {
      await producer.send(
        config.topics.clickstream,
        Array.from(
          { length: clicks },
          (_, i) =>
            clickEvent({
              runId,
              index: sent.clicks + i,
              userCount: 80,
              partitions,
              tsMs: startMs + (sent.clicks + i) * 1_000,
              random,
            }).record,
        ),
      );
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
    sent = { clicks: sent.clicks + clicks, readings: sent.readings + readings };
  }

  /** Small files: sends a little apart while an ETL without compaction runs, then to the end. */
  async function smallFiles(log: string, chunks: number): Promise<void> {
    const off = { ...env, SDP_LAKE__COMPACTION: 'false' };
    const etl = EtlProcess.start(off, { logFile: join(dir, `${log}-live.log`) });
    try {
      await etl.statusPort();
      for (let i = 0; i < chunks; i++) {
        await send(120, 60);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    await runEtlToEnd({ config, logger, env: off, checkpointRoot, logFile: join(dir, log), settleMs: 1_000 });
  }

  /** Every row once: DuckDB's rows and distinct ids equal what was produced. */
  async function expectEveryRowOnce(): Promise<void> {
    const [clicks] = await lake.rows(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM ${lake.table('clickstream')}`,
    );
    expect(clicks).toEqual({ n: String(sent.clicks), ids: String(sent.clicks) });
    const [readings] = await lake.rows(`SELECT count(*) AS n FROM ${lake.table('iot')}`);
    expect(readings).toEqual({ n: String(sent.readings) });
    if (members) await expectWindowsOnce();
  }

  /** Members mode: one `clickstream_agg` row per (minute, url), each the raw rows' count, none missing before the last. */
  async function expectWindowsOnce(): Promise<void> {
    const agg = lake.table('clickstream_agg');
    expect(
      await lake.rows(`SELECT minute_start::VARCHAR AS m, url FROM ${agg} GROUP BY ALL HAVING count(*) > 1`),
    ).toEqual([]);
    expect(await windowsNotMatchingRaw(lake)).toEqual([]);
    expect(await windowsMissingBeforeLastEmitted(lake)).toEqual([]);
  }

  async function expectVerified(): Promise<void> {
    const result = await runCli(['verify'], env);
    expect(result.stdout, result.stderr).toMatch(VERIFY_OK);
    expect(result.code).toBe(0);
  }

  beforeAll(async () => {
    config = loadTestConfig();
    members = windowsModeOf(config) === 'members';
    mkdirSync(join(dir, 'run'), { recursive: true });
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '40',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_LAKE__COMPACTION_INTERVAL: '1s',
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    lake = await openLake(lakeRoot);
  }, 120_000);

  afterAll(() => {
    lake?.close();
    if (process.env.COMPACTION_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else logger.info({ dir }, 'kept');
  });

  it('compacts while running as late events keep arriving: every row once, verify green', async () => {
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl-live.log') });
    try {
      const port = await etl.statusPort();
      // Once the ETL runs, before any merge (nothing sent yet), every table's compaction series is there at 0.
      await etl.waitForLog((l) => l.msg === 'etl started', 60_000, 'the etl to start');
      const first = await scrapeMetrics(port);
      for (const table of ['clickstream', 'iot', '_rejected', 'clickstream_agg'])
        expect(sampleValue(first, 'sdp_lake_compactions_total', { table, outcome: 'swapped' }), table).toBe(0);
      // Small rolls, the owners compacting every second meanwhile.
      for (let i = 0; i < 10; i++) {
        await send(120, 60);
        await new Promise((r) => setTimeout(r, 500));
      }
      await etl.waitForLog(swapped, 60_000, 'a unit compacted by its owner');
      // Late events for the same dt, after compactions: new files land in compacted units, and are compacted too.
      // `verify` and `data stats` meanwhile (safe while the platform runs) never trip over a file swapped away.
      const compactedBefore = etl.logsMatching(swapped).length;
      let sending = true;
      const verifies: string[] = [];
      const verifyLoop = (async () => {
        while (sending) {
          for (const args of [
            ['verify', '--table', 'iot'],
            ['data', 'stats', '--json'],
          ]) {
            const r = await runCli(args, env);
            verifies.push(`${args[0]} ${r.code} ${r.stdout}${r.stderr}`);
          }
        }
      })();
      for (let i = 0; i < 6; i++) {
        await send(120, 60);
        await new Promise((r) => setTimeout(r, 500));
      }
      sending = false;
      await verifyLoop;
      expect(verifies.length).toBeGreaterThan(0);
      expect(verifies.filter((v) => /ENOENT|no such file|cannot open/i.test(v))).toEqual([]);
      await etl.waitForLog(
        () => etl.logsMatching(swapped).length > compactedBefore,
        60_000,
        'a compaction after the late events',
      );
      const tables = new Set(etl.logsMatching(swapped).map((l) => l.table));
      expect([...tables].sort()).toEqual(expect.arrayContaining(['clickstream', 'iot']));
      if (members)
        await etl.waitForLog(
          (l) => swapped(l) && l.table === 'clickstream_agg',
          60_000,
          "a stage-2 task's unit compacted by its task",
        );
      expect(etl.problems().filter((l) => l.component === 'compaction')).toEqual([]);
      // /metrics counts every owner's merges as its log does: swapped ones per table, the files they merged away.
      // Owners go on merging meanwhile: the scrape counts at least the lines read before it, and the lines logged
      // up to it (read here a moment later: the log arrives through a pipe) catch up with it.
      const tally = (table: string) => {
        const mine = etl.logsMatching(swapped).filter((l) => l.table === table);
        return { merges: mine.length, files: mine.reduce((n, l) => n + Number(l.files), 0) };
      };
      const counted = ['clickstream', 'iot', ...(members ? ['clickstream_agg'] : [])];
      const before = counted.map(tally);
      const samples = await scrapeMetrics(port);
      const scraped = counted.map((table) => ({
        merges: sampleValue(samples, 'sdp_lake_compactions_total', { table, outcome: 'swapped' }) ?? Number.NaN,
        files: sampleValue(samples, 'sdp_lake_compacted_files_total', { table }) ?? Number.NaN,
      }));
      counted.forEach((table, i) => {
        expect(scraped[i]!.merges, table).toBeGreaterThanOrEqual(Math.max(1, before[i]!.merges));
        expect(scraped[i]!.files, table).toBeGreaterThanOrEqual(before[i]!.files);
      });
      await waitFor(
        async () =>
          counted.every((table, i) => {
            const logged = tally(table);
            return logged.merges >= scraped[i]!.merges && logged.files >= scraped[i]!.files;
          }),
        10_000,
        `the log to show every merge /metrics counted: ${JSON.stringify(scraped)}`,
      );
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    const end = await runEtlToEnd({
      config,
      logger,
      env,
      checkpointRoot,
      logFile: join(dir, 'etl-end.log'),
      settleMs: 1_000,
    });
    await expectEveryRowOnce();
    if (members) {
      // The stage-2 tasks merged their own units while running: fewer files than their commits published.
      const published = etl.logsMatching(windowsPublished).length + end.logsMatching(windowsPublished).length;
      const aggFiles = parquetFiles(lakeRoot, 'clickstream_agg');
      expect(aggFiles.every((f) => /^r\d+$/.test(f.path.split('/')[1] ?? ''))).toBe(true);
      expect(aggFiles.length).toBeLessThan(published);
      expect(etl.logsMatching(swapped).some((l) => l.table === 'clickstream_agg')).toBe(true);
    }
    // Fewer files than rolls: one dt, four partitions, each unit merged down to a few files.
    const dtDirs = readdirSync(join(lakeRoot, 'tables', 'clickstream'));
    expect(dtDirs).toHaveLength(1);
    expect(parquetFiles(lakeRoot, 'clickstream').length).toBeLessThan(sent.clicks / 40 / 2);
    expect(listFiles(join(lakeRoot, '_swap')).length).toBeGreaterThan(0); // old versions, for lake.vacuum_grace
    expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
    await expectVerified();
  }, 300_000);

  it.each(RAW_POINTS)(
    'killed at %s: a restart in the same group settles it, every row once, verify green',
    async (point) => {
      await smallFiles(`etl-${point}`, 4);
      const crashed = EtlProcess.start({ ...env, SDP_FAULT: point }, { logFile: join(dir, `etl-${point}-crash.log`) });
      const exit = await crashed.exited;
      expect(exit, crashed.tail(20)).toEqual({ code: null, signal: 'SIGKILL' });
      expect(crashed.lines.join('\n')).toContain(`SDP_FAULT=${point}`);
      // Readers see every row once right after the crash.
      await expectEveryRowOnce();

      const restarted = await runEtlToEnd({
        config,
        logger,
        env,
        checkpointRoot,
        logFile: join(dir, `etl-${point}-restart.log`),
        settleMs: 1_000,
      });
      // The partitions' owners' settles (the window owners' merges have fault points of their own, agg-compaction-*).
      const settled = restarted.logsMatching(
        (l) =>
          l.msg === 'compaction named by the last commit settled' &&
          l.owner !== 'aggregator' &&
          l.repartition_partition === undefined,
      );
      if (point === 'compaction-after-commit' || point === 'compaction-after-version-built')
        expect(settled.map((l) => l.outcome)).toContain('swapped');
      if (point === 'compaction-after-exchange') expect(settled.map((l) => l.outcome)).toContain('already-done');
      // After the merged tmp alone nothing was committed: its takeover deleted it as any other tmp file (another
      // partition's round may have been past its own commit at the kill, so no claim on `settled` here).
      await expectEveryRowOnce();
      expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
      await expectVerified();
    },
    300_000,
  );
});

/**
 * The window table's units, merged inside the ETL by their owner: with etl.windows `process` the process aggregator's
 * `agg` units (its window checkpoints' small files, the merge journaled in the checkpoint store), with `members` each
 * stage-2 task's `r<r>` unit (the merge committed in its Kafka transaction). Each run sends clicks of its own past day,
 * one raw roll per partition there (nothing for the partitions' owners to merge), the windows over many commits: the
 * window owners' merges are the only ones, so each fault point is hit by one of them. CI kills the process aggregator
 * at two points and the stage-2 tasks at a third; `npm run test:long` kills both at all four.
 */
const WINDOW_OWNERS = [
  { mode: 'process', points: AGG_POINTS },
  {
    mode: 'members',
    points: shortOrAll(
      POINTS.map((p) => `agg-${p}` as const),
      ['agg-compaction-after-commit'],
    ),
  },
] as const;

describe.each(WINDOW_OWNERS)('compaction inside the ETL: the window units, etl.windows $mode', ({ mode, points }) => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-compact-agg-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('compact-agg');
  const random = mulberry32(Date.now() % 1_000_000);
  // Ten days ago, 06:00 UTC: one past dt per run, in the order of the runs.
  const firstDayMs = Date.now() - (Date.now() % DAY) - 10 * DAY + 6 * 3_600_000;
  let config: Config;
  let env: Record<string, string>;
  let sent = 0;
  let day = 0;
  let lake: LakeReader;
  const members = mode === 'members';
  // The window table's merges: the aggregator's (owner `aggregator`) or the stage-2 tasks' (their unit `r<r>`).
  const aggSwapped = (l: LogLine): boolean => swapped(l) && l.table === 'clickstream_agg';
  const windowOwnersSettle = (l: LogLine): boolean =>
    l.msg === 'compaction named by the last commit settled' &&
    (members ? l.repartition_partition !== undefined : l.owner === 'aggregator');

  /** Clicks of the next day, in chunks sent while an ETL runs: windows close over several checkpoints, a file each. */
  async function sendDay(chunks: number): Promise<void> {
    const startMs = firstDayMs + day * DAY;
    day += 1;
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      for (let c = 0; c < chunks; c++) {
        await producer.send(
          config.topics.clickstream,
          Array.from(
            { length: 60 },
            (_, i) =>
              clickEvent({
                runId,
                index: sent + i,
                userCount: 80,
                partitions: config.kafka.partitions,
                tsMs: startMs + (c * 60 + i) * 2_000,
                random,
              }).record,
          ),
        );
        sent += 60;
        // Each chunk closes at least its first minute: wait for that window checkpoint's file before the next chunk,
        // so the day gets a file per chunk however slowly the ETL reads (a fixed pause gave 3 files once in CI).
        const files = aggFiles().length;
        await waitFor(async () => aggFiles().length > files, 30_000, `a window file for chunk ${c}`, 200);
      }
    } finally {
      await producer.disconnect();
    }
  }

  /** A day's small agg files: sent while an ETL without compaction runs, then to the end. */
  async function smallAggFiles(log: string): Promise<void> {
    const off = { ...env, SDP_LAKE__COMPACTION: 'false' };
    const etl = EtlProcess.start(off, { logFile: join(dir, `${log}-live.log`) });
    try {
      await etl.statusPort();
      await sendDay(6);
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    await runEtlToEnd({ config, logger, env: off, checkpointRoot, logFile: join(dir, log), settleMs: 1_000 });
  }

  /** clickstream_agg as DuckDB reads it: one row per (minute, url), ordered. */
  async function windows(): Promise<string> {
    const rows = await lake.rows(
      `SELECT minute_start, url, pv FROM ${lake.table('clickstream_agg')} ORDER BY minute_start, url`,
    );
    const [counts] = await lake.rows(
      `SELECT count(*) AS n, count(DISTINCT (minute_start, url)) AS keys FROM ${lake.table('clickstream_agg')}`,
    );
    expect(counts!.n).toEqual(counts!.keys);
    return JSON.stringify(rows);
  }

  async function expectVerified(): Promise<void> {
    const result = await runCli(['verify'], env);
    expect(result.stdout, result.stderr).toMatch(VERIFY_OK);
    expect(result.code).toBe(0);
  }

  const aggFiles = (): string[] =>
    parquetFiles(lakeRoot, 'clickstream_agg')
      .map((f) => f.path)
      .filter((p) => (members ? /\/r\d+\//.test(p) : p.includes('/agg/')));

  beforeAll(async () => {
    // The window mode of this block, whatever $ETL_TEST_WINDOWS says.
    config = loadTestConfig({ etl: { windows: mode } });
    mkdirSync(join(dir, 'run'), { recursive: true });
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        // One raw roll per partition and run: only the window owners have small files to merge.
        SDP_ETL__MAX_FILE_ROWS: '100000',
        SDP_ETL__MAX_FILE_AGE: '10m',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_LAKE__COMPACTION_INTERVAL: '1s',
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    lake = await openLake(lakeRoot);
  }, 120_000);

  afterAll(() => {
    lake?.close();
    if (process.env.COMPACTION_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else logger.info({ dir }, 'kept');
  });

  it('merges its window files: fewer files, the same windows read by DuckDB, verify green', async () => {
    await smallAggFiles('agg-small');
    const before = aggFiles();
    const windowsBefore = await windows();
    expect(before.length).toBeGreaterThan(3);
    const etl = EtlProcess.start(env, { logFile: join(dir, 'agg-compact.log') });
    try {
      await etl.waitForLog(aggSwapped, 60_000, 'a window unit compacted by its owner');
      expect(etl.problems().filter((l) => l.component === 'compaction')).toEqual([]);
      const samples = await scrapeMetrics(await etl.statusPort());
      const aggMerges = { table: 'clickstream_agg', outcome: 'swapped' };
      expect(sampleValue(samples, 'sdp_lake_compactions_total', aggMerges)).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'sdp_lake_compacted_files_total', { table: 'clickstream_agg' })).toBeGreaterThan(1);
      // Only the window owners had small files: one raw roll per partition in the day.
      expect(etl.logsMatching(swapped).filter((l) => !aggSwapped(l))).toEqual([]);
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    const after = aggFiles();
    expect(after.length).toBeLessThan(before.length);
    // The aggregator's newest checkpoint's file stays, the rest are one merged file.
    if (!members) expect(after.filter((p) => /part-\d{20}-\d{20}\.parquet$/.test(p))).toHaveLength(1);
    expect(await windows()).toBe(windowsBefore);
    expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
    await expectVerified();
  }, 300_000);

  it.each(points)(
    'killed at %s in its merge: the next start settles it, the same windows, verify green',
    async (point) => {
      await smallAggFiles(`agg-${point}`);
      const windowsBefore = await windows();
      const crashed = EtlProcess.start({ ...env, SDP_FAULT: point }, { logFile: join(dir, `agg-${point}-crash.log`) });
      const exit = await crashed.exited;
      expect(exit, crashed.tail(20)).toEqual({ code: null, signal: 'SIGKILL' });
      expect(crashed.lines.join('\n')).toContain(`SDP_FAULT=${point}`);
      // Readers see every window once right after the crash.
      expect(await windows()).toBe(windowsBefore);

      const restarted = await runEtlToEnd({
        config,
        logger,
        env,
        checkpointRoot,
        logFile: join(dir, `agg-${point}-restart.log`),
        settleMs: 1_000,
      });
      // The aggregator merges one unit at a time; stage-2 tasks side by side, so another task's merge may have been
      // past a point of its own at the kill too: for them the merge killed is among the settles.
      const outcomes = restarted.logsMatching(windowOwnersSettle).map((l) => l.outcome);
      const settledAs = (outcome: string): void => {
        if (members) expect(outcomes).toContain(outcome);
        else expect(outcomes).toEqual([outcome]);
      };
      if (point === 'agg-compaction-after-commit' || point === 'agg-compaction-after-version-built')
        settledAs('swapped');
      if (point === 'agg-compaction-after-exchange') settledAs('already-done');
      // After the merged tmp alone nothing was committed: its tmp file went as any uncommitted one.
      if (point === 'agg-compaction-after-merged-tmp' && !members) expect(outcomes).toEqual([]);
      expect(await windows()).toBe(windowsBefore);
      expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
      await expectVerified();
    },
    300_000,
  );
});
