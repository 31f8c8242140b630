/**
 * Three ETL members in one consumer group on one lake, each with its own checkpoint store and status port
 * (architecture.md, "Growing past one machine"): one is killed -9 while they read a backlog, one is frozen with
 * SIGSTOP past the session timeout and resumed (its commits are fenced; it restarts and rejoins), the killed one
 * comes back, more events arrive, and all stop. The raw tables must hold every event exactly once, their file
 * ranges must tile every partition, and no tmp file may be left: the per-partition Kafka transactions, the
 * takeover and the epoch fence, not a shared store, keep members from losing or repeating what another wrote.
 *
 * The members run the windows across members (etl.windows: members): once every partition is idle,
 * `clickstream_agg` must hold one row per (minute, url) for every minute the watermark passed, each with pv equal to
 * the raw table's count (the events come in event-time order, so none is late).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { etlEnv, EtlProcess, type LogLine } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { endOffsets, TestProducer } from '../helpers/kafkaTestData.js';
import { checkRangeTiling } from '../helpers/lakeChecks.js';
import { openLake, tmpFiles } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const CLICKS = Number(process.env.MEMBERS_TEST_CLICKS ?? 200_000);
const READINGS = Number(process.env.MEMBERS_TEST_READINGS ?? 50_000);
/** Longer than the consumers' session timeout (10 s): the group gives the frozen member's partitions away. */
const FROZEN_MS = 14_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const timeOf = (line: LogLine): number => Date.parse(String(line.time));

/** The lines of the member's current ETL generation (a failed one restarts the ETL, which takes everything over again). */
function currentGeneration(m: EtlProcess): LogLine[] {
  const ended = (l: LogLine): boolean =>
    l.msg === 'etl generation ended' || l.msg === 'etl start failed; what it had started is stopped';
  return m.logs.slice(lastIndex(m.logs, ended) + 1);
}

/**
 * The members' partitions of one topic (`owned`, one list per member, as their logs tell) split the topic's
 * partitions: each read by exactly one of them. A member whose ETL is restarting still shows what it had until its
 * generation ended, so an overlap or a partition nobody reads means the group is not settled.
 */
function splitsTopic(owned: readonly (readonly number[])[], partitions: number): boolean {
  const all = owned.flat().sort((x, y) => x - y);
  return all.length === partitions && all.every((p, i) => p === i);
}

function lastIndex(lines: readonly LogLine[], match: (line: LogLine) => boolean): number {
  for (let i = lines.length - 1; i >= 0; i--) if (match(lines[i]!)) return i;
  return -1;
}

/** The partitions of `topic` the member owns now and has started reading, as its log tells. */
function readingNow(m: EtlProcess, topic: string): number[] {
  const lines = currentGeneration(m);
  const assignedAt = lastIndex(lines, (l) => l.msg === 'partitions assigned' && l.topic === topic);
  if (assignedAt < 0) return [];
  const assigned = (lines[assignedAt]!.assigned as number[] | undefined) ?? [];
  const reading = new Set(
    lines.filter((l) => l.msg === 'partition reading' && l.topic === topic).map((l) => Number(l.partition)),
  );
  return assigned.filter((p) => reading.has(p));
}

function ownershipSummary(m: EtlProcess, topics: readonly string[]): string {
  return topics.map((t) => `${t}=${JSON.stringify(readingNow(m, t))}`).join(' ');
}

