/**
 * Page views per URL per event-time minute (clickstream_agg) checked with
 * DuckDB against the raw clickstream rows. Event times are the test's: six minutes, shuffled
 * within the watermark delay, every partition fed; late events injected only once windows are
 * visible (ten minutes before the first minute, and inside the already emitted minute 0); the last
 * minute closed by idleness. Once as a clean run, once with the ETL killed (SIGKILL) and restarted
 * four times along the way, once with a partition that never receives data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import type { Config } from '../../../src/config/schema.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import {
  clickEvent,
  fillOffsets,
  TEST_URLS,
  type ExpectedClick,
  type PlannedRecord,
} from '../helpers/etlTestEvents.js';
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
const IDLE_TIMEOUT_MS = 5_000;
/** Arrival order = event time + up to this much: out of order, never beyond the delay. */
const SHUFFLE_MS = 8_000;
const LATE_BEFORE_T0 = 20;
const LATE_IN_MINUTE_0 = 16;
const CLOSERS = 3;
const CLOSER_PARTITION = 0;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Emitted minute starts (epoch ms) visible in the lake right now; empty before the first file. */
async function emittedMinutes(lake: LakeReader): Promise<number[]> {
  try {
    const rows = await lake.rows(
      `SELECT DISTINCT epoch_ms(minute_start) AS m FROM ${lake.table('clickstream_agg')} ORDER BY 1`,
    );
    return rows.map((r) => Number(r.m));
  } catch (err) {
    if (String(err).includes('No files found')) return [];
    throw err;
  }
}

