/**
 * Issue 5, "Must show": page views per URL per event-time minute (clickstream_agg) against the
 * raw clickstream rows, with events shuffled within the watermark delay, late events injected
 * after windows were emitted, and the all-partitions-idle rule closing the last minute. Once as
 * a clean run, once with the ETL killed (SIGKILL) and restarted several times along the way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { clickEvent, createRandom, fillOffsets, TEST_URLS, type ExpectedClick, type PlannedRecord } from '../helpers/etlTestEvents.js';
import { createTestTopics, TestProducer } from '../helpers/kafkaTestData.js';
import { openLake, sqlString, tmpFiles, type LakeReader } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { sampleValue, scrapeMetrics, type Sample } from '../helpers/prometheusText.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const MINUTE_MS = 60_000;
/** Minutes of event time with on-time events: 0..MINUTES-1 after T0. */
const MINUTES = 6;
const EVENTS_PER_MINUTE = 200;
const WATERMARK_DELAY_MS = 10_000;
/** Arrival order = event time + up to this much: out of order, never beyond the delay. */
const SHUFFLE_MS = 8_000;
const LATE_BEFORE_T0 = 20;
const LATE_IN_MINUTE_0 = 15;
const CLOSERS = 3;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Scenario {
  config: Config;
  t0Ms: number;
  onTime: Array<PlannedRecord<ExpectedClick>>;
  late: Array<PlannedRecord<ExpectedClick>>;
  closers: Array<PlannedRecord<ExpectedClick>>;
}

/** Emitted minute starts (epoch ms) visible in the lake right now; empty before the first file. */
async function emittedMinutes(lake: LakeReader): Promise<number[]> {
  try {
    const rows = await lake.rows(`SELECT DISTINCT epoch_ms(minute_start) AS m FROM ${lake.table('clickstream_agg')} ORDER BY 1`);
    return rows.map((r) => Number(r.m));
  } catch (err) {
    if (String(err).includes('No files found')) return [];
    throw err;
  }
}

