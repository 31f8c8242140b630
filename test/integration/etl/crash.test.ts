/**
 * The crash test: a large backlog, the ETL killed with SIGKILL at random moments at least five
 * times while it catches up (restarted each time on the same lake, checkpoint store and group),
 * then left to finish and stopped with SIGTERM. The lake must hold every event exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import type { Config } from '../../../src/config/schema.js';
import { isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess, type LogLine } from '../helpers/etlProcess.js';
import {
  badMessages,
  clickEvent,
  fillOffsets,
  iotEvent,
  writeNdjson,
  type BadMessage,
  type ExpectedClick,
  type ExpectedIot,
  type PlannedRecord,
} from '../helpers/etlTestEvents.js';
import { createTestTopics, endOffsets, groupOffsets, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import {
  abbreviated,
  checkRangeTiling,
  expectedRejected,
  readRejected,
  windowsMissingBeforeLastEmitted,
  windowsNotMatchingRaw,
  type InjectedBad,
} from '../helpers/lakeChecks.js';
import { listFiles, openLake, sqlString, tmpFiles, type LakeFile } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { windowsCaughtUp, windowsPollMs } from '../helpers/windowsCaughtUp.js';
import { scrapeMetrics, sampleValue } from '../helpers/prometheusText.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

// Large enough that five kills land while the ETL (about 60k events/s here) is still catching up.
const CLICKS = 600_000;
const READINGS = 300_000;
const MIN_KILLS = 5;
const MAX_RUNS = 10;
/** Records still to read at a kill's target: more than the ETL's row budget (160,000) plus ~1 s of reading. */
const KEEP_UNREAD = 350_000;
/** Event time spans 40 minutes across a UTC midnight; per-partition disorder stays under 3 s. */
const SPAN_MS = 40 * 60_000;
const JITTER_MS = 3_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('etl under kill -9 while catching up a backlog', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-etl-crash-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  afterAll(() => {
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every event exactly once across at least ${MIN_KILLS} kills`, { timeout: 30 * 60_000 }, async () => {
    const config: Config = loadTestConfig();
    await createTestTopics(config, logger);
    const partitions = config.kafka.partitions;
    const runId = randomName('crash');
    const seed = Date.now() % 1_000_000;
    const random = mulberry32(seed);
    const nowMs = Date.now();
    const midnightMs = Math.floor(nowMs / 86_400_000) * 86_400_000;
    const baseMs = midnightMs - 20 * 60_000; // yesterday 23:40 UTC: the windows straddle two dt
    const clicks: Array<PlannedRecord<ExpectedClick>> = Array.from({ length: CLICKS }, (_, index) =>
      clickEvent({
        runId,
        index,
        userCount: 5_000,
        partitions,
        tsMs: baseMs + Math.floor((index * SPAN_MS) / CLICKS) + Math.floor(random() * JITTER_MS),
        random,
        epochMillis: index % 2 === 0,
      }),
    );
    const readings: Array<PlannedRecord<ExpectedIot>> = Array.from({ length: READINGS }, (_, index) =>
      iotEvent({
        index,
        devices: 512,
        partitions,
        tsMs: baseMs + Math.floor((index * SPAN_MS) / READINGS) + (index % 1000),
        random,
      }),
    );
    const bads = badMessages(runId, nowMs, config.etl.max_event_bytes);
    const injected: InjectedBad[] = [];

    const producer = new TestProducer(config, logger);
    await producer.connect();
    const producedAt = Date.now();
    try {
      for (const stream of ['clickstream', 'iot'] as const) {
        const topic = config.topics[stream];
        const planned: Array<PlannedRecord<ExpectedClick | ExpectedIot>> = stream === 'clickstream' ? clicks : readings;
        const mine = bads.filter((b) => b.stream === stream);
        const badRecord = (b: BadMessage, i: number): TestRecord => ({
          partition: i % partitions,
          key: `bad-${i}`,
          value: b.value,
          timestampMs: nowMs,
        });
        // A third of the valid events, half of the bad ones, the rest, the other bad ones last.
        const cut = Math.floor(planned.length / 3);
        const badCut = Math.ceil(mine.length / 2);
        fillOffsets(
          planned.slice(0, cut),
          await producer.send(
            topic,
            planned.slice(0, cut).map((p) => p.record),
          ),
        );
        const first = await producer.send(topic, mine.slice(0, badCut).map(badRecord));
        fillOffsets(
          planned.slice(cut),
          await producer.send(
            topic,
            planned.slice(cut).map((p) => p.record),
          ),
        );
        const second = await producer.send(
          topic,
          mine.slice(badCut).map((b, i) => badRecord(b, i + 1)),
        );
        mine.forEach((b, i) => {
          const at = [...first, ...second][i]!;
          injected.push({ ...b, topic, partition: at.partition, offset: at.offset, recordTimestampMs: nowMs });
        });
      }
    } finally {
      await producer.disconnect();
    }
    console.info(
      `crash test: produced ${CLICKS + READINGS + bads.length} records in ${Date.now() - producedAt} ms (seed ${seed})`,
    );
    const ends = {
      clickstream: await endOffsets(config, logger, config.topics.clickstream),
      iot: await endOffsets(config, logger, config.topics.iot),
    };
    const total = (m: Map<number, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n);
    expect(total(ends.clickstream)).toBe(BigInt(CLICKS + bads.filter((b) => b.stream === 'clickstream').length));
    expect(total(ends.iot)).toBe(BigInt(READINGS + bads.filter((b) => b.stream === 'iot').length));

    const env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '15000',
        SDP_ETL__MAX_FILE_AGE: '3s',
        SDP_ETL__CHECKPOINT_INTERVAL: '2s',
        // Recovery then goes through snapshots as well as the journal.
        SDP_ETL__SNAPSHOT_EVERY: '7',
        SDP_LOG__LEVEL: process.env.CRASH_LOG_LEVEL ?? 'info',
      },
    });
    const logFile = join(dir, 'etl.log');
    const caughtUp = (): boolean => {
      const journal = readJournal(checkpointRoot);
      return (
        isCaughtUp(journal, config.topics.clickstream, ends.clickstream) &&
        isCaughtUp(journal, config.topics.iot, ends.iot)
      );
    };
    const topics = [config.topics.clickstream, config.topics.iot];

    // What a reader has seen must never change: every final file keeps its inode, size and mtime.
    const seen = new Map<string, LakeFile>();
    const checkNothingRewritten = (): string[] => {
      const problems: string[] = [];
      const now = new Map(
        listFiles(lakeRoot)
          .filter((f) => f.path.endsWith('.parquet'))
          .map((f) => [f.path, f]),
      );
      for (const [path, before] of seen) {
        const after = now.get(path);
        if (!after) problems.push(`${path} disappeared`);
        else if (after.ino !== before.ino || after.sizeBytes !== before.sizeBytes || after.mtimeMs !== before.mtimeMs)
          problems.push(`${path} was rewritten`);
      }
      for (const [path, f] of now) seen.set(path, f);
      return problems;
    };

    const kills: Array<{ run: number; moment: string; durableAtKill: number; caughtUp: boolean }> = [];
    const recoveries: LogLine[] = [];
    const totalRecords = CLICKS + READINGS + bads.length;
    const durableRecords = (): number => {
      let n = 0;
      for (const c of readJournal(checkpointRoot)?.rawRows.values() ?? []) n += c.rows + c.rejected;
      return n;
    };
    const killsWhileCatchingUp = (): number => kills.filter((k) => k.moment === 'catching up' && !k.caughtUp).length;
    let run = 0;
    while (killsWhileCatchingUp() < MIN_KILLS) {
      run += 1;
      // Checked before a start, so that no ETL is left running (and logging into a removed dir) on failure.
      const durableBefore = durableRecords();
      if (run > MAX_RUNS || durableBefore >= totalRecords)
        throw new Error(`the backlog was caught up before ${MIN_KILLS} kills: ${JSON.stringify(kills)}`);
      const etl = EtlProcess.start(env, { logFile });
      let moment: string;
      if (run === 2) {
        // Once during start-up: recovery done, the consumer group being joined.
        await etl.waitForLog((l) => l.msg === 'lake recovered from the checkpoint store', 120_000, 'lake recovery');
        moment = 'start-up';
      } else {
        // Otherwise while catching up: once a random share of what is left for this run is durable,
        // after a random delay, so that the kill lands anywhere between and inside rolls. Never later
        // than KEEP_UNREAD records before the end: the ETL reads up to a whole row budget ahead of
        // what is durable, and the end of a backlog commits all of that at once.
        const killsLeft = MIN_KILLS - killsWhileCatchingUp();
        const share =
          durableBefore +
          Math.max(1, Math.floor(((totalRecords - durableBefore) / (killsLeft + 1)) * (0.15 + 0.7 * random())));
        const targetRecords = Math.min(share, totalRecords - KEEP_UNREAD);
        await etl.waitForAssignments(topics);
        await waitFor(
          () => {
            if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
            return durableRecords() >= targetRecords;
          },
          300_000,
          `${targetRecords} durable records`,
          25,
        );
        // Near the end the target is already durable at the join: a time-based delay then lets the
        // kill land inside this run's reading and rolls, not right at its start.
        await sleep(Math.floor(random() * (targetRecords > durableBefore ? 300 : 1_000)));
        moment = 'catching up';
      }
      const exit = await etl.kill9();
      expect(exit.signal).toBe('SIGKILL');
      const recovered = etl.logs.find((l) => l.msg === 'lake recovered from the checkpoint store');
      if (recovered) recoveries.push(recovered);
      kills.push({ run, moment, durableAtKill: durableRecords(), caughtUp: caughtUp() });
      expect(checkNothingRewritten(), `after kill ${run}`).toEqual([]);
    }
    console.info(`crash test: kills ${JSON.stringify(kills)}`);

    // The last run: recover, catch up, stop gracefully.
    const etl = EtlProcess.start(env, { logFile });
    const port = await etl.statusPort();
    await waitFor(
      async () => {
        if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
        return (
          caughtUp() && (await windowsCaughtUp({ config, logger, checkpointRoot, clickstreamEnds: ends.clickstream }))
        );
      },
      600_000,
      'the checkpoint store to reach the end offsets and every window to be emitted',
      windowsPollMs(config),
    );
    const finalRecovery = etl.logs.find((l) => l.msg === 'lake recovered from the checkpoint store');
    if (finalRecovery) recoveries.push(finalRecovery);
    console.info(
      `crash test: recoveries ${JSON.stringify(recoveries.map((r) => ({ checkpoints: r.checkpoints, renames_reapplied: r.renames_reapplied, orphan_tmp_deleted: r.orphan_tmp_deleted })))}`,
    );
    const metrics = await scrapeMetrics(port);
    const exit = await etl.terminate();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(checkNothingRewritten(), 'after the graceful stop').toEqual([]);
    expect(tmpFiles(lakeRoot)).toEqual([]);
    // Events arrive in order within each partition, up to a jitter far below the watermark delay.
    expect(sampleValue(metrics, 'sdp_late_events_total')).toBe(0);

    // Exactly once, row for row.
    writeNdjson(
      join(dir, 'clicks.ndjson'),
      clicks.map((c) => c.expected),
    );
    writeNdjson(
      join(dir, 'iot.ndjson'),
      readings.map((r) => r.expected),
    );
    const lake = await openLake(lakeRoot);
    try {
      await lake.rows(
        `CREATE TABLE expected_click AS SELECT * FROM read_json(${sqlString(join(dir, 'clicks.ndjson'))}, format='newline_delimited', columns={event_id: 'VARCHAR', user_id: 'VARCHAR', url: 'VARCHAR', referrer: 'VARCHAR', ua: 'VARCHAR', ts_ms: 'BIGINT', partition: 'INTEGER', "offset": 'BIGINT'})`,
      );
      await lake.rows(
        `CREATE TABLE expected_iot AS SELECT * FROM read_json(${sqlString(join(dir, 'iot.ndjson'))}, format='newline_delimited', columns={device_id: 'VARCHAR', site: 'VARCHAR', temp_c: 'DOUBLE', humidity: 'DOUBLE', battery: 'DOUBLE', signal_strength: 'INTEGER', ts_ms: 'BIGINT', partition: 'INTEGER', "offset": 'BIGINT'})`,
      );
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
      expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(READINGS);
      const clickCols = 'event_id, user_id, url, referrer, ua, epoch_ms(ts)';
      const expectedClickCols = 'event_id, user_id, url, referrer, ua, ts_ms';
      expect(
        await lake.rows(
          `SELECT ${clickCols} FROM ${lake.table('clickstream')} EXCEPT ALL SELECT ${expectedClickCols} FROM expected_click LIMIT 5`,
        ),
      ).toEqual([]);
      expect(
        await lake.rows(
          `SELECT ${expectedClickCols} FROM expected_click EXCEPT ALL SELECT ${clickCols} FROM ${lake.table('clickstream')} LIMIT 5`,
        ),
      ).toEqual([]);
      const iotCols = 'device_id, site, temp_c, humidity, battery, signal_strength, epoch_ms(ts)';
      const expectedIotCols = 'device_id, site, temp_c, humidity, battery, signal_strength, ts_ms';
      expect(
        await lake.rows(
          `SELECT ${iotCols} FROM ${lake.table('iot')} EXCEPT ALL SELECT ${expectedIotCols} FROM expected_iot LIMIT 5`,
        ),
      ).toEqual([]);
      expect(
        await lake.rows(
          `SELECT ${expectedIotCols} FROM expected_iot EXCEPT ALL SELECT ${iotCols} FROM ${lake.table('iot')} LIMIT 5`,
        ),
      ).toEqual([]);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')} WHERE dt <> CAST(ts AS DATE)`)).toBe(
        0,
      );

      // No file range overlaps another (nothing written twice) and none is missing.
      for (const stream of ['clickstream', 'iot'] as const) {
        const tiling = checkRangeTiling(lakeRoot, stream, config.topics[stream], ends[stream]);
        expect(tiling.badNames, `${stream}: file names`).toEqual([]);
        expect(tiling.problems, `${stream}: offset ranges`).toEqual([]);
      }

      // _rejected: exactly the injected bad messages.
      const rejected = await readRejected(lake);
      expect(abbreviated(rejected)).toEqual(abbreviated(expectedRejected(injected)));
      expect(rejected).toEqual(expectedRejected(injected));

      // clickstream_agg: each (minute_start, url) once, minute_end = start + 1 min, dt = date of
      // minute_start, and with no late event every emitted count equals the raw rows of its minute.
      expect(
        await lake.rows(
          `SELECT minute_start::VARCHAR AS m, url, count(*) AS n FROM ${lake.table('clickstream_agg')} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`,
        ),
      ).toEqual([]);
      expect(
        await lake.scalar(
          `SELECT count(*) FROM ${lake.table('clickstream_agg')} WHERE minute_end <> minute_start + INTERVAL 1 MINUTE OR dt <> CAST(minute_start AS DATE)`,
        ),
      ).toBe(0);
      const minutes = await lake.scalar(`SELECT count(DISTINCT minute_start) FROM ${lake.table('clickstream_agg')}`);
      expect(minutes).toBeGreaterThanOrEqual(38);
      expect(await lake.scalar(`SELECT count(DISTINCT dt) FROM ${lake.table('clickstream_agg')}`)).toBe(2);
      expect(await windowsNotMatchingRaw(lake)).toEqual([]);
      // Emitted windows are a prefix of event time: no minute missing before the last one emitted.
      expect(await windowsMissingBeforeLastEmitted(lake)).toEqual([]);
    } finally {
      lake.close();
    }

    for (const stream of ['clickstream', 'iot'] as const) {
      const committed = await groupOffsets(config, logger, config.etl.consumer_group, config.topics[stream]);
      expect(Object.fromEntries(committed), `${stream}: group offsets`).toEqual(Object.fromEntries(ends[stream]));
    }
  });
});
