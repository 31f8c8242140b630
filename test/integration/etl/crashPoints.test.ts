/**
 * Crash points hit on purpose. One shared backlog (clickstream with a rejected
 * record in every roll, so that each roll renames two files or more, and IoT); for each point of
 * `SDP_FAULT`, a fresh lake, checkpoint store and consumer group: the ETL runs with the fault
 * armed until it kills itself there (SIGKILL, no cleanup), then runs again without it until it has
 * caught up, and stops. The lake must then hold every event exactly once (DuckDB), every rejected
 * record once, every emitted window once with the page views of its minute.
 *
 * With the windows across members (etl.windows: members) Kafka is the truth: the restart joins the same group (once
 * the killed member's session has expired) and resumes from the group's commits and the stage-2 snapshots; the
 * points are a raw roll's (whose transaction also carries stage 1's page views) and the window tasks' own.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import type { Config } from '../../../src/config/schema.js';
import { FAULT_POINTS, type FaultPoint } from '../../../src/system/faults.js';
import { isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import {
  clickEvent,
  fillOffsets,
  iotEvent,
  type ExpectedClick,
  type ExpectedIot,
  type PlannedRecord,
} from '../helpers/etlTestEvents.js';
import { createTestTopics, endOffsets, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import { checkRangeTiling, windowsMissingBeforeLastEmitted, windowsNotMatchingRaw } from '../helpers/lakeChecks.js';
import { listFiles, openLake, tmpFiles } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const CLICKS = 12_000;
const READINGS = 6_000;
/** One bad (not JSON) clickstream record every this many: every roll of 1,500 records holds some. */
const BAD_EVERY = 100;
/** Event time spans 8 minutes across a UTC midnight, in order up to 2 s of jitter. */
const SPAN_MS = 8 * 60_000;
/** The points of the one-process windows (the window aggregator, the checkpoint store's journal). */
// Compaction's points are hit by `lake compact`, not the ETL: test/integration/lake/compaction.test.ts.
const PROCESS_POINTS = FAULT_POINTS.filter((p) => !p.startsWith('window-task-') && !p.startsWith('compaction-'));
/** The points on the path of the windows across members. */
const MEMBERS_POINTS: FaultPoint[] = [
  'after-commit-before-rename',
  'window-task-after-tmp-before-commit',
  'window-task-after-commit-before-rename',
];