function arrivalOrder(events: Array<PlannedRecord<ExpectedClick>>, random: () => number): Array<PlannedRecord<ExpectedClick>> {
  return events
    .map((e) => ({ e, key: e.expected.ts_ms + random() * SHUFFLE_MS }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.e);
}

describe('page views per url per minute (clickstream_agg)', () => {
  const logger = testLogger();
  const dirs: string[] = [];
  afterAll(() => {
    if (process.env.ETL_TEST_KEEP !== '1') for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function runScenario(withKills: boolean): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), `sdp-pageviews-${withKills ? 'kills' : 'clean'}-`));
    dirs.push(dir);
    const lakeRoot = join(dir, 'lake');
    const config = loadTestConfig();
    await createTestTopics(config, logger);
    const partitions = config.kafka.partitions;
    const seed = Date.now() % 1_000_000;
    const random = createRandom(seed);
    const runId = randomName('pv');
    const t0Ms = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 60 * MINUTE_MS;
    let index = 0;
    const event = (tsMs: number, url?: string): PlannedRecord<ExpectedClick> =>
      clickEvent({ runId, index: index++, userCount: 400, partitions, tsMs, random, epochMillis: index % 2 === 0, ...(url ? { url } : {}) });

    const scenario: Scenario = {
      config,
      t0Ms,
      onTime: Array.from({ length: MINUTES * EVENTS_PER_MINUTE }, (_, i) => event(t0Ms + Math.floor((i * MINUTES * MINUTE_MS) / (MINUTES * EVENTS_PER_MINUTE)) + Math.floor(random() * 300))),
      late: [],
      closers: [],
    };
    // Late: ten minutes before the first window, and inside minute 0 once it has been emitted.
    scenario.late = [
      ...Array.from({ length: LATE_BEFORE_T0 }, () => event(t0Ms - 10 * MINUTE_MS + Math.floor(random() * MINUTE_MS))),
      ...Array.from({ length: LATE_IN_MINUTE_0 }, (_, i) => event(t0Ms + Math.floor(random() * MINUTE_MS), TEST_URLS[i % 3])),
    ];
    // One partition jumps past the end of the last minute; the others then close it by going idle.
    const closerPartition = 0;
    while (scenario.closers.length < CLOSERS) {
      const e = event(t0Ms + MINUTES * MINUTE_MS + WATERMARK_DELAY_MS + 5_000);
      if (e.expected.partition === closerPartition) scenario.closers.push(e);
    }
    const phase1 = arrivalOrder(scenario.onTime.filter((e) => e.expected.ts_ms < t0Ms + 3 * MINUTE_MS), random);
    const phase3 = arrivalOrder(scenario.onTime.filter((e) => e.expected.ts_ms >= t0Ms + 3 * MINUTE_MS), random);
    expect(new Set(phase1.map((e) => e.expected.partition)).size).toBe(partitions);
    expect(new Set(phase3.map((e) => e.expected.partition)).size).toBe(partitions);

    const env = etlEnv(config, {
      lakeRoot,
      checkpointRoot: join(dir, 'checkpoints'),
      extra: {
        SDP_ETL__WATERMARK_DELAY: `${WATERMARK_DELAY_MS / 1000}s`,
        SDP_ETL__IDLE_TIMEOUT: '5s',
        SDP_ETL__CHECKPOINT_INTERVAL: '2s',
        SDP_ETL__MAX_FILE_AGE: '3s',
      },
    });
    const logFile = join(dir, 'etl.log');
    const topics = [config.topics.clickstream, config.topics.iot];
    const lake = await openLake(lakeRoot);
    const producer = new TestProducer(config, logger);
    await producer.connect();
    const produce = async (events: Array<PlannedRecord<ExpectedClick>>): Promise<void> => {
      fillOffsets(events, await producer.send(config.topics.clickstream, events.map((e) => e.record)));
    };
    let kills = 0;
    const restart = async (etl: EtlProcess): Promise<EtlProcess> => {
      const exit = await etl.kill9();
      expect(exit.signal).toBe('SIGKILL');
      kills += 1;
      const next = EtlProcess.start(env, { logFile });
      await next.waitForAssignments(topics);
      return next;
    };

    let etl = EtlProcess.start(env, { logFile });
    try {
      await produce(phase1);
      await etl.waitForAssignments(topics);
      if (withKills) {
        // Kill 1: somewhere in the first minutes' processing.
        await sleep(500 + Math.floor(random() * 2_000));
        etl = await restart(etl);
      }
      // Minutes 0 and 1 close once the watermark (max event time − 10 s) passes their end.
      await waitFor(async () => {
        if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
        return (await emittedMinutes(lake)).length >= 2;
      }, 240_000, 'the first windows in clickstream_agg', 250);
      expect((await emittedMinutes(lake)).slice(0, 2)).toEqual([t0Ms, t0Ms + MINUTE_MS]);

      if (withKills) {
        // Kill 2 while the ETL is running with windows emitted; the late events are produced while
        // it is down, so that the restarted one meets them first.
        await etl.kill9();
        kills += 1;
        await produce(scenario.late);
        etl = EtlProcess.start(env, { logFile });
        await etl.waitForAssignments(topics);
        // Kill 3: soon after, whether or not the late events were checkpointed yet.
        await sleep(Math.floor(random() * 3_000));
        etl = await restart(etl);
      } else {
        await produce(scenario.late);
      }

      await produce(phase3);
      if (withKills) {
        // Kill 4: once the first of the later minutes is out.
        await waitFor(async () => (await emittedMinutes(lake)).includes(t0Ms + 3 * MINUTE_MS), 240_000, 'minute 3 emitted', 250);
        etl = await restart(etl);
      }
      await produce(scenario.closers);
      await waitFor(async () => {
        if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
        return (await emittedMinutes(lake)).includes(t0Ms + (MINUTES - 1) * MINUTE_MS);
      }, 240_000, `the last minute (${MINUTES - 1}) emitted`, 250);

      const port = await etl.statusPort();
      const metrics: Sample[] = await scrapeMetrics(port);
      expect(sampleValue(metrics, 'sdp_late_events_total'), 'sdp_late_events_total').toBe(scenario.late.length);
      // Only the closers' minute is still open.
      expect(sampleValue(metrics, 'sdp_windows_open'), 'sdp_windows_open').toBe(1);
      expect(sampleValue(metrics, 'sdp_watermark_lag_seconds')).toBeGreaterThan(50 * 60);
      const partitionWatermarks = metrics.filter((s) => s.name === 'sdp_partition_watermark_seconds');
      expect(partitionWatermarks.map((s) => s.labels.partition).sort()).toEqual(Array.from({ length: partitions }, (_, p) => String(p)));
      expect(sampleValue(metrics, 'sdp_partition_watermark_seconds', { partition: String(closerPartition) })).toBe((t0Ms + MINUTES * MINUTE_MS + 5_000) / 1000);

      const exit = await etl.terminate();
      expect(exit).toEqual({ code: 0, signal: null });
      expect(tmpFiles(lakeRoot)).toEqual([]);
      if (withKills) expect(kills).toBeGreaterThanOrEqual(3);
    } finally {
      await producer.disconnect();
      if (etl.running) await etl.kill9();
    }

    try {
      await checkLake(lake, scenario);
    } finally {
      lake.close();
    }
  }

  async function checkLake(lake: LakeReader, s: Scenario): Promise<void> {
    const agg = lake.table('clickstream_agg');
    const raw = lake.table('clickstream');
    const lateIds = s.late.map((e) => sqlString(e.expected.event_id)).join(', ');
    await lake.rows(`CREATE TABLE late AS SELECT unnest([${lateIds}]) AS event_id`);

    // The raw table holds everything, late events included.
    expect(await lake.scalar(`SELECT count(*) FROM ${raw}`)).toBe(s.onTime.length + s.late.length + s.closers.length);
    expect(await lake.scalar(`SELECT count(*) FROM ${raw} WHERE event_id IN (SELECT event_id FROM late)`)).toBe(s.late.length);

    // Each (minute_start, url) once; minute_end = start + 1 min; dt = UTC date of minute_start.
    expect(await lake.rows(`SELECT minute_start::VARCHAR AS m, url, count(*) AS n FROM ${agg} GROUP BY ALL HAVING count(*) > 1`)).toEqual([]);
    expect(await lake.scalar(`SELECT count(*) FROM ${agg} WHERE minute_end <> minute_start + INTERVAL 1 MINUTE OR dt <> CAST(minute_start AS DATE)`)).toBe(0);

    // Exactly minutes 0..MINUTES-1 are emitted: not the late-only minute, not the closers' open one.
    expect(await emittedMinutes(lake)).toEqual(Array.from({ length: MINUTES }, (_, m) => s.t0Ms + m * MINUTE_MS));

    // pv = raw rows of (minute, url) minus the late ones, for every emitted row; and every
    // (minute, url) with on-time rows in those minutes is emitted.
    const rawCounts = `
      SELECT date_trunc('minute', ts) AS minute_start, url, count(*) AS all_rows,
             count(*) FILTER (WHERE event_id NOT IN (SELECT event_id FROM late)) AS on_time
      FROM ${raw} GROUP BY ALL`;
    const wrong = await lake.rows(`
      WITH r AS (${rawCounts})
      SELECT a.minute_start::VARCHAR AS minute_start, a.url, a.pv, r.all_rows, r.on_time FROM ${agg} a LEFT JOIN r USING (minute_start, url)
      WHERE r.on_time IS NULL OR a.pv <> r.on_time`);
    expect(wrong).toEqual([]);
    const lost = await lake.rows(`
      WITH r AS (${rawCounts})
      SELECT r.minute_start::VARCHAR AS minute_start, r.url, r.on_time FROM r LEFT JOIN ${agg} a USING (minute_start, url)
      WHERE r.on_time > 0 AND epoch_ms(r.minute_start) BETWEEN ${s.t0Ms} AND ${s.t0Ms + (MINUTES - 1) * MINUTE_MS} AND a.pv IS NULL`);
    expect(lost).toEqual([]);
    expect(await lake.scalar(`SELECT sum(pv) FROM ${agg}`)).toBe(s.onTime.length);
    // The late events of minute 0 are in the raw table but not in its emitted counts.
    expect(
      await lake.scalar(`WITH r AS (${rawCounts}) SELECT sum(r.all_rows - a.pv) FROM ${agg} a JOIN r USING (minute_start, url) WHERE epoch_ms(a.minute_start) = ${s.t0Ms}`),
    ).toBe(LATE_IN_MINUTE_0);
  }

  it('counts on-time page views exactly, excludes late events, and closes the last minute by idleness', { timeout: 15 * 60_000 }, async () => {
    await runScenario(false);
  });

  it('gives the same windows, once each, and the same late count when the ETL is killed -9 and restarted along the way', { timeout: 25 * 60_000 }, async () => {
    await runScenario(true);
  });
});