function arrivalOrder(
  events: Array<PlannedRecord<ExpectedClick>>,
  random: () => number,
): Array<PlannedRecord<ExpectedClick>> {
  return events
    .map((e) => ({ e, key: e.expected.ts_ms + random() * SHUFFLE_MS }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.e);
}

/** Everything one scenario needs: its config, data, lake, producer and the running ETL. */
class Scenario {
  readonly dir: string;
  readonly lakeRoot: string;
  readonly config: Config;
  readonly env: Record<string, string>;
  readonly random: () => number;
  readonly t0Ms: number;
  readonly runId = randomName('pv');
  private index = 0;
  onTime: Array<PlannedRecord<ExpectedClick>> = [];
  late: Array<PlannedRecord<ExpectedClick>> = [];
  closers: Array<PlannedRecord<ExpectedClick>> = [];
  etl?: EtlProcess;
  kills = 0;
  lake!: LakeReader;
  producer!: TestProducer;

  constructor(
    name: string,
    readonly logger = testLogger(),
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `sdp-pageviews-${name}-`));
    this.lakeRoot = join(this.dir, 'lake');
    this.config = loadTestConfig();
    const seed = Date.now() % 1_000_000;
    this.random = mulberry32(seed);
    // An hour ago, on a minute boundary: far from the wall clock, so only the data moves time.
    this.t0Ms = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - 60 * MINUTE_MS;
    this.env = etlEnv(this.config, {
      lakeRoot: this.lakeRoot,
      checkpointRoot: join(this.dir, 'checkpoints'),
      extra: {
        SDP_ETL__WATERMARK_DELAY: `${WATERMARK_DELAY_MS / 1000}s`,
        SDP_ETL__IDLE_TIMEOUT: `${IDLE_TIMEOUT_MS / 1000}s`,
        SDP_ETL__CHECKPOINT_INTERVAL: '2s',
        SDP_ETL__MAX_FILE_AGE: '3s',
      },
    });
  }

  get partitions(): number {
    return this.config.kafka.partitions;
  }

  get topics(): string[] {
    return [this.config.topics.clickstream, this.config.topics.iot];
  }

  event(tsMs: number, options: { url?: string; partition?: number } = {}): PlannedRecord<ExpectedClick> {
    for (;;) {
      const e = clickEvent({
        runId: this.runId,
        index: this.index++,
        userCount: 400,
        partitions: this.partitions,
        tsMs,
        random: this.random,
        epochMillis: this.index % 2 === 0,
        ...(options.url ? { url: options.url } : {}),
      });
      if (options.partition === undefined || e.expected.partition === options.partition) return e;
    }
  }

  /** On-time events of minutes 0..MINUTES-1, on the partitions given; late ones on every partition; closers. */
  plan(onTimePartitions: readonly number[]): void {
    const total = MINUTES * EVENTS_PER_MINUTE;
    this.onTime = Array.from({ length: total }, (_, i) =>
      this.event(this.t0Ms + Math.floor((i * MINUTES * MINUTE_MS) / total) + Math.floor(this.random() * 300), {
        partition: onTimePartitions[i % onTimePartitions.length]!,
      }),
    );
    this.late = [
      ...Array.from({ length: LATE_BEFORE_T0 }, (_, i) =>
        this.event(this.t0Ms - 10 * MINUTE_MS + Math.floor(this.random() * MINUTE_MS), {
          partition: i % this.partitions,
        }),
      ),
      ...Array.from({ length: LATE_IN_MINUTE_0 }, (_, i) =>
        this.event(this.t0Ms + Math.floor(this.random() * MINUTE_MS), {
          url: TEST_URLS[i % 3]!,
          partition: i % this.partitions,
        }),
      ),
    ];
    // One partition jumps past the end of the last minute (+ the delay); idleness of the others closes it.
    this.closers = Array.from({ length: CLOSERS }, () =>
      this.event(this.t0Ms + MINUTES * MINUTE_MS + WATERMARK_DELAY_MS + 5_000, { partition: CLOSER_PARTITION }),
    );
  }

  phase(fromMinute: number, toMinute: number): Array<PlannedRecord<ExpectedClick>> {
    return arrivalOrder(
      this.onTime.filter(
        (e) =>
          e.expected.ts_ms >= this.t0Ms + fromMinute * MINUTE_MS && e.expected.ts_ms < this.t0Ms + toMinute * MINUTE_MS,
      ),
      this.random,
    );
  }

  async open(): Promise<void> {
    await createTestTopics(this.config, this.logger);
    this.lake = await openLake(this.lakeRoot);
    this.producer = new TestProducer(this.config, this.logger);
    await this.producer.connect();
  }

  async produce(events: Array<PlannedRecord<ExpectedClick>>): Promise<void> {
    fillOffsets(
      events,
      await this.producer.send(
        this.config.topics.clickstream,
        events.map((e) => e.record),
      ),
    );
  }

  async start(): Promise<EtlProcess> {
    this.etl = EtlProcess.start(this.env, { logFile: join(this.dir, 'etl.log') });
    await this.etl.waitForAssignments(this.topics);
    return this.etl;
  }

  async kill(): Promise<void> {
    const exit = await this.etl!.kill9();
    expect(exit.signal).toBe('SIGKILL');
    this.kills += 1;
  }

  async waitForMinute(minute: number, timeoutMs = 240_000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.etl!.running) throw new Error(`etl exited:\n${this.etl!.tail(20)}`);
        return (await emittedMinutes(this.lake)).includes(this.t0Ms + minute * MINUTE_MS);
      },
      timeoutMs,
      `minute ${minute} in clickstream_agg`,
      250,
    );
  }

  /** The end of every run: minute MINUTES-2 out, then the closers close the last minute. */
  async closeRemainingMinutes(): Promise<void> {
    await this.waitForMinute(MINUTES - 2);
    await this.produce(this.closers);
    await this.waitForMinute(MINUTES - 1);
  }

  async metrics(): Promise<Sample[]> {
    return scrapeMetrics(await this.etl!.statusPort());
  }

  /** Waits until the running ETL counts `n` late events (restored from its checkpoint or applied). */
  async waitForLateEvents(n: number): Promise<void> {
    await waitFor(
      async () => sampleValue(await this.metrics(), 'sdp_late_events_total') === n,
      120_000,
      `sdp_late_events_total = ${n}`,
      200,
    );
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    if (this.etl?.running) await this.etl.kill9();
    this.lake?.close();
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }

  /** The final state: metrics of the running ETL, graceful stop, then the lake against the truth. */
  async finishAndCheck(): Promise<void> {
    // A minute is in the lake once one task emitted it; with `etl.windows: members` each stage-2 task closes the
    // minute for its own urls, so the metrics settle a commit or two later. The assertions below judge what they
    // settle to (or the last scrape, after 30 s).
    let metrics = await this.metrics();
    const settleBy = Date.now() + 30_000;
    while (sampleValue(metrics, 'sdp_windows_open') !== 1 && Date.now() < settleBy) {
      await sleep(200);
      metrics = await this.metrics();
    }
    const exit = await this.etl!.terminate();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(tmpFiles(this.lakeRoot)).toEqual([]);
    await this.checkLake();
    expect.soft(sampleValue(metrics, 'sdp_late_events_total'), 'sdp_late_events_total').toBe(this.late.length);
    // Only the closers' minute is still open.
    expect.soft(sampleValue(metrics, 'sdp_windows_open'), 'sdp_windows_open').toBe(1);
    expect
      .soft(sampleValue(metrics, 'sdp_watermark_lag_seconds'), 'sdp_watermark_lag_seconds')
      .toBeGreaterThan(50 * 60);
    const partitionWatermarks = metrics.filter((s) => s.name === 'sdp_partition_watermark_seconds');
    expect
      .soft(partitionWatermarks.map((s) => s.labels.partition).sort())
      .toEqual(Array.from({ length: this.partitions }, (_, p) => String(p)));
    expect
      .soft(sampleValue(metrics, 'sdp_partition_watermark_seconds', { partition: String(CLOSER_PARTITION) }))
      .toBe((this.t0Ms + MINUTES * MINUTE_MS + 5_000) / 1000);
  }

  async checkLake(): Promise<void> {
    const { lake } = this;
    const agg = lake.table('clickstream_agg');
    const raw = lake.table('clickstream');
    await lake.rows(
      `CREATE OR REPLACE TABLE late AS SELECT unnest([${this.late.map((e) => sqlString(e.expected.event_id)).join(', ')}]) AS event_id`,
    );

    // The raw table holds everything, late events included.
    expect(await lake.scalar(`SELECT count(*) FROM ${raw}`)).toBe(
      this.onTime.length + this.late.length + this.closers.length,
    );
    expect(await lake.scalar(`SELECT count(*) FROM ${raw} WHERE event_id IN (SELECT event_id FROM late)`)).toBe(
      this.late.length,
    );

    // Each (minute_start, url) once; minute_end = start + 1 min; dt = UTC date of minute_start.
    expect(
      await lake.rows(
        `SELECT minute_start::VARCHAR AS m, url, count(*) AS n FROM ${agg} GROUP BY ALL HAVING count(*) > 1`,
      ),
    ).toEqual([]);
    expect(
      await lake.scalar(
        `SELECT count(*) FROM ${agg} WHERE minute_end <> minute_start + INTERVAL 1 MINUTE OR dt <> CAST(minute_start AS DATE)`,
      ),
    ).toBe(0);

    // Exactly minutes 0..MINUTES-1 are emitted: not the late-only minute, not the closers' open one.
    expect(await emittedMinutes(lake)).toEqual(Array.from({ length: MINUTES }, (_, m) => this.t0Ms + m * MINUTE_MS));

    // pv = raw rows of (minute, url) minus the late ones, for every emitted row; and every
    // (minute, url) with on-time rows in those minutes is emitted.
    const rawCounts = `
      SELECT date_trunc('minute', ts) AS minute_start, url, count(*) AS all_rows,
             count(*) FILTER (WHERE event_id NOT IN (SELECT event_id FROM late)) AS on_time
      FROM ${raw} GROUP BY ALL`;
    const wrong = await lake.rows(`
      WITH r AS (${rawCounts})
      SELECT a.minute_start::VARCHAR AS minute_start, a.url, a.pv, r.all_rows, r.on_time FROM ${agg} a LEFT JOIN r USING (minute_start, url)
      WHERE r.on_time IS NULL OR a.pv <> r.on_time ORDER BY 1, 2`);
    expect.soft(wrong, 'emitted rows whose pv differs from the on-time raw rows').toEqual([]);
    const lost = await lake.rows(`
      WITH r AS (${rawCounts})
      SELECT r.minute_start::VARCHAR AS minute_start, r.url, r.on_time FROM r LEFT JOIN ${agg} a USING (minute_start, url)
      WHERE r.on_time > 0 AND epoch_ms(r.minute_start) BETWEEN ${this.t0Ms} AND ${this.t0Ms + (MINUTES - 1) * MINUTE_MS} AND a.pv IS NULL ORDER BY 1, 2`);
    expect.soft(lost, 'on-time (minute, url) never emitted').toEqual([]);
    expect.soft(await lake.scalar(`SELECT sum(pv) FROM ${agg}`), 'sum(pv)').toBe(this.onTime.length);
    // The late events of minute 0 are in the raw table but not in its emitted counts.
    expect
      .soft(
        await lake.scalar(
          `WITH r AS (${rawCounts}) SELECT sum(r.all_rows - a.pv) FROM ${agg} a JOIN r USING (minute_start, url) WHERE epoch_ms(a.minute_start) = ${this.t0Ms}`,
        ),
      )
      .toBe(LATE_IN_MINUTE_0);
  }
}

