/**
 * Partitions added while the ETL runs (as `kafka-topics --alter --partitions`
 * does; here kafkajs admin createPartitions) are consumed and counted in the watermark within
 * seconds, before their events can be judged late.
 *
 * The topic starts with 2 partitions; the ETL reads one minute of events from them. Then the topic
 * grows to 4; the new partitions get events of the next minute, while the old ones jump ten
 * minutes ahead. Were the new partitions not counted, the watermark would pass their minute and
 * every one of their events would be late (or never read: kafkajs's metadata is 5 minutes old by
 * default). All of them must be in the raw table and in their window, and none late.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import {
  createTestTopics,
  deleteTestTopics,
  TestProducer,
  withAdmin,
  type TestRecord,
} from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';
import { windowsProgress } from '../helpers/windowsCaughtUp.js';

const MINUTE_MS = 60_000;

describe('partitions added while the etl runs', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-added-partitions-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('grow');
  let config: Config;
  let etl: EtlProcess;

  beforeAll(async () => {
    config = loadTestConfig({ kafka: { partitions: 2 } });
    await createTestTopics(config, logger);
  });

  afterAll(async () => {
    if (etl?.running) await etl.kill9();
    await deleteTestTopics(config, logger).catch(() => undefined);
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  const click = (index: number, partition: number, tsMs: number): TestRecord => ({
    partition,
    key: `u-${index % 50}`,
    value: JSON.stringify({
      event_id: `${runId}-${index}`,
      user_id: `u-${index % 50}`,
      url: 'https://shop.example.com/grown',
      ua: 'added-partitions-test',
      ts: tsMs,
    }),
    timestampMs: Date.now(),
  });

  it('consumes the new partitions within seconds and counts their events in their window, none late', async () => {
    const topic = config.topics.clickstream;
    const baseMs = Math.floor((Date.now() - 60 * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
    etl = EtlProcess.start(
      etlEnv(config, {
        lakeRoot,
        checkpointRoot,
        extra: {
          SDP_ETL__WATERMARK_DELAY: '5s',
          SDP_ETL__IDLE_TIMEOUT: '10s',
          SDP_ETL__CHECKPOINT_INTERVAL: '2s',
          SDP_ETL__MAX_FILE_AGE: '2s',
        },
      }),
      { logFile: join(dir, 'etl.log') },
    );
    await etl.waitForAssignments([topic, config.topics.iot]);

    // Minute 0 on the two original partitions.
    const first = Array.from({ length: 400 }, (_, i) => click(i, i % 2, baseMs + Math.floor((i * MINUTE_MS) / 400)));
    let producer = new TestProducer(config, logger);
    await producer.connect();
    await producer.send(topic, first);
    await producer.disconnect();
    await waitFor(
      () => (readJournal(checkpointRoot)?.rawRows.get(topic)?.rows ?? 0) >= first.length,
      60_000,
      'minute 0 in the lake',
      250,
    );

    await withAdmin(config, logger, (admin) => admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }));
    const grownAtMs = Date.now();
    // The ETL notices (its own log line); an ETL that does not is given the same chance.
    await waitFor(
      () => etl.logs.some((l) => l.msg === 'partitions added to the topic' && l.topic === topic),
      15_000,
      'the etl to notice the new partitions',
      100,
    ).catch(() => undefined);
    const noticedAfterMs = Date.now() - grownAtMs;

    // Minute 1 on the new partitions; minute 10 on the old ones.
    const onNew = Array.from({ length: 200 }, (_, i) =>
      click(1_000 + i, 2 + (i % 2), baseMs + MINUTE_MS + 5_000 + Math.floor((i * 50_000) / 200)),
    );
    const ahead = Array.from({ length: 200 }, (_, i) =>
      click(2_000 + i, i % 2, baseMs + 10 * MINUTE_MS + Math.floor((i * 30_000) / 200)),
    );
    producer = new TestProducer(config, logger);
    await producer.connect();
    await producer.send(topic, onNew);
    await producer.send(topic, ahead);
    await producer.disconnect();

    const total = first.length + onNew.length + ahead.length;
    // The windows' state from wherever `etl.windows` keeps it (the checkpoint store, or `<group>-pv-state`).
    const windows = () => windowsProgress({ config, logger, checkpointRoot });
    await waitFor(
      async () => {
        if (!etl.running) throw new Error(`etl exited:\n${etl.tail(30)}`);
        if ((readJournal(checkpointRoot)?.rawRows.get(topic)?.rows ?? 0) < total) return false;
        return ((await windows())?.emittedFrontierMs ?? 0) >= baseMs + 2 * MINUTE_MS;
      },
      90_000,
      'every event in the lake and the window of minute 1 emitted',
      250,
    );
    expect((await windows())!.lateEventsTotal).toBe(0);
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });

    const lake = await openLake(lakeRoot);
    try {
      expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(total);
      const pv = async (minuteStartMs: number): Promise<number> =>
        lake.scalar(
          `SELECT coalesce(sum(pv), 0) FROM ${lake.table('clickstream_agg')} WHERE epoch_ms(minute_start) = ${minuteStartMs}`,
        );
      expect(await pv(baseMs)).toBe(first.length);
      expect(await pv(baseMs + MINUTE_MS)).toBe(onNew.length);
    } finally {
      lake.close();
    }
    expect(noticedAfterMs).toBeLessThan(15_000);
  });
});
