/**
 * Retention inside the ETL (architecture.md, "Keeping the lake: retention"). First, `verify` while one owner has
 * expired a day and the others not yet (an iot owner's expiry keeps that day's windows accounted for, a clickstream
 * owner's leaves the day out of the window accounting). Then, with
 * `lake.retention_days` set, each owner deletes its files of the expired dts while `etl` runs. Real cluster, real writer path: events five and six
 * days old (and a rejected record with an old Kafka timestamp) land in old dts, then their owners expire them while
 * today's events keep arriving; DuckDB reads today's rows exactly once, `verify` passes and reports the expired
 * ranges, `/metrics` counts what went. Then kill -9 (SDP_FAULT) right after an owner's record names what it deletes,
 * and between two of its units: the restart's rounds delete the rest, every row of today once, `verify` green.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { expireOwnedFiles } from '../../../src/etl/ownerExpiry.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { EtlProcess, etlEnv, type LogLine } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { createTestTopics, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import { type LakeReader, openLake, tmpFiles } from '../helpers/lakeReader.js';
import { loadTestConfig, windowsModeOf } from '../helpers/loadTestConfig.js';
import { sampleValue, scrapeMetrics } from '../helpers/prometheusText.js';
import { randomName } from '../helpers/randomName.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const DAY = 86_400_000;
const TABLES = ['clickstream', 'iot', '_rejected', 'clickstream_agg'] as const;
const VERIFY =
  /^verify: files=\d+ rows=\d+ gaps=0 overlaps=0 count_mismatches=0 windows=\d+ window_mismatches=0 unverifiable_ranges=\d+ expired_ranges=(\d+) sealed_manifests=\d+ manifest_mismatches=0 manifest_pending=\d+$/m;

const expired = (l: LogLine): boolean => l.msg === 'lake files expired by their owner';

describe('retention inside the ETL', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-retention-etl-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('retention-etl');
  const random = mulberry32(Date.now() % 1_000_000);
  const nowMs = Date.now();
  const midnight = nowMs - (nowMs % DAY);
  const dtOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  let config: Config;
  let env: Record<string, string>;
  let lake: LakeReader;
  let index = 0;
  /** Today's events sent: what the lake must hold, once each, when every old dt expired. */
  const today = { clicks: 0, readings: 0 };

  async function send(clicks: number, readings: number, startMs: number, rejectedAtMs?: number): Promise<void> {
    const partitions = config.kafka.partitions;
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      const from = index;
      index += Math.max(clicks, readings);
      const bad: TestRecord[] =
        rejectedAtMs === undefined
          ? []
          : [{ partition: 0, key: `bad-${from}`, value: 'not json', timestampMs: rejectedAtMs }];
      await producer.send(config.topics.clickstream, [
        ...Array.from(
          { length: clicks },
          (_, i) =>
            clickEvent({ runId, index: from + i, userCount: 80, partitions, tsMs: startMs + i * 1_000, random }).record,
        ),
        ...bad,
      ]);
      await producer.send(
        config.topics.iot,
        Array.from(
          { length: readings },
          (_, i) => iotEvent({ index: from + i, devices: 16, partitions, tsMs: startMs + i * 1_000, random }).record,
        ),
      );
    } finally {
      await producer.disconnect();
    }
  }

  async function sendToday(clicks: number, readings: number): Promise<void> {
    await send(clicks, readings, Date.now() - 120_000);
    today.clicks += clicks;
    today.readings += readings;
  }

  /** The dt directories older than the retention in any table. */
  function oldDtDirs(): string[] {
    const cutoff = dtOf(midnight - 2 * DAY);
    return TABLES.flatMap((t) => {
      const tableDir = join(lakeRoot, 'tables', t);
      if (!existsSync(tableDir)) return [];
      return readdirSync(tableDir)
        .filter((d) => d.startsWith('dt=') && d.slice(3) < cutoff)
        .map((d) => `${t}/${d}`);
    });
  }

  async function expectTodayOnce(): Promise<void> {
    const [clicks] = await lake.rows(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS ids, min(dt)::VARCHAR AS dt FROM ${lake.table('clickstream')}`,
    );
    expect(clicks).toEqual({ n: String(today.clicks), ids: String(today.clicks), dt: expect.any(String) });
    expect(String(clicks!.dt) >= dtOf(midnight - 2 * DAY)).toBe(true);
    expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(today.readings);
  }

  async function expectVerified(): Promise<number> {
    const result = await runCli(['verify'], env);
    expect(result.stdout, result.stderr).toMatch(VERIFY);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^expired (clickstream|iot) \S+\[\d+\] offsets \d+\.\.\d+: deleted by retention/m);
    return Number(VERIFY.exec(result.stdout)![1]);
  }

  beforeAll(async () => {
    config = loadTestConfig();
    mkdirSync(join(dir, 'run'), { recursive: true });
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '40',
        SDP_ETL__MAX_FILE_AGE: '2s',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_LAKE__RETENTION_DAYS: '2',
        SDP_LAKE__RETENTION_INTERVAL: '1s',
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    lake = await openLake(lakeRoot);
  }, 120_000);

  afterAll(() => {
    lake?.close();
    if (process.env.RETENTION_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    else logger.info({ dir }, 'kept');
  });

  it('verify while one owner has expired a day and the others not yet: that day is left out, verify green', async () => {
    // An old day in every table, retention off for this run: nothing expires by itself. First in the file, and nothing
    // of today: the windows' watermark has not passed that day yet, so its windows are emitted into clickstream_agg.
    await send(200, 100, midnight - 11 * DAY + 3_600_000);
    const off = { ...env, SDP_LAKE__RETENTION_DAYS: 'off' };
    await runEtlToEnd({
      config,
      logger,
      env: off,
      checkpointRoot,
      logFile: join(dir, 'etl-partial.log'),
      settleMs: 3_000,
    });
    const oldDt = dtOf(midnight - 11 * DAY);
    expect(oldDtDirs().sort()).toEqual(
      expect.arrayContaining([`clickstream/dt=${oldDt}`, `clickstream_agg/dt=${oldDt}`, `iot/dt=${oldDt}`]),
    );
    // An iot owner alone expires it first: that says nothing of the windows, which stay accounted for (all of them).
    const windowsChecked = async (): Promise<number> => {
      const result = await runCli(['verify'], env);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      return Number(/ windows=(\d+) /.exec(result.stdout)![1]);
    };
    const allWindows = await windowsChecked();
    expect(allWindows).toBeGreaterThan(0);
    const iotOwner = { kind: 'partition', topic: config.topics.iot, partition: 0, table: 'iot' } as const;
    const iotOutcome = await expireOwnedFiles(
      { lakeRoot, retentionDays: 2, topics: config.topics, writer: 'feed' },
      iotOwner,
      Date.now(),
      () => true,
    );
    expect(iotOutcome.dts).toEqual([oldDt]);
    expect(await windowsChecked()).toBe(allWindows);
    // Clickstream partition 0's owner alone has expired it (as a member would, ahead of the others).
    const owner = { kind: 'partition', topic: config.topics.clickstream, partition: 0, table: 'clickstream' } as const;
    const outcome = await expireOwnedFiles(
      { lakeRoot, retentionDays: 2, topics: config.topics, writer: 'feed' },
      owner,
      Date.now(),
      () => true,
    );
    expect(outcome.files).toBeGreaterThan(0);
    expect(existsSync(join(lakeRoot, 'tables', 'clickstream', `dt=${oldDt}`))).toBe(true); // other partitions' files
    // Its windows outlive partition 0's raw rows: compared, they would count more page views than raw events.
    await expectVerified();
    // The ETL with retention on, below, expires the rest of that day at its owners' first rounds.
  }, 400_000);

  it('old dts disappear while the ETL runs, today lands once, verify reports the expired ranges', async () => {
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl-live.log') });
    let port: number;
    try {
      port = await etl.statusPort();
      // Two old days, through the real writer path (and windows of them, once today's events move the watermark).
      await send(200, 100, midnight - 6 * DAY + 3_600_000, midnight - 6 * DAY + 3_600_000);
      await send(200, 100, midnight - 5 * DAY + 3_600_000);
      for (let i = 0; i < 6; i++) {
        await sendToday(80, 40);
        await new Promise((r) => setTimeout(r, 500));
      }
      await waitFor(
        () => etl.logsMatching(expired).length > 0 && oldDtDirs().length === 0,
        120_000,
        `every old dt directory gone (left: ${oldDtDirs().join(', ')})`,
      );
      // Today's events keep landing after the expiry.
      for (let i = 0; i < 4; i++) {
        await sendToday(80, 40);
        await new Promise((r) => setTimeout(r, 500));
      }
      const owners = new Set(etl.logsMatching(expired).map((l) => String(l.owner)));
      expect([...owners].some((o) => o.startsWith(`${config.topics.clickstream}[`))).toBe(true);
      expect([...owners].some((o) => o.startsWith(`${config.topics.iot}[`))).toBe(true);
      if (windowsModeOf(config) === 'process') expect(owners).toContain('aggregator');
      const tables = new Set(
        etl.logsMatching(expired).flatMap((l) => (l.tables as Array<{ table: string }>).map((t) => t.table)),
      );
      expect([...tables].sort()).toEqual(expect.arrayContaining(['_rejected', 'clickstream', 'iot']));
      const samples = await scrapeMetrics(port);
      expect(sampleValue(samples, 'sdp_lake_expired_files_total', { table: 'clickstream' })).toBeGreaterThan(0);
      expect(sampleValue(samples, 'sdp_lake_expired_files_total', { table: 'iot' })).toBeGreaterThan(0);
      expect(sampleValue(samples, 'sdp_lake_expiry_failures_total')).toBe(0);
      expect(etl.problems().filter((l) => l.component === 'retention')).toEqual([]);
      // The owners' records, one file each, beside tables/.
      expect(readdirSync(join(lakeRoot, '_expired')).filter((n) => n.endsWith('.json')).length).toBeGreaterThanOrEqual(
        2,
      );
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    await runEtlToEnd({ config, logger, env, checkpointRoot, logFile: join(dir, 'etl-end.log'), settleMs: 3_000 });
    expect(oldDtDirs()).toEqual([]);
    await expectTodayOnce();
    expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
    expect(await expectVerified()).toBeGreaterThanOrEqual(2);
    // lake expire, the platform stopped, applies the same rule over the owners' records: nothing left to delete.
    const stopped = await runCli(['lake', 'expire'], env);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('retention 2 days: 0 dt partitions, 0 files');
  }, 400_000);

  it.each([
    ['retention-after-record', 7],
    ['retention-between-units', 9],
  ] as const)(
    'killed at %s: the restart deletes the rest, today once, verify green',
    async (point, daysAgo) => {
      // Two old days, and a rejected record of the older one on partition 0: owners with two units or more a round.
      await send(150, 80, midnight - (daysAgo + 1) * DAY + 3_600_000, midnight - (daysAgo + 1) * DAY + 3_600_000);
      await send(150, 80, midnight - daysAgo * DAY + 3_600_000);
      const crashed = EtlProcess.start({ ...env, SDP_FAULT: point }, { logFile: join(dir, `etl-${point}-crash.log`) });
      const exit = await crashed.exited;
      expect(exit, crashed.tail(20)).toEqual({ code: null, signal: 'SIGKILL' });
      expect(crashed.lines.join('\n')).toContain(`SDP_FAULT=${point}`);
      // Records name files that are still there.
      expect(oldDtDirs().length).toBeGreaterThan(0);

      await sendToday(60, 30);
      const restarted = await runEtlToEnd({
        config,
        logger,
        env,
        checkpointRoot,
        logFile: join(dir, `etl-${point}-restart.log`),
        settleMs: 3_000,
        // The takeover rounds roll the crashed one forward; a stop before they end would leave the rest to the next
        // start (a released task's round stops deleting), so the test waits for them as long as a slow machine needs.
        beforeStop: () =>
          waitFor(() => oldDtDirs().length === 0, 60_000, `the old dts deleted (left: ${oldDtDirs().join(', ')})`),
      });
      expect(restarted.logsMatching(expired).length).toBeGreaterThan(0);
      expect(oldDtDirs()).toEqual([]);
      await expectTodayOnce();
      expect(tmpFiles(join(lakeRoot, 'tables'))).toEqual([]);
      await expectVerified();
    },
    400_000,
  );
});
