/**
 * Retention end to end (architecture.md, "Keeping the lake: retention"): events five days old and
 * events of today on the test's own topics, the ETL run to the end, then `lake expire --dry-run`
 * (nothing deleted), `lake expire` (the old dt partitions of every table gone, today's kept, a link
 * out of the lake not followed, the expiry record written), `verify` (exit 0, expired ranges counted,
 * no gap), and a restart of the ETL on a deleted checkpoint store: the rebuild from file names honours
 * the floors, so nothing expired is read back into the lake, and partitions whose every file expired
 * resume after their floor.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, type EtlProcess } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { createTestTopics, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { runEtlToEnd as runEtlUntilCaughtUp } from '../helpers/etlToEnd.js';
import { testLogger } from '../helpers/testLogger.js';

const DAY = 86_400_000;
const TABLES = ['clickstream', 'iot', '_rejected', 'clickstream_agg'] as const;
const SUMMARY =
  /^verify: files=\d+ rows=\d+ gaps=(\d+) overlaps=(\d+) count_mismatches=(\d+) windows=\d+ window_mismatches=(\d+) unverifiable_ranges=\d+ expired_ranges=(\d+)(?: \w+=\d+)*$/;

/** Every file below `tables/`, relative, sorted. */
function lakeListing(lakeRoot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  walk(join(lakeRoot, 'tables'), 'tables/');
  return out.sort();
}

function summaryOf(result: CliResult) {
  const lines = result.stdout.trim().split('\n');
  const m = SUMMARY.exec(lines[lines.length - 1] ?? '');
  if (!m) throw new Error(`no summary line:\n${result.stdout}\n${result.stderr}`);
  const [gaps, overlaps, count_mismatches, window_mismatches, expired_ranges] = m.slice(1).map(Number) as number[];
  return { gaps, overlaps, count_mismatches, window_mismatches, expired_ranges };
}

