/**
 * Against the real cluster and real files: `data stats` equals DuckDB over
 * the same lake; `data clean --checkpoints` then a second run writes no event twice (the durable
 * offsets are rebuilt from the lake's file names) and every page-view window is counted once;
 * `data clean --lake` without --force deletes nothing, `make clean-datalake FORCE=1` empties the
 * lake and keeps the offsets; a locked checkpoint store (a running platform) and no terminal both
 * delete nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import type { DataStats } from '../../../src/commands/dataStats.js';
import type { Config } from '../../../src/config/schema.js';
import { isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { badMessages, clickEvent, iotEvent, type ExpectedClick, type PlannedRecord } from '../helpers/etlTestEvents.js';
import { createTestTopics, endOffsets, TestProducer } from '../helpers/kafkaTestData.js';
import { openLake, parquetFiles, type LakeReader } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { windowsNotCaughtUp } from '../helpers/windowsCaughtUp.js';
import { randomName } from '../helpers/randomName.js';
import { runCli } from '../helpers/runCli.js';
import { runMake } from '../helpers/runMake.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const MINUTE_MS = 60_000;
const WATERMARK_DELAY_MS = 10_000;

describe('data stats, data clean and the rebuild of offsets from the lake', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-data-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('run');
  const random = mulberry32(Date.now() % 1_000_000);
  // Event times three hours back, aligned to a minute: every window closes once partitions go idle.
  const baseMs = Math.floor((Date.now() - 3 * 3_600_000) / MINUTE_MS) * MINUTE_MS;
  const clicks: Array<PlannedRecord<ExpectedClick>> = [];
  let iotCount = 0;
  let badCount = 0;
  let config: Config;
  let env: Record<string, string>;

  async function produce(
    clickCount: number,
    fromMs: number,
    spanMs: number,
    iot: number,
    withBad: boolean,
  ): Promise<void> {
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      const batch = Array.from({ length: clickCount }, (_, i) =>
        clickEvent({
          runId,
          index: clicks.length + i,
          userCount: 300,
          partitions: config.kafka.partitions,
          tsMs: fromMs + Math.floor(random() * spanMs),
          random,
        }),
      );
      await producer.send(
        config.topics.clickstream,
        batch.map((c) => c.record),
      );
      clicks.push(...batch);
      const readings = Array.from({ length: iot }, (_, i) =>
        iotEvent({
          index: iotCount + i,
          devices: 40,
          partitions: config.kafka.partitions,
          tsMs: fromMs + Math.floor(random() * spanMs),
          random,
        }),
      );
      await producer.send(
        config.topics.iot,
        readings.map((r) => r.record),
      );
      iotCount += iot;
      if (withBad) {
        const bads = badMessages(runId, Date.now(), config.etl.max_event_bytes);
        for (const stream of ['clickstream', 'iot'] as const) {
          const mine = bads.filter((b) => b.stream === stream);
          await producer.send(
            config.topics[stream],
            mine.map((b, i) => ({
              partition: i % config.kafka.partitions,
              key: `bad-${i}`,
              value: b.value,
              timestampMs: Date.now(),
            })),
          );
          badCount += mine.length;
        }
      }
    } finally {
      await producer.disconnect();
    }
  }

  /** Page views the lake must hold per (window start, url): every click in a window that closed. */
  function expectedClosedWindows(): Map<string, number> {
    const watermarkMs = Math.max(...clicks.map((c) => c.expected.ts_ms)) - WATERMARK_DELAY_MS;
    const counts = new Map<string, number>();
    for (const c of clicks) {
      const start = Math.floor(c.expected.ts_ms / MINUTE_MS) * MINUTE_MS;
      if (start + MINUTE_MS > watermarkMs) continue;
      const key = `${start}|${c.expected.url}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  async function aggRows(): Promise<Map<string, number>> {
    if (parquetFiles(lakeRoot, 'clickstream_agg').length === 0) return new Map();
    const lake = await openLake(lakeRoot);
    try {
      const rows = await lake.rows(`SELECT epoch_ms(minute_start) AS s, url, pv FROM ${lake.table('clickstream_agg')}`);
      const out = new Map<string, number>();
      for (const r of rows) {
        const key = `${Number(r.s)}|${String(r.url)}`;
        // A duplicated (window, url) row shows up as a sum larger than expected.
        out.set(key, (out.get(key) ?? 0) + Number(r.pv));
      }
      return out;
    } finally {
      lake.close();
    }
  }

  /** Runs the ETL until both topics are durable and every closed window is in the lake, then SIGTERM. */
  async function runEtlUntilDone(label: string): Promise<EtlProcess> {
    const ends = {
      clickstream: await endOffsets(config, logger, config.topics.clickstream),
      iot: await endOffsets(config, logger, config.topics.iot),
    };
    const etl = EtlProcess.start(env, { logFile: join(dir, `etl-${label}.log`) });
    const expected = expectedClosedWindows();
    const expectedTotal = [...expected.values()].reduce((a, b) => a + b, 0);
    let waiting = 'nothing read yet';
    try {
      await waitFor(
        async () => {
          if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
          const journal = readJournal(checkpointRoot);
          if (
            !isCaughtUp(journal, config.topics.clickstream, ends.clickstream) ||
            !isCaughtUp(journal, config.topics.iot, ends.iot)
          ) {
            waiting = 'raw writers not at the end offsets';
            return false;
          }
          const windows = await windowsNotCaughtUp({
            config,
            logger,
            checkpointRoot,
            clickstreamEnds: ends.clickstream,
          });
          if (windows.length > 0) {
            waiting = windows.slice(0, 8).join('; ');
            return false;
          }
          const total = [...(await aggRows()).values()].reduce((a, b) => a + b, 0);
          waiting = `${total} page views in clickstream_agg`;
          return total >= expectedTotal;
        },
        240_000,
        `${label}: both topics durable and ${expectedTotal} page views in closed windows`,
        500,
      );
    } catch (err) {
      await etl.terminate(); // not left running (and holding the store) into the next test
      throw new Error(`${(err as Error).message}: ${waiting}`, { cause: err });
    }
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    return etl;
  }

  beforeAll(async () => {
    config = loadTestConfig();
    await createTestTopics(config, logger);
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '500',
        SDP_ETL__IDLE_TIMEOUT: '1s',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__MAX_FILE_IDLE: '1s',
      },
    });
    await produce(3_000, baseMs, 6 * MINUTE_MS, 1_500, true);
    await runEtlUntilDone('first');
  }, 400_000);

  afterAll(() => {
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('the first run marked both roots as the platform’s', () => {
    expect(JSON.parse(readFileSync(join(lakeRoot, '.sdp-root'), 'utf8'))).toMatchObject({ kind: 'datalake' });
    expect(JSON.parse(readFileSync(join(checkpointRoot, '.sdp-root'), 'utf8'))).toMatchObject({ kind: 'checkpoints' });
  });

  it('data stats --json gives the figures DuckDB computes over the same lake, and lag 0 at the topic ends', async () => {
    const result = await runCli(['data', 'stats', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stats = JSON.parse(result.stdout) as DataStats;
    const lake: LakeReader = await openLake(lakeRoot);
    try {
      const timeColumn = {
        clickstream: 'ts',
        iot: 'ts',
        clickstream_agg: 'minute_start',
        _rejected: 'kafka_ts',
      } as const;
      for (const t of stats.tables) {
        const [duck] = await lake.rows(
          `SELECT count(*)::BIGINT AS n_rows, count(DISTINCT filename)::BIGINT AS n_files, count(DISTINCT dt)::BIGINT AS n_dt, strftime(min(${timeColumn[t.table]}), '%Y-%m-%dT%H:%M:%S.%gZ') AS lo, strftime(max(${timeColumn[t.table]}), '%Y-%m-%dT%H:%M:%S.%gZ') AS hi FROM ${lake.table(t.table, { filename: true })}`,
        );
        expect({
          table: t.table,
          rows: t.rows,
          files: t.files,
          dt: t.dt_partitions,
          lo: t.min_event_time,
          hi: t.max_event_time,
        }).toEqual({
          table: t.table,
          rows: Number(duck!.n_rows),
          files: Number(duck!.n_files),
          dt: Number(duck!.n_dt),
          lo: duck!.lo,
          hi: duck!.hi,
        });
        const bytes = parquetFiles(lakeRoot, t.table).reduce((n, f) => n + f.sizeBytes, 0);
        expect(t.bytes).toBe(bytes);
      }
      const reasons = await lake.rows(
        `SELECT reason, count(*)::BIGINT AS n FROM ${lake.table('_rejected')} GROUP BY reason`,
      );
      expect(stats.rejected_by_reason).toEqual(Object.fromEntries(reasons.map((r) => [String(r.reason), Number(r.n)])));
      expect(Object.values(stats.rejected_by_reason).reduce((a, b) => a + b, 0)).toBe(badCount);
    } finally {
      lake.close();
    }
    expect(stats.tables.find((t) => t.table === 'clickstream')!.rows).toBe(clicks.length);
    expect(stats.checkpoints.exists).toBe(true);
    expect(stats.checkpoints.size_bytes).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(stats.checkpoints.last_checkpoint!)).toBeLessThan(10 * 60_000);
    expect(stats.kafka_error).toBeNull();
    expect(stats.offsets).toHaveLength(2 * config.kafka.partitions);
    for (const topic of [config.topics.clickstream, config.topics.iot]) {
      const ends = await endOffsets(config, logger, topic);
      for (const o of stats.offsets.filter((x) => x.topic === topic)) {
        expect(o.log_end_offset).toBe(Number(ends.get(o.partition)));
        expect(o.durable_offset).toBe(Number(ends.get(o.partition)) - 1);
        expect(o.lag).toBe(0);
      }
    }
    const human = await runCli(['data', 'stats'], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^table\s+dt partitions\s+files\s+rows/m);
    expect(human.stdout).toMatch(/rejected rows by reason/);
  });

  it('refuses, deleting nothing, while the checkpoint store is locked by another process (a running platform)', async () => {
    const db = new Database(join(checkpointRoot, 'checkpoints.sqlite'));
    db.exec('BEGIN EXCLUSIVE');
    try {
      const result = await runCli(['data', 'clean', '--checkpoints', '--yes'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/SDP_ERR_STORAGE_PLATFORM_RUNNING/);
      expect(result.stderr).toMatch(/make down|kill -TERM/);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(existsSync(join(checkpointRoot, 'checkpoints.sqlite'))).toBe(true);
  });

  it('asks y/N: with no terminal and no --yes it deletes nothing and says so', async () => {
    const result = await runCli(['data', 'clean', '--all'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SDP_ERR_STORAGE_CLEAN_REFUSED: no terminal/);
    expect(parquetFiles(lakeRoot, 'clickstream').length).toBeGreaterThan(0);
    expect(existsSync(join(checkpointRoot, 'checkpoints.sqlite'))).toBe(true);
  });

  it('refuses to clean the lake alone while checkpoints say its data is there (no --force): nothing deleted', async () => {
    const before = parquetFiles(lakeRoot, 'clickstream').length;
    const result = await runCli(['data', 'clean', '--lake', '--yes'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SDP_ERR_STORAGE_CLEAN_REFUSED/);
    expect(result.stderr).toMatch(/NOT read again/);
    expect(parquetFiles(lakeRoot, 'clickstream').length).toBe(before);
  });

  it('clean --checkpoints, new events, a second run: every event exactly once and every window counted once', async () => {
    const canary = join(dir, 'canary.txt');
    writeFileSync(canary, 'keep me');
    const aggBefore = await aggRows();
    const aggFilesBefore = parquetFiles(lakeRoot, 'clickstream_agg').map((f) => f.path);
    const result = await runCli(['data', 'clean', '--checkpoints', '--yes'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/rebuilds the durable offsets/);
    expect(existsSync(join(checkpointRoot, 'checkpoints.sqlite'))).toBe(false);
    expect(existsSync(join(checkpointRoot, '.sdp-root'))).toBe(true);
    expect(readFileSync(canary, 'utf8')).toBe('keep me');

    // New events in later windows, then the second run on the cleaned store.
    await produce(1_000, baseMs + 8 * MINUTE_MS, 3 * MINUTE_MS, 500, false);
    const etl = await runEtlUntilDone('second');

    const lake = await openLake(lakeRoot);
    try {
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(clicks.length);
      expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(
        clicks.length,
      );
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(iotCount);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('_rejected')}`)).toBe(badCount);
      expect(
        await lake.scalar(
          `SELECT count(*) FROM (SELECT minute_start, url FROM ${lake.table('clickstream_agg')} GROUP BY ALL HAVING count(*) > 1)`,
        ),
      ).toBe(0);
    } finally {
      lake.close();
    }
    // Every closed window holds exactly the clicks produced for it: none twice, none lost.
    expect(await aggRows()).toEqual(expectedClosedWindows());
    // No aggregate file was overwritten: the old ones are still there and the rows they held too.
    const aggFilesAfter = parquetFiles(lakeRoot, 'clickstream_agg').map((f) => f.path);
    expect(aggFilesAfter).toEqual(expect.arrayContaining(aggFilesBefore));
    const after = await aggRows();
    for (const [key, pv] of aggBefore) expect(after.get(key)).toBe(pv);
    expect(
      etl.logs.some((l) => typeof l.msg === 'string' && l.msg.includes('durable offsets rebuilt from the lake')),
    ).toBe(true);
  }, 400_000);

  it('make clean-datalake asks, naming the loss; FORCE=1 empties the lake, keeps the offsets, and the next start neither fails nor re-reads', async () => {
    const before = parquetFiles(lakeRoot, 'clickstream').length;
    const asked = await runMake(['clean-datalake'], env);
    expect(asked.code).not.toBe(0);
    expect(asked.stderr).toMatch(
      /SDP_ERR_STORAGE_CLEAN_REFUSED: no terminal to ask y\/N \(delete the lake and keep the offsets of \d+ checkpoints, so that its events are NOT read again\?\)/,
    );
    expect(parquetFiles(lakeRoot, 'clickstream').length).toBe(before);

    const result = await runMake(['clean-datalake', 'FORCE=1'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/node dist\/main\.js data clean --lake --force --yes/);
    expect(parquetFiles(lakeRoot, 'clickstream')).toEqual([]);
    expect(existsSync(join(lakeRoot, '.sdp-root'))).toBe(true);
    const stats = JSON.parse((await runCli(['data', 'stats', '--json'], env)).stdout) as DataStats;
    expect(stats.offsets.every((o) => o.lag === 0)).toBe(true);

    await produce(200, baseMs + 12 * MINUTE_MS, MINUTE_MS, 100, false);
    const ends = {
      clickstream: await endOffsets(config, logger, config.topics.clickstream),
      iot: await endOffsets(config, logger, config.topics.iot),
    };
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl-third.log') });
    await waitFor(
      () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        const journal = readJournal(checkpointRoot);
        return (
          isCaughtUp(journal, config.topics.clickstream, ends.clickstream) &&
          isCaughtUp(journal, config.topics.iot, ends.iot)
        );
      },
      240_000,
      'the third run to reach the topic ends',
      500,
    );
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    const lake = await openLake(lakeRoot);
    try {
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(200);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(100);
    } finally {
      lake.close();
    }
  }, 400_000);
});