describe('three ETL members in one group on one lake', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-members-'));
  const lakeRoot = join(dir, 'lake');
  // The topics this test creates: its inputs and its group's internal topics, deleted at the end.
  const config: Config = loadTestConfig({ etl: { windows: 'members' } });
  afterAll(async () => {
    if (process.env.ETL_TEST_KEEP === '1') return; // kept to look into, the lake and the topics alike
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(config, platformTopicNames(config));
  }, 60_000);

  it('keep every raw event exactly once through kill -9, SIGSTOP and a rejoin', { timeout: 8 * 60_000 }, async () => {
    // The inputs and the group's internal topics of the window stages.
    await createTopics(config, logger);
    const partitions = config.kafka.partitions;
    const runId = randomName('members');
    const random = mulberry32(7);
    const baseMs = Date.now() - 30 * 60_000;
    const clicks = Array.from({ length: CLICKS }, (_, index) =>
      clickEvent({ runId, index, userCount: 4_000, partitions, tsMs: baseMs + index * 5, random }),
    );
    const readings = Array.from({ length: READINGS }, (_, index) =>
      iotEvent({ index, devices: 512, partitions, tsMs: baseMs + index * 20, random }),
    );
    const producer = new TestProducer(config, logger);
    await producer.connect();
    const half = (n: number): number => Math.floor(n / 2);
    // The first halves are a backlog when the members start; the second halves arrive after the kill.
    await producer.send(
      config.topics.clickstream,
      clicks.slice(0, half(CLICKS)).map((c) => c.record),
    );
    await producer.send(
      config.topics.iot,
      readings.slice(0, half(READINGS)).map((r) => r.record),
    );

    const member = (name: string): EtlProcess =>
      EtlProcess.start(
        etlEnv(config, {
          lakeRoot,
          checkpointRoot: join(dir, `checkpoints-${name}`),
          extra: {
            SDP_ETL__MAX_FILE_ROWS: '4000',
            SDP_ETL__MAX_FILE_AGE: '3s',
            SDP_ETL__CHECKPOINT_INTERVAL: '2s',
            SDP_ETL__WINDOWS: 'members',
            SDP_ETL__IDLE_TIMEOUT: '5s',
          },
        }),
        { logFile: join(dir, `${name}.log`) },
      );
    const rolled = (etl: EtlProcess): number => etl.logs.filter((l) => l.msg === 'roll committed').length;

    const a = member('a');
    const b = member('b');
    const c = member('c');
    const members = [a, b, c];
    try {
      // Every member owning and reading partitions of both topics, between them each partition once, unchanged for a
      // while, and the work under way. A
      // member that read once is not enough: at the start the group rebalances several times (a member's takeover
      // fenced by another's restarts its ETL), and a member killed while it owns nothing has no partitions to move.
      const topics = [config.topics.clickstream, config.topics.iot];
      let settled = '';
      let settledSinceMs = 0;
      await waitFor(
        () => {
          // Per topic, per member: read once per poll, the three conditions below derived from it.
          const owned = topics.map((t) => members.map((m) => readingNow(m, t)));
          const now = JSON.stringify(owned);
          if (now !== settled) [settled, settledSinceMs] = [now, Date.now()];
          const everyOwns = owned.every((byMember) => byMember.every((ps) => ps.length > 0));
          const split = owned.every((byMember) => splitsTopic(byMember, partitions));
          return everyOwns && split && Date.now() - settledSinceMs >= 2_000 && members.some((m) => rolled(m) > 0);
        },
        180_000,
        'every member to own partitions of both topics (unchanged for 2 s) and one to commit a roll',
        50,
        () => members.map((m, i) => `${'abc'[i]}: ${ownershipSummary(m, topics)}\n${m.tail(15)}`).join('\n'),
      );

      // kill -9 one member in the middle of its work.
      const killedAtMs = Date.now();
      const bOwned = new Map(topics.map((t) => [t, readingNow(b, t)]));
      await b.kill9();
      await producer.send(
        config.topics.clickstream,
        clicks.slice(half(CLICKS)).map((x) => x.record),
      );
      await producer.send(
        config.topics.iot,
        readings.slice(half(READINGS)).map((x) => x.record),
      );
      // Failover: the first of the killed member's partitions read by a surviving member after the kill.
      const movedReads = (): LogLine[] =>
        [a, c].flatMap((m) =>
          m.logs.filter(
            (l) =>
              l.msg === 'partition reading' &&
              timeOf(l) > killedAtMs &&
              (bOwned.get(String(l.topic)) ?? []).includes(Number(l.partition)),
          ),
        );
      await waitFor(
        () => movedReads().length > 0,
        60_000,
        `the killed member's partitions (${JSON.stringify(Object.fromEntries(bOwned))}) to move`,
        50,
        () => [a, c].map((m, i) => `${'ac'[i]}: ${ownershipSummary(m, topics)}\n${m.tail(40)}`).join('\n'),
      );
      const failover = Math.min(...movedReads().map(timeOf));
      console.info(
        `members test: kill -9 → a partition reading again on another member in ${failover - killedAtMs} ms`,
      );

      // Freeze another one past the session timeout, then let it go on: whatever it still commits is fenced.
      process.kill(c.pid, 'SIGSTOP');
      await sleep(FROZEN_MS);
      process.kill(c.pid, 'SIGCONT');

      // The killed member comes back on its own checkpoint store.
      const b2 = member('b2');
      members.push(b2);
      await b2.waitForAssignments([config.topics.clickstream, config.topics.iot]);

      const ends = {
        clickstream: await endOffsets(config, logger, config.topics.clickstream),
        iot: await endOffsets(config, logger, config.topics.iot),
      };
      const tiled = (): boolean =>
        (['clickstream', 'iot'] as const).every(
          (t) => checkRangeTiling(lakeRoot, t, config.topics[t], ends[t]).problems.length === 0,
        );
      await waitFor(
        () => {
          for (const m of [a, b2]) if (!m.running) throw new Error(`a member exited:\n${m.tail(30)}`);
          return tiled();
        },
        240_000,
        'the lake to cover every offset',
        250,
      );
      // The windows: every minute whose end the watermark passed (max event time − delay, once all are idle).
      const lastClosedEndMs =
        clicks.reduce((max, x) => Math.max(max, x.expected.ts_ms), -Infinity) - config.etl.watermark_delay;
      const closedMinutes = new Set(
        clicks.map((x) => Math.floor(x.expected.ts_ms / 60_000) * 60_000).filter((m) => m + 60_000 <= lastClosedEndMs),
      ).size;
      await waitFor(
        async () => {
          const lake = await openLake(lakeRoot);
          try {
            const emitted = await lake.scalar(
              `SELECT count(DISTINCT minute_start) FROM ${lake.table('clickstream_agg')}`,
            );
            return emitted >= closedMinutes;
          } catch {
            return false; // no file yet
          } finally {
            lake.close();
          }
        },
        120_000,
        `${closedMinutes} minutes of windows`,
        1_000,
      );
      for (const m of [a, c, b2]) {
        const exit = await m.terminate();
        expect(exit, m.tail(30)).toEqual({ code: 0, signal: null });
      }

      expect(tmpFiles(lakeRoot)).toEqual([]);
      for (const t of ['clickstream', 'iot'] as const) {
        const tiling = checkRangeTiling(lakeRoot, t, config.topics[t], ends[t]);
        expect(tiling.badNames, `${t}: names`).toEqual([]);
        expect(tiling.problems, `${t}: offset ranges`).toEqual([]);
      }
      const lake = await openLake(lakeRoot);
      try {
        expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
        expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
        expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(READINGS);
        expect(
          await lake.scalar(`SELECT count(DISTINCT (device_id, epoch_ms(ts), temp_c)) FROM ${lake.table('iot')}`),
        ).toBe(READINGS);
        const agg = lake.table('clickstream_agg');
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
        const emitted = await lake.rows(`SELECT count(DISTINCT minute_start) AS minutes, count(*) AS windows,
          sum(pv) AS pv FROM ${agg}`);
        console.info(`members test: windows emitted ${JSON.stringify(emitted[0])}, minutes closed ${closedMinutes}`);
        expect(Number(emitted[0]!.minutes)).toBeGreaterThanOrEqual(closedMinutes);
      } finally {
        lake.close();
      }
      // Every member took partitions over, and the frozen one found itself fenced rather than writing twice.
      for (const m of [a, c, b2]) expect(m.logs.some((l) => l.msg === 'partition taken over')).toBe(true);
      const fenced = c.logs.filter(
        (l) => l.msg === 'kafka commit of a roll failed' || l.msg === 'partition taken over',
      );
      console.info(`members test: frozen member's takeovers and refused commits: ${fenced.length}`);
    } finally {
      await Promise.all(members.map((m) => (m.running ? m.kill9() : undefined)));
      await producer.disconnect();
    }
  });
});
