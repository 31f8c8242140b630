/**
 * A lake switched from `etl.windows: process` to `members` (architecture.md, "Windows across members"): the
 * process-mode aggregator ends with windows open in its checkpoint store, and stage 1 of the same group would resume
 * past their page views. That start is refused (exit 1, one `error SDP_ERR_ETL_WINDOWS_SWITCH_REFUSED` line naming
 * the open windows and the way out); the way it names, a new consumer group, switches without losing anything: once
 * later events close them, the windows open at the switch are emitted with every page view, each window once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { windowTopicNames } from '../../../src/kafka/admin/windowTopics.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { clickEvent } from '../helpers/etlTestEvents.js';
import { TestProducer, withAdmin } from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

/** Clicks per batch, 60 ms apart in event time: each batch spans three minutes. */
const CLICKS = 3_000;
const SPACING_MS = 60;
const MINUTE_MS = 60_000;

/** The ETL's log line when `etl.windows: auto` decided (etl/windowsModeCheck.ts). */
const autoChose = (mode: 'process' | 'members'): string => `etl.windows: auto chose ${mode}`;

describe('switching a lake from etl.windows: process to members', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-windows-switch-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const config: Config = loadTestConfig({ etl: { windows: 'process' } });
  const newGroup = randomName('sdp-etl-switched');
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(config, [...platformTopicNames(config), ...Object.values(windowTopicNames(newGroup))]);
  }, 60_000);

  it('is refused in the same group, and loses nothing in a new one', { timeout: 6 * 60_000 }, async () => {
    await createTopics(config, logger);
    const random = mulberry32(3);
    const runId = randomName('switch');
    const baseMs = Math.floor((Date.now() - 30 * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
    const clicks = Array.from({ length: 2 * CLICKS }, (_, index) =>
      clickEvent({
        runId,
        index,
        userCount: 300,
        partitions: config.kafka.partitions,
        tsMs: baseMs + index * SPACING_MS,
        random,
      }),
    );
    const producer = new TestProducer(config, logger);
    await producer.connect();
    const env = (windows: 'process' | 'members' | 'auto', group = config.etl.consumer_group, store = checkpointRoot) =>
      etlEnv(
        { ...config, etl: { ...config.etl, consumer_group: group } },
        {
          lakeRoot,
          checkpointRoot: store,
          extra: {
            SDP_ETL__WINDOWS: windows,
            SDP_ETL__MAX_FILE_AGE: '3s',
            SDP_ETL__CHECKPOINT_INTERVAL: '1s',
            SDP_ETL__IDLE_TIMEOUT: '2s',
            SDP_ETL__WATERMARK_DELAY: '1s',
            SDP_UI__KAFKA_UI: 'off',
          },
        },
      );
    try {
      // The first three minutes, in one process: the last of them is still open when it stops.
      await producer.send(
        config.topics.clickstream,
        clicks.slice(0, CLICKS).map((c) => c.record),
      );
      await runEtlToEnd({
        config,
        logger,
        env: env('process'),
        checkpointRoot,
        logFile: join(dir, 'process.log'),
        settleMs: 5_000,
      });
      const lastOpenMinute = Math.floor(clicks[CLICKS - 1]!.expected.ts_ms / MINUTE_MS) * MINUTE_MS;

      // `auto`, the default, in the same group keeps the one-process aggregator: the group's window floors are its.
      const kept = EtlProcess.start(env('auto'), { logFile: join(dir, 'auto-same-group.log') });
      try {
        const chose = await kept.waitForLog((l) => l.msg === autoChose('process'), 60_000, 'the auto decision');
        expect(chose).toMatchObject({ configured: 'auto', group: config.etl.consumer_group });
        await kept.waitForLog((l) => l.msg === 'etl started', 120_000, 'the start');
        expect(kept.logsMatching((l) => l.msg === 'window stage started')).toEqual([]);
      } finally {
        expect(await kept.terminate()).toEqual({ code: 0, signal: null });
      }
      // The readers decide as the ETL does: `data windows` (what the notebook runs) reads the store's windows.
      const state = await runCli(['data', 'windows', '--json'], env('auto'), 60_000);
      expect(state.code, state.stderr).toBe(0);
      expect(JSON.parse(state.stdout)).toMatchObject({ mode: 'process', source: 'checkpoint_store', found: true });

      // The same group with the windows across members: refused, nothing started.
      // Bounded: a start that is not refused runs on (the SIGTERM of the timeout then ends it).
      const refused = await runCli(['etl'], env('members'), 60_000);
      expect(refused.code, refused.stderr).toBe(1);
      const errorLines = refused.stderr.split('\n').filter((l) => l.startsWith('error'));
      expect(errorLines, refused.stderr).toHaveLength(1);
      expect(errorLines[0]).toMatch(
        /^error SDP_ERR_ETL_WINDOWS_SWITCH_REFUSED: etl\.windows: members would lose the \d+ page views of the \d+ windows? open/,
      );
      expect(refused.stderr).toContain('new etl.consumer_group');
      console.info(`windows switch: ${errorLines[0]} (in ${refused.elapsedMs} ms)`);

      // A members process with a store of its own (`make scale` beside the platform, another machine): its store holds
      // nothing, but the group's floors are the aggregator's, so it is refused too.
      const elsewhere = await runCli(
        ['etl'],
        env('members', config.etl.consumer_group, join(dir, 'other-store')),
        60_000,
      );
      expect(elsewhere.code, elsewhere.stderr).toBe(1);
      expect(elsewhere.stderr).toMatch(
        /^error SDP_ERR_ETL_WINDOWS_SWITCH_REFUSED: etl\.windows: members in group \S+, whose committed window floors are a one-process window aggregator's/m,
      );

      // A new group, with three minutes more: the windows open at the switch close, with every page view. (`auto`
      // would keep `process` there too: the store holds open windows and the new group no floor.)
      await producer.send(
        config.topics.clickstream,
        clicks.slice(CLICKS).map((c) => c.record),
      );
      const etl = EtlProcess.start(env('members', newGroup), { logFile: join(dir, 'members.log') });
      try {
        const emitted = async (): Promise<boolean> => {
          const lake = await openLake(lakeRoot);
          try {
            const after = await lake.scalar(
              `SELECT count(*) FROM ${lake.table('clickstream_agg')} WHERE epoch_ms(minute_start) > ${lastOpenMinute}`,
            );
            return after > 0;
          } finally {
            lake.close();
          }
        };
        await waitFor(
          () => {
            if (!etl.running) throw new Error(`etl exited:\n${etl.tail(30)}`);
            return emitted();
          },
          180_000,
          'the windows after the switch',
          1_000,
        );
      } finally {
        expect(await etl.terminate()).toEqual({ code: 0, signal: null });
      }

      const lake = await openLake(lakeRoot);
      try {
        const agg = lake.table('clickstream_agg');
        expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(2 * CLICKS);
        expect(
          await lake.rows(
            `SELECT minute_start::VARCHAR AS m, url FROM ${agg} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`,
          ),
          'windows emitted twice',
        ).toEqual([]);
        const mismatches = await lake.rows(`
          WITH r AS (SELECT date_trunc('minute', ts) AS minute_start, url, count(*) AS n
                     FROM ${lake.table('clickstream')} GROUP BY ALL)
          SELECT a.minute_start::VARCHAR AS m, a.url, a.pv, r.n FROM ${agg} a LEFT JOIN r USING (minute_start, url)
          WHERE r.n IS NULL OR r.n <> a.pv LIMIT 5`);
        expect(mismatches, 'pv against the raw count').toEqual([]);
        // The window open at the switch is there, whole.
        const atSwitch = await lake.rows(
          `SELECT sum(pv) AS pv FROM ${agg} WHERE epoch_ms(minute_start) = ${lastOpenMinute}`,
        );
        const expected = clicks.filter(
          (c) => Math.floor(c.expected.ts_ms / MINUTE_MS) * MINUTE_MS === lastOpenMinute,
        ).length;
        expect(Number(atSwitch[0]!.pv)).toBe(expected);
      } finally {
        lake.close();
      }

      // The old group's offsets gone (expired after a long stop, or deleted): `auto` over this store still keeps the
      // aggregator, whose open windows the store holds.
      await withAdmin(config, logger, (a) => a.deleteGroups([config.etl.consumer_group]));
      const expired = EtlProcess.start(env('auto'), { logFile: join(dir, 'auto-expired.log') });
      try {
        const chose = await expired.waitForLog((l) => l.msg === autoChose('process'), 60_000, 'the auto decision');
        expect(String(chose.reason)).toMatch(/no window floor/);
        await expired.waitForLog((l) => l.msg === 'etl started', 120_000, 'the start');
      } finally {
        expect(await expired.terminate()).toEqual({ code: 0, signal: null });
      }
    } finally {
      await producer.disconnect();
    }
  });
});
