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
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
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
import { deleteTopics } from '../helpers/producerFixtures.js';
import { windowTopicNames } from '../../../src/kafka/admin/windowTopics.js';
import { readWindowTasks, windowTasksStillMoving } from '../helpers/windowTasksInKafka.js';
import { windowsCaughtUp } from '../helpers/windowsCaughtUp.js';

const CLICKS = 12_000;
const READINGS = 6_000;
/** One bad (not JSON) clickstream record every this many: every roll of 1,500 records holds some. */
const BAD_EVERY = 100;
/** Event time spans 8 minutes across a UTC midnight, in order up to 2 s of jitter. */
const SPAN_MS = 8 * 60_000;
/** The points of the one-process windows (the window aggregator, the checkpoint store's journal). */
// Compaction's points (the owners' and the aggregator's `agg-…`) need small files to merge:
// test/integration/lake/compaction.test.ts and compactionInEtl.test.ts. Retention's only with old dts and
// lake.retention_days set: test/integration/lake/retentionInEtl.test.ts.
const PROCESS_POINTS = FAULT_POINTS.filter(
  (p) => !p.startsWith('window-task-') && !p.includes('compaction-') && !p.startsWith('retention-'),
);
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
  /** The groups of the members runs: each made its two window topics. */
  const membersGroups: string[] = [];
  /** A failed run keeps its lake, store and log (`etl.log`) for the post-mortem. */
  let keepDir = process.env.ETL_TEST_KEEP === '1';
  afterAll(async () => {
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    if (config === undefined) return;
    const windowTopics = membersGroups.flatMap((g) => Object.values(windowTopicNames(g)));
    await deleteTopics(config, [config.topics.clickstream, config.topics.iot, ...windowTopics]);
  }, 60_000);

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
    onTestFailed(() => {
      keepDir = true;
      console.error(`crash point ${point}: lake, checkpoint store and etl.log kept in ${runDir}`);
    });
    const members = windows === 'members';
    const lakeRoot = join(runDir, 'lake');
    const group = randomName(`sdp-faults-${point}`);
    if (members) membersGroups.push(group);
    const checkpointRoot = join(runDir, 'checkpoints');
    const runConfig: Config = { ...config, etl: { ...config.etl, windows, consumer_group: group } };
    const env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        // Each point gets its own group: it reads the shared backlog from the start.
        SDP_ETL__CONSUMER_GROUP: group,
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
      async () => {
        if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
        const journal = readJournal(checkpointRoot);
        return (
          isCaughtUp(journal, config.topics.clickstream, ends.clickstream) &&
          isCaughtUp(journal, config.topics.iot, ends.iot) &&
          // Members: the tasks' progress is waited for below, with their takeovers.
          (members ||
            (await windowsCaughtUp({ config: runConfig, logger, checkpointRoot, clickstreamEnds: ends.clickstream })))
        );
      },
      120_000,
      'the checkpoint store to reach the end offsets',
      100,
    );
    if (members) {
      // The window stage's progress is in Kafka. Waiting for some minutes in the lake is not enough: tasks close their
      // windows each at its own pace, and a stop while one of them has not applied the last marks yet leaves its windows
      // open in its snapshot (emitted by the next run), below minutes the others emitted. So: every task of this run
      // taken over (its predecessor's committed renames finished), and every task's committed snapshot through every
      // clickstream partition's last mark.
      let moving: string[] = [];
      try {
        await waitFor(
          async () => {
            if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
            const tasks = await readWindowTasks(config, logger, group);
            moving = windowTasksStillMoving(tasks, ends.clickstream);
            const takenOver = new Set(
              etl.logs.filter((l) => l.msg === 'window task taken over').map((l) => l.partition),
            );
            const waiting = tasks.filter((t) => !takenOver.has(t.partition)).map((t) => t.partition);
            if (waiting.length > 0)
              moving.push(`tasks ${waiting.join(', ')} not taken over by the restarted member yet`);
            return moving.length === 0;
          },
          90_000,
          'every window task through the last marks of the input',
          500,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}: ${moving.slice(0, 8).join('; ')}`, { cause: err });
      }
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
