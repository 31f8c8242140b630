/**
 * `verify` against a small real lake: events produced to the test's own topics, the ETL run twice
 * (with an aborted transaction between the runs, so that a gap between two files holds only
 * aborted records and markers, and with old event times in the second run, so that some events
 * are late), then `node dist/main.js verify`: exit 0 and the summary line. Then each fault is
 * planted in a copy of the lake and verify must exit 1 naming it. A copy moved into units with one dt of one
 * partition merged, as compaction will leave it, must pass (architecture.md, "Verifying the lake").
 */
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { createKafkaClient } from '../../../src/kafka/client.js';
import { lakeFiles, moveIntoUnits } from '../helpers/lakeUnits.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { etlEnv } from '../helpers/etlProcess.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { createTestTopics, endOffsets, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { windowsProgress } from '../helpers/windowsCaughtUp.js';
import { randomName } from '../helpers/randomName.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { runEtlToEnd as runEtlUntilCaughtUp } from '../helpers/etlToEnd.js';
import { testLogger } from '../helpers/testLogger.js';

const { CompressionTypes } = kafkajs;
const SUMMARY =
  /^verify: files=(\d+) rows=(\d+) gaps=(\d+) overlaps=(\d+) count_mismatches=(\d+) windows=(\d+) window_mismatches=(\d+) unverifiable_ranges=(\d+) expired_ranges=0(?: \w+=\d+)*$/;
const RAW_NAME = /^part-(\d+)-(\d{20})-(\d{20})\.parquet$/;

interface Summary {
  files: number;
  rows: number;
  gaps: number;
  overlaps: number;
  count_mismatches: number;
  windows: number;
  window_mismatches: number;
  unverifiable_ranges: number;
}

function summaryOf(result: CliResult): Summary {
  const lines = result.stdout.trim().split('\n');
  const m = SUMMARY.exec(lines[lines.length - 1] ?? '');
  if (!m) throw new Error(`no summary line:\n${result.stdout}\n${result.stderr}`);
  const [files, rows, gaps, overlaps, count_mismatches, windows, window_mismatches, unverifiable_ranges] = m
    .slice(1)
    .map(Number) as number[];
  return { files, rows, gaps, overlaps, count_mismatches, windows, window_mismatches, unverifiable_ranges } as Summary;
}

/** Raw files of a table, in a unit or not: dt directory, unit, name, partition and range. */
function rawFiles(lakeRoot: string, table: 'clickstream' | 'iot') {
  return lakeFiles(lakeRoot, table)
    .filter((f) => RAW_NAME.test(f.name))
    .map((f) => {
      const m = RAW_NAME.exec(f.name)!;
      return { ...f, partition: Number(m[1]), first: BigInt(m[2]!), last: BigInt(m[3]!) };
    });
}

type RawFile = ReturnType<typeof rawFiles>[number];
const pad = (n: bigint): string => n.toString().padStart(20, '0');

async function duck(sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    await db.run(sql);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

const sq = (s: string): string => `'${s.replaceAll("'", "''")}'`;

describe('verify: the lake proved against Kafka and the checkpoint store', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-verify-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('verify');
  let config: Config;
  let env: Record<string, string>;
  let abortedRange: { first: bigint; last: bigint };
  let clean: CliResult;

  // Every partition idle (etl.idle_timeout) after catching up: the watermark reaches the newest event and its
  // windows are emitted.
  const runEtlToEnd = async (): Promise<void> => {
    await runEtlUntilCaughtUp({ config, logger, env, checkpointRoot, logFile: join(dir, 'etl.log'), settleMs: 5_000 });
  };

  const verify = (root: string, args: string[] = []): Promise<CliResult> =>
    runCli(['verify', ...args], { ...env, SDP_STORAGE__DATALAKE_ROOT: root });

  /** A copy of the clean lake to plant one fault in. */
  const copyLake = (name: string): string => {
    const root = join(dir, `lake-${name}`);
    cpSync(lakeRoot, root, { recursive: true, preserveTimestamps: true });
    return root;
  };

  beforeAll(async () => {
    config = loadTestConfig();
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '300',
        SDP_ETL__MAX_FILE_AGE: '3s',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
      },
    });
    await createTestTopics(config, logger);
    const partitions = config.kafka.partitions;
    const random = mulberry32(Date.now() % 1_000_000);
    const nowMs = Date.now();
    // Midnight UTC at least an hour ago: event times up to 40 minutes after it are in the past.
    const midnight = nowMs - (nowMs % 86_400_000);
    const dayStart = nowMs - midnight > 3_600_000 ? midnight : midnight - 86_400_000;
    // Clickstream event times on both sides of midnight (two dt directories); IoT after it (one).
    const clicks = (from: number, n: number, spanMs: number, start: number): TestRecord[] =>
      Array.from(
        { length: n },
        (_, i) =>
          clickEvent({
            runId,
            index: from + i,
            userCount: 200,
            partitions,
            tsMs: start + Math.floor(random() * spanMs),
            random,
          }).record,
      );
    const readings = Array.from(
      { length: 1_500 },
      (_, index) => iotEvent({ index, devices: 32, partitions, tsMs: dayStart + index * 1_000, random }).record,
    );
    const bad = (i: number): TestRecord => ({ partition: i % partitions, key: `bad-${i}`, value: `not json ${i}` });
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      await producer.send(config.topics.clickstream, [
        ...clicks(0, 1_500, 20 * 60_000, dayStart - 10 * 60_000),
        bad(0),
        bad(1),
      ]);
      await producer.send(config.topics.iot, [...readings, bad(2)]);
    } finally {
      await producer.disconnect();
    }
    await runEtlToEnd();

    // An aborted transaction on clickstream partition 0, then more committed events: the next
    // run's first file of partition 0 starts after it, so the gap holds only aborted records.
    const before = (await endOffsets(config, logger, config.topics.clickstream)).get(0)!;
    const tx = createKafkaClient(config, logger, { clientId: 'sdp-test-verify-tx' }).producer({
      transactionalId: randomName('verify-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await tx.connect();
    try {
      const t = await tx.transaction();
      await t.send({
        topic: config.topics.clickstream,
        compression: CompressionTypes.LZ4,
        messages: clicks(5_000, 5, 60_000, nowMs - 60_000).map((r) => ({ partition: 0, key: r.key, value: r.value })),
      });
      await t.abort();
    } finally {
      await tx.disconnect();
    }
    const after = (await endOffsets(config, logger, config.topics.clickstream)).get(0)!;
    abortedRange = { first: before, last: after - 1n };
    const more = new TestProducer(config, logger);
    await more.connect();
    try {
      // Old event times (windows already emitted: late events) and new ones.
      await more.send(config.topics.clickstream, [
        ...clicks(10_000, 300, 10 * 60_000, dayStart - 10 * 60_000),
        ...clicks(20_000, 300, 60_000, dayStart + 15 * 60_000),
        ...clicks(30_000, 8, 1, dayStart + 15 * 60_000).map((r) => ({ ...r, partition: 0 })),
      ]);
    } finally {
      await more.disconnect();
    }
    await runEtlToEnd();
    clean = await verify(lakeRoot);
  }, 600_000);

  afterAll(async () => {
    if (process.env.VERIFY_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
    if (config) await deleteTopics(config, platformTopicNames(config));
  });

  it('passes on the lake the pipeline wrote: exit 0, the summary line last, windows and rows counted', () => {
    expect(clean.stderr).not.toMatch(/error/i);
    expect(clean.code, clean.stdout).toBe(0);
    const s = summaryOf(clean);
    expect(s).toMatchObject({
      gaps: 0,
      overlaps: 0,
      count_mismatches: 0,
      window_mismatches: 0,
      unverifiable_ranges: 0,
    });
    expect(s.windows).toBeGreaterThan(0);
    // Every valid and rejected event, plus the window rows.
    expect(s.rows).toBe(1_500 + 2 + 608 + 1_500 + 1 + s.windows);
  });

  it('the late events of the second run were counted (the window accounting had something to prove)', async () => {
    // The aggregator's state in the checkpoint store, or the stage-2 tasks' in Kafka (etl.windows: members).
    const progress = await windowsProgress({ config, logger, checkpointRoot });
    expect(progress?.lateEventsTotal).toBeGreaterThan(0);
  });

  it('a gap between two files holding only an aborted transaction passes', () => {
    const p0 = rawFiles(lakeRoot, 'clickstream')
      .filter((f) => f.partition === 0)
      .sort((a, b) => (a.first < b.first ? -1 : 1));
    const gapAround = p0.findIndex(
      (f, i) => i > 0 && f.first > abortedRange.last && p0[i - 1]!.last < abortedRange.first,
    );
    expect(gapAround, `aborted ${abortedRange.first}..${abortedRange.last} between no two files`).toBeGreaterThan(0);
    expect(summaryOf(clean).gaps).toBe(0);
  });

  it('--json prints one object with the same counts and the findings', async () => {
    const result = await verify(lakeRoot, ['--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Summary & { passed: boolean; findings: unknown[] };
    expect(report).toMatchObject({ ...summaryOf(clean), passed: true });
  });

  it('a deleted file: a gap with committed records, naming the partition and offsets', async () => {
    const root = copyLake('deleted');
    // A file that is its roll's only file (no other dt, no _rejected file of the same range).
    const rejected = lakeFiles(root, '_rejected').map((f) => f.name);
    const files = rawFiles(root, 'iot');
    const victim = files.find(
      (f) =>
        files.filter((g) => g.partition === f.partition && g.first === f.first).length === 1 &&
        !rejected.some((n) => n.endsWith(`-${f.partition}-${f.name.slice(`part-${f.partition}-`.length)}`)),
    )!;
    unlinkSync(victim.path);
    const result = await verify(root);
    expect(result.code).toBe(1);
    expect(summaryOf(result).gaps).toBe(1);
    expect(result.stdout).toContain(
      `gap iot ${config.topics.iot}[${victim.partition}] offsets ${victim.first}..${victim.last}`,
    );
  });

  it('a file copied under a second name: an overlap naming both files', async () => {
    const root = copyLake('copied');
    const victim = rawFiles(root, 'iot').find((f) => f.last > f.first)!;
    const name = `part-${victim.partition}-${(victim.first + 1n).toString().padStart(20, '0')}-${victim.last.toString().padStart(20, '0')}.parquet`;
    cpSync(victim.path, join(dirname(victim.path), name));
    const result = await verify(root);
    expect(result.code).toBe(1);
    expect(summaryOf(result).overlaps).toBe(1);
    const line = result.stdout.split('\n').find((l) => l.startsWith('overlap '))!;
    expect(line).toContain(victim.name);
    expect(line).toContain(name);
  });

  it('one row removed from a file: a count mismatch naming the file and its range', async () => {
    const root = copyLake('row-removed');
    const victim = rawFiles(root, 'iot').find((f) => f.last > f.first)!;
    const rewritten = `${victim.path}.rewrite`;
    await duck(
      `COPY (SELECT * FROM read_parquet(${sq(victim.path)}) LIMIT (SELECT count(*) - 1 FROM read_parquet(${sq(victim.path)}))) TO ${sq(rewritten)} (FORMAT PARQUET)`,
    );
    cpSync(rewritten, victim.path);
    unlinkSync(rewritten);
    const result = await verify(root);
    expect(result.code).toBe(1);
    expect(summaryOf(result).count_mismatches).toBe(1);
    const line = result.stdout.split('\n').find((l) => l.startsWith('count_mismatch '))!;
    expect(line).toContain(`offsets ${victim.first}..${victim.last}`);
    expect(line).toContain(victim.name);
  });

  it('a window row changed: a window mismatch', async () => {
    const root = copyLake('window');
    const file = lakeFiles(root, 'clickstream_agg').find((f) => f.name.endsWith('.parquet'))!.path;
    const rewritten = `${file}.rewrite`;
    await duck(
      `COPY (SELECT minute_start, minute_end, url, CASE WHEN rn = 1 THEN pv + 1 ELSE pv END AS pv FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sq(file)}))) TO ${sq(rewritten)} (FORMAT PARQUET)`,
    );
    cpSync(rewritten, file);
    unlinkSync(rewritten);
    const result = await verify(root);
    expect(result.code).toBe(1);
    expect(summaryOf(result).window_mismatches).toBeGreaterThan(0);
    expect(result.stdout).toMatch(/^window_mismatch clickstream_agg/m);
    // Limited to the raw tables, the same lake passes.
    expect((await verify(root, ['--table', 'iot'])).code).toBe(0);
  });

  it('a tmp file left behind (older than a roll) fails; a young one is normal', async () => {
    const root = copyLake('tmp');
    const [victim] = rawFiles(root, 'iot');
    const tmp = join(
      root,
      'tables',
      'iot',
      victim!.dt,
      'part-0-00000000000000999990-00000000000000999999.parquet.abc123.tmp',
    );
    writeFileSync(tmp, 'half a roll');
    expect((await verify(root)).code).toBe(0);
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(tmp, hourAgo, hourAgo);
    const result = await verify(root);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^tmp_left_behind iot: uncommitted file \d+ s old/m);
    expect(result.stdout).toContain('part-0-00000000000000999990-00000000000000999999.parquet.abc123.tmp');
  });

  /**
   * Compaction by hand: in a lake moved into units, the clickstream files of the (dt, partition) with the most files
   * merged into one named with their whole range (the originals moved out of the lake), as compaction will leave a
   * unit while the partition's other dt still holds the unmerged files of the same rolls.
   */
  const compactOneUnit = async (root: string, { dropOneRow = false } = {}) => {
    moveIntoUnits(root);
    const files = rawFiles(root, 'clickstream');
    expect(files.every((f) => f.unit === `p${f.partition}`)).toBe(true);
    const groups = new Map<string, RawFile[]>();
    for (const f of files) groups.set(`${f.dt}/${f.partition}`, [...(groups.get(`${f.dt}/${f.partition}`) ?? []), f]);
    const replaced = [...groups.values()].sort((a, b) => b.length - a.length)[0]!;
    expect(replaced.length).toBeGreaterThan(1);
    const { partition, dt } = replaced[0]!;
    // Files of one partition in one dt never intersect: in range order the first starts and the last ends the run.
    replaced.sort((x, y) => (x.first < y.first ? -1 : 1));
    const { first } = replaced[0]!;
    const { last } = replaced.at(-1)!;
    // The merge is only worth testing if the partition's other dt has files of the same rolls, unmerged.
    const partly = files.filter((f) => f.partition === partition && f.dt !== dt && f.first <= last && f.last >= first);
    expect(partly.length).toBeGreaterThan(0);
    const merged = join(dirname(replaced[0]!.path), `part-${partition}-${pad(first)}-${pad(last)}.parquet`);
    const tmp = join(dirname(dirname(merged)), `.${basename(merged)}.test.tmp`);
    const list = `[${replaced.map((f) => sq(f.path)).join(', ')}]`;
    const limit = dropOneRow ? ` LIMIT (SELECT count(*) - 1 FROM read_parquet(${list}))` : '';
    await duck(`COPY (SELECT * FROM read_parquet(${list})${limit}) TO ${sq(tmp)} (FORMAT parquet)`);
    const away = join(dir, `replaced-${basename(root)}`);
    mkdirSync(away, { recursive: true });
    for (const f of replaced) renameSync(f.path, join(away, f.name));
    renameSync(tmp, merged);
    return { merged: basename(merged), replaced, first, last };
  };

  it('a lake in units with one dt of one partition compacted passes: same rows and windows, fewer files', async () => {
    const root = copyLake('compacted');
    const { replaced } = await compactOneUnit(root);
    const result = await verify(root);
    expect(result.code, result.stdout).toBe(0);
    const before = summaryOf(clean);
    expect(summaryOf(result)).toEqual({ ...before, files: before.files - replaced.length + 1 });
  });

  it('a merged file lacking a row: a count mismatch naming it', async () => {
    const root = copyLake('compacted-short');
    const { merged } = await compactOneUnit(root, { dropOneRow: true });
    const result = await verify(root);
    expect(result.code).toBe(1);
    const s = summaryOf(result);
    expect(s).toMatchObject({ count_mismatches: 1, gaps: 0, overlaps: 0 });
    const line = result.stdout.split('\n').find((l) => l.startsWith('count_mismatch '))!;
    expect(line).toContain(merged);
    expect(line).toMatch(/Kafka holds (\d+) committed records in the range, the files hold \d+/);
    const [, kafka, lake] = /holds (\d+) committed .* hold (\d+)/.exec(line)!;
    expect(Number(lake)).toBe(Number(kafka) - 1);
  });

  it("a file in another partition's unit: a wrong_unit finding naming it, its rows still counted", async () => {
    const root = copyLake('wrong-unit');
    moveIntoUnits(root);
    const victim = rawFiles(root, 'iot').find((f) => f.partition === 0)!;
    const unitDir = join(dirname(dirname(victim.path)), 'p1');
    mkdirSync(unitDir, { recursive: true });
    renameSync(victim.path, join(unitDir, victim.name));
    const result = await verify(root);
    expect(result.code).toBe(1);
    expect(summaryOf(result)).toEqual(summaryOf(clean));
    const line = result.stdout.split('\n').find((l) => l.startsWith('wrong_unit '))!;
    expect(line).toMatch(/^wrong_unit iot: in unit p1, but its name belongs to unit p0/);
    expect(line).toContain(`${victim.dt}/p1/${victim.name}`);
  });

  it('bad usage exits 2; Kafka unreachable exits 1 with its SDP_ERR_ line', async () => {
    const usage = await verify(lakeRoot, ['--since', 'yesterday']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('error SDP_ERR_USAGE');
    const down = await runCli(['verify'], {
      ...env,
      SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1',
      SDP_KAFKA__UNREACHABLE_TIMEOUT: '3s',
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('error SDP_ERR_KAFKA_UNREACHABLE');
  });
});