describe('page views per url per minute (clickstream_agg)', () => {
  const scenarios: Scenario[] = [];
  afterAll(async () => {
    for (const s of scenarios) await s.close();
  });

  /** A scenario with its on-time events on `onTimePartitions` (default: all), topics and lake open. */
  async function openScenario(name: string, onTimePartitions?: (partitions: number) => number[]): Promise<Scenario> {
    const s = new Scenario(name);
    scenarios.push(s);
    s.plan(onTimePartitions?.(s.partitions) ?? Array.from({ length: s.partitions }, (_, p) => p));
    await s.open();
    return s;
  }

  it('counts on-time page views exactly, excludes late events, and closes the last minute by idleness', {
    timeout: 15 * 60_000,
  }, async () => {
    const s = await openScenario('clean');
    await s.produce(s.phase(0, 3));
    await s.start();
    // Minutes 0 and 1 close once the watermark (max event time − 10 s) passes their end.
    await s.waitForMinute(1);
    expect((await emittedMinutes(s.lake)).slice(0, 2)).toEqual([s.t0Ms, s.t0Ms + MINUTE_MS]);
    await s.produce(s.late);
    await s.waitForLateEvents(s.late.length);
    // Every partition has just delivered its late events, so none is idle while the next minutes
    // arrive (an idle partition does not hold the watermark back: architecture.md, "Event time").
    await s.produce(s.phase(3, MINUTES));
    await s.closeRemainingMinutes();
    await s.finishAndCheck();
  });

  it('gives the same windows, once each, and the same late count when the ETL is killed -9 four times along the way', {
    timeout: 25 * 60_000,
  }, async () => {
    const s = await openScenario('kills');
    await s.produce(s.phase(0, 3));
    // Kill 1: somewhere while the first minutes are processed.
    await s.start();
    await sleep(500 + Math.floor(s.random() * 2_000));
    await s.kill();
    // Kill 2: once windows are visible.
    await s.start();
    await s.waitForMinute(1);
    await s.kill();
    // The late events arrive while it is down: late in every execution, since emitted windows are
    // committed with the state that closed them.
    await s.produce(s.late);
    await s.start();
    await s.waitForLateEvents(s.late.length);
    // Kill 3, then the next minutes arrive while it is down: a restart with a backlog on every partition.
    await s.kill();
    await s.produce(s.phase(3, MINUTES));
    await s.start();
    // Kill 4: once the first of the later minutes is out.
    await s.waitForMinute(3);
    await s.kill();
    await s.start();
    await s.closeRemainingMinutes();
    expect(s.kills).toBe(4);
    await s.finishAndCheck();
  });

  it('keeps open windows in the checkpoint on SIGTERM, never emits them early, and completes them after a restart', {
    timeout: 15 * 60_000,
  }, async () => {
    const s = await openScenario('sigterm');
    await s.produce(s.phase(0, 3));
    await s.start();
    await s.waitForMinute(1);
    // Minute 2 is still open (the watermark is 10 s behind its last events): a graceful stop
    // checkpoints it without emitting it.
    expect(await s.etl!.terminate()).toEqual({ code: 0, signal: null });
    s.etl = undefined;
    expect(await emittedMinutes(s.lake)).toEqual([s.t0Ms, s.t0Ms + MINUTE_MS]);
    await s.start();
    await s.produce(s.late);
    await s.waitForLateEvents(s.late.length);
    await s.produce(s.phase(3, MINUTES));
    await s.closeRemainingMinutes();
    // Every minute once, with exactly the raw page views: the open window survived the stop.
    await s.finishAndCheck();
  });

  it('does not let a partition that never receives data hold the watermark back for ever', {
    timeout: 10 * 60_000,
  }, async () => {
    const s = await openScenario('empty-partition', (partitions) =>
      Array.from({ length: partitions - 1 }, (_, p) => p),
    );
    const empty = s.partitions - 1;
    await s.produce(s.phase(0, 3));
    await s.start();
    // Partition `empty` has no record at all: once idle_timeout has passed it must not hold the
    // watermark back, so minutes 0 and 1 close as they do when every partition has data.
    const deadlineMs = Date.now() + 60_000 + IDLE_TIMEOUT_MS;
    let minutes: number[] = [];
    while (Date.now() < deadlineMs && (minutes = await emittedMinutes(s.lake)).length < 2) await sleep(250);
    const metrics = await s.metrics();
    const status = metrics
      .filter((m) => m.name === 'sdp_partition_watermark_seconds')
      .map((m) => `${m.labels.partition}:${m.labels.idle}`);
    expect(
      minutes.slice(0, 2),
      `emitted minutes after ${60 + IDLE_TIMEOUT_MS / 1000} s; partition watermarks ${status.join(' ')}; empty partition ${empty}`,
    ).toEqual([s.t0Ms, s.t0Ms + MINUTE_MS]);
    expect(await s.etl!.terminate()).toEqual({ code: 0, signal: null });
  });
});