describe('etl crash points (SDP_FAULT)', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-etl-faults-'));
  let config: Config;
  let ends: { clickstream: Map<number, bigint>; iot: Map<number, bigint> };
  let bads = 0;
  afterAll(() => {
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    config = loadTestConfig();
    await createTestTopics(config, logger);
    const partitions = config.kafka.partitions;
    const runId = randomName('faults');
    const random = mulberry32(Date.now() % 1_000_000);
    const midnightMs = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const baseMs = midnightMs - 4 * 60_000;
    const clicks: Array<PlannedRecord<ExpectedClick>> = Array.from({ length: CLICKS }, (_, index) =>
      clickEvent({
        runId,
        index,
        userCount: 2_000,
        partitions,
        tsMs: baseMs + Math.floor((index * SPAN_MS) / CLICKS) + Math.floor(random() * 2_000),
        random,
      }),
    );
    const readings: Array<PlannedRecord<ExpectedIot>> = Array.from({ length: READINGS }, (_, index) =>
      iotEvent({ index, devices: 256, partitions, tsMs: baseMs + Math.floor((index * SPAN_MS) / READINGS), random }),
    );
    const clickRecords: TestRecord[] = [];
    clicks.forEach((c, i) => {
      clickRecords.push(c.record);
      if (i % BAD_EVERY === 0) {
        clickRecords.push({ partition: (i / BAD_EVERY) % partitions, key: `bad-${i}`, value: `{"not json ${i}` });
        bads += 1;
      }
    });
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      const placed = await producer.send(config.topics.clickstream, clickRecords);
      fillOffsets(
        clicks,
        placed.filter((_, i) => !clickRecords[i]!.key?.startsWith('bad-')),
      );
      fillOffsets(
        readings,
        await producer.send(
          config.topics.iot,
          readings.map((r) => r.record),
        ),
      );
    } finally {
      await producer.disconnect();
    }
    ends = {
      clickstream: await endOffsets(config, logger, config.topics.clickstream),
      iot: await endOffsets(config, logger, config.topics.iot),
    };
  }, 120_000);

  it('an unknown SDP_FAULT exits 2 naming it, before anything starts', async () => {
    const result = await runCli(['etl'], { SDP_FAULT: 'after-lunch' }, 30_000);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SDP_FAULT: unknown fault point 'after-lunch'");
    expect(result.stderr).toContain('SDP_ERR_CONFIG_FAULT_UNKNOWN');
  });

  it.each(PROCESS_POINTS)('killed at %s, then restarted: every event exactly once', { timeout: 240_000 }, (point) =>
    killedAndRestarted(point, 'process'),
  );

  it.each(MEMBERS_POINTS)(
    'windows across members: killed at %s, then restarted in its group: every event and window exactly once',
    { timeout: 240_000 },
    (point) => killedAndRestarted(point, 'members'),
  );

  async function killedAndRestarted(point: FaultPoint, windows: 'process' | 'members'): Promise<void> {
    const runDir = join(dir, `${windows}-${point}`);
    const members = windows === 'members';
    const lakeRoot = join(runDir, 'lake');
    const checkpointRoot = join(runDir, 'checkpoints');
    const env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        // Each point gets its own group: it reads the shared backlog from the start.
        SDP_ETL__CONSUMER_GROUP: randomName(`sdp-faults-${point}`),
        SDP_ETL__MAX_FILE_ROWS: '1500',
        SDP_ETL__MAX_FILE_AGE: '2s',
        SDP_ETL__CHECKPOINT_INTERVAL: '500ms',
        SDP_ETL__MAX_FILE_IDLE: '300ms',
        SDP_ETL__SNAPSHOT_EVERY: '3',
        SDP_ETL__WINDOWS: windows,
        // Members: idle partitions soon let the watermark pass the backlog's minutes.
        ...(members ? { SDP_ETL__IDLE_TIMEOUT: '2s', SDP_ETL__WATERMARK_DELAY: '1s' } : {}),
      },
    });
    const logFile = join(runDir, 'etl.log');
    mkdirSync(runDir, { recursive: true });

    const faulty = EtlProcess.start({ ...env, SDP_FAULT: point }, { logFile });
    // The point is on the commit path: reached within seconds of the first roll or checkpoint.
    const crashed = await Promise.race([
      faulty.exited,
      new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 90_000).unref()),
    ]);
    if (crashed === 'running') await faulty.kill9();
    expect(crashed, faulty.tail(20)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(faulty.lines).toContain(`SDP_FAULT=${point}: crashing here on purpose (SIGKILL)`);
    if (point === 'after-tmp-fsync-before-commit' || point === 'window-task-after-tmp-before-commit') {
      // Rows not committed lie in tmp files now. Spark, pyarrow and pandas read every file whose name does not start
      // with '.' or '_', whatever its extension: the tmp files must be hidden from them.
      expect(tmpFiles(lakeRoot).length, 'tmp files left by the crash').toBeGreaterThan(0);
      const visible = listFiles(join(lakeRoot, 'tables')).filter((f) => !/^[._]/.test(f.path.split('/').at(-1)!));
      expect(visible.filter((f) => !f.path.endsWith('.parquet')).map((f) => f.path)).toEqual([]);
    }

    // One process: a fresh group for the restart, since the killed member would hold the rebalance for a session
    // timeout (crash.test.ts covers restarts in the same group); positions come from the checkpoint store. Members:
    // the same group, whose commits and stage-2 snapshots are where everything resumes.
    const etl = EtlProcess.start(
      members ? env : { ...env, SDP_ETL__CONSUMER_GROUP: randomName(`sdp-faults-${point}-restart`) },
      { logFile },
    );
    // Started (signal handlers on): the store may already be caught up if the crash came last.
    await etl.statusPort();
    await waitFor(
      () => {
        if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
        const journal = readJournal(checkpointRoot);
        return (
          isCaughtUp(journal, config.topics.clickstream, ends.clickstream, !members) &&
          isCaughtUp(journal, config.topics.iot, ends.iot)
        );
      },
      120_000,
      'the checkpoint store to reach the end offsets',
      100,
    );
    if (members) {
      // The window stage's progress is in Kafka: wait for the backlog's minutes to be emitted.
      await waitFor(
        async () => {
          if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
          const lake = await openLake(lakeRoot);
          const minutes = `SELECT count(DISTINCT minute_start) FROM ${lake.table('clickstream_agg')}`;
          // No window file yet is not an answer: DuckDB refuses a glob that matches nothing.
          return (
            (await lake
              .scalar(minutes)
              .catch(() => 0)
              .finally(() => lake.close())) >= 6
          );
        },
        90_000,
        'six minutes of windows in the lake',
        1_000,
      );
    }
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    expect(tmpFiles(lakeRoot).map((f) => f.path)).toEqual([]);

    const lake = await openLake(lakeRoot);
    try {
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
      expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(READINGS);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('_rejected')}`)).toBe(bads);
      expect(await lake.scalar(`SELECT count(DISTINCT (partition, "offset")) FROM ${lake.table('_rejected')}`)).toBe(
        bads,
      );
      for (const stream of ['clickstream', 'iot'] as const) {
        const tiling = checkRangeTiling(lakeRoot, stream, config.topics[stream], ends[stream]);
        expect(tiling.badNames, `${stream}: file names`).toEqual([]);
        expect(tiling.problems, `${stream}: offset ranges`).toEqual([]);
      }
      // Each (minute, url) emitted once, with exactly the raw page views of its minute (no late events).
      expect(
        await lake.rows(
          `SELECT minute_start::VARCHAR AS m, url, count(*) AS n FROM ${lake.table('clickstream_agg')} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`,
        ),
      ).toEqual([]);
      expect(
        await lake.scalar(`SELECT count(DISTINCT minute_start) FROM ${lake.table('clickstream_agg')}`),
      ).toBeGreaterThanOrEqual(6);
      expect(await windowsNotMatchingRaw(lake)).toEqual([]);
      expect(await windowsMissingBeforeLastEmitted(lake)).toEqual([]);
    } finally {
      lake.close();
    }
  }
});