describe('retention: lake expire, verify and the rebuild from file names', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-retention-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const outside = join(dir, 'outside');
  const runId = randomName('retention');
  let config: Config;
  let env: Record<string, string>;
  const nowMs = Date.now();
  const today = new Date(nowMs).toISOString().slice(0, 10);
  const oldStart = nowMs - (nowMs % DAY) - 5 * DAY;
  const oldDt = new Date(oldStart).toISOString().slice(0, 10);
  let before: string[];

  const runEtlToEnd = (logName: string): Promise<EtlProcess> =>
    runEtlUntilCaughtUp({ config, logger, env, checkpointRoot, logFile: join(dir, logName), settleMs: 4_000 });
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { ...env, SDP_LAKE__RETENTION_DAYS: '2' });

  beforeAll(async () => {
    config = loadTestConfig();
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '150',
        SDP_ETL__MAX_FILE_AGE: '3s',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        // Runs in the repository's data/: a pid file of another checkout's platform must not count.
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    const partitions = config.kafka.partitions;
    const random = mulberry32(nowMs % 1_000_000);
    const clicks = (from: number, n: number, start: number): TestRecord[] =>
      Array.from(
        { length: n },
        (_, i) =>
          clickEvent({ runId, index: from + i, userCount: 100, partitions, tsMs: start + i * 1_000, random }).record,
      );
    // IoT: old readings on every partition, today's only on partitions 0 and 1, so every file of
    // partitions 2 and 3 expires.
    const readings = (from: number, n: number, start: number, onlyLow: boolean): TestRecord[] =>
      Array.from({ length: n }, (_, i) => {
        const r = iotEvent({ index: from + i, devices: 16, partitions, tsMs: start + i * 1_000, random }).record;
        return onlyLow ? { ...r, partition: r.partition % 2 } : r;
      });
    const bad = (i: number, timestampMs: number): TestRecord => ({
      partition: i % partitions,
      key: `bad-${i}`,
      value: `not json ${i}`,
      timestampMs,
    });
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      // Old first: their rolls get the lower offsets. Rejected records land in the dt of their Kafka timestamp.
      await producer.send(config.topics.clickstream, [
        ...clicks(0, 400, oldStart + 3_600_000),
        bad(0, oldStart + 3_600_000),
      ]);
      await producer.send(config.topics.iot, readings(0, 400, oldStart + 3_600_000, false));
      await producer.send(config.topics.clickstream, [...clicks(1_000, 300, nowMs - 600_000), bad(1, nowMs)]);
      await producer.send(config.topics.iot, readings(1_000, 200, nowMs - 600_000, true));
    } finally {
      await producer.disconnect();
    }
    await runEtlToEnd('etl-1.log');
    // A link from an old dt partition to a directory outside the lake: unlinked, never followed.
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.parquet'), 'not the lake');
    symlinkSync(outside, join(lakeRoot, 'tables', 'iot', `dt=${oldDt}`, 'link-out'));
    before = lakeListing(lakeRoot);
  }, 600_000);

  afterAll(() => {
    if (process.env.RETENTION_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('the lake holds the old day and today in every table before expiry', () => {
    for (const table of TABLES) {
      expect(before.some((p) => p.startsWith(`tables/${table}/dt=${oldDt}/`))).toBe(true);
      expect(before.some((p) => p.startsWith(`tables/${table}/dt=${today}/`) || table === 'clickstream_agg')).toBe(
        true,
      );
    }
  });

  it('lake expire --dry-run lists the old dt of every table and deletes nothing', async () => {
    const dry = await cli(['lake', 'expire', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    for (const table of TABLES) expect(dry.stdout).toMatch(new RegExp(`would delete ${table} dt=${oldDt}: \\d+ files`));
    expect(dry.stdout).not.toContain(`dt=${today}`);
    expect(dry.stdout).toContain('dry run: nothing deleted');
    expect(lakeListing(lakeRoot)).toEqual(before);
    expect(existsSync(join(lakeRoot, '_expired.json'))).toBe(false);
  });

  it('lake expire deletes the old dts of every table, keeps today, writes the record, touches nothing outside', async () => {
    const done = await cli(['lake', 'expire']);
    expect(done.code, `${done.stdout}\n${done.stderr}`).toBe(0);
    const after = lakeListing(lakeRoot);
    expect(after.filter((p) => p.includes(`/dt=${oldDt}/`))).toEqual([]);
    expect(after).toEqual(before.filter((p) => !p.includes(`/dt=${oldDt}/`)));
    for (const table of TABLES) expect(existsSync(join(lakeRoot, 'tables', table, `dt=${oldDt}`))).toBe(false);
    expect(readFileSync(join(outside, 'keep.parquet'), 'utf8')).toBe('not the lake');
    expect(existsSync(join(lakeRoot, '.sdp-root'))).toBe(true);
    const record = JSON.parse(readFileSync(join(lakeRoot, '_expired.json'), 'utf8'));
    expect(record).toMatchObject({ version: 1, retention_days: 2, dts: { clickstream: [oldDt], iot: [oldDt] } });
    // Partitions 2 and 3 of IoT held only old readings: their floor is the last offset the lake had.
    const journal = readJournal(checkpointRoot)!;
    for (const p of [2, 3])
      expect(record.partitions[config.topics.iot][String(p)].floor).toBe(
        journal.rawOffsets.get(config.topics.iot)!.get(p)!.toString(),
      );
    expect(record.agg).toMatchObject({ seq: expect.stringMatching(/^\d+$/) });
    // A second run has nothing left to delete.
    const again = await cli(['lake', 'expire']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 dt partitions, 0 files');
  });

  it('verify exits 0 and reports the expired ranges as expired, not as gaps', async () => {
    const result = await cli(['verify']);
    expect(result.code, result.stdout).toBe(0);
    const s = summaryOf(result);
    expect(s).toMatchObject({ gaps: 0, overlaps: 0, count_mismatches: 0, window_mismatches: 0 });
    expect(s.expired_ranges).toBeGreaterThanOrEqual(8);
    expect(result.stdout).toMatch(/^expired iot \S+\[2\] offsets 0\.\.\d+: deleted by retention/m);
  });

  it('the ETL restarts on its own store: the latest renames into expired dts are skipped, nothing is read again', async () => {
    const kept = lakeListing(lakeRoot).filter((p) => !p.startsWith('tables/clickstream_agg/'));
    const etl = await runEtlToEnd('etl-restart.log');
    const recovered = etl.logs.find((l) => l.msg === 'lake recovered from the checkpoint store');
    expect(recovered?.expired_renames_skipped).toBeGreaterThan(0);
    expect(lakeListing(lakeRoot).filter((p) => !p.startsWith('tables/clickstream_agg/'))).toEqual(kept);
  });

  it('a lost checkpoint store is rebuilt above the floors: nothing expired is read back into the lake', async () => {
    const floors = JSON.parse(readFileSync(join(lakeRoot, '_expired.json'), 'utf8')).partitions;
    const clean = await cli(['data', 'clean', '--checkpoints', '--yes']);
    expect(clean.code, clean.stderr).toBe(0);
    const kept = lakeListing(lakeRoot).filter((p) => !p.startsWith('tables/clickstream_agg/'));
    const etl = await runEtlToEnd('etl-2.log');
    expect(etl.logs.some((l) => String(l.msg).includes('durable offsets rebuilt from the lake'))).toBe(true);
    const after = lakeListing(lakeRoot);
    expect(after.filter((p) => p.includes(`/dt=${oldDt}/`))).toEqual([]);
    expect(after.filter((p) => !p.startsWith('tables/clickstream_agg/'))).toEqual(kept);
    const journal = readJournal(checkpointRoot)!;
    for (const p of [2, 3])
      expect(journal.rawOffsets.get(config.topics.iot)!.get(p)!.toString()).toBe(
        floors[config.topics.iot][String(p)].floor,
      );
    const result = await cli(['verify']);
    expect(result.code, result.stdout).toBe(0);
    expect(summaryOf(result)).toMatchObject({ gaps: 0, overlaps: 0, count_mismatches: 0, window_mismatches: 0 });
  });
});
