/**
 * Offsets never silently jump. (a) A topic deleted and recreated under a
 * checkpoint: the ETL exits non-zero naming topic, partition, checkpointed offset, log start and
 * end, instead of skipping the new topic's events. (b) Records deleted before they were read (log
 * start beyond the checkpoint): by default the same stop; with etl.on_offset_out_of_range=earliest
 * the ETL goes on from the log start, logs how many offsets it skipped and counts them in
 * sdp_offsets_skipped_total.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { fetchTopicId } from '../../../src/kafka/wire/topicId.js';
import { isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess, type EtlExit } from '../helpers/etlProcess.js';
import { createTestTopics, endOffsets, TestProducer, withAdmin, type TestRecord } from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { windowsCaughtUp, windowsPollMs } from '../helpers/windowsCaughtUp.js';
import { sampleValue, scrapeMetrics } from '../helpers/prometheusText.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const PARTITIONS = 2;

describe('checkpointed offsets outside the log', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-offset-range-'));
  const started: EtlProcess[] = [];

  afterAll(async () => {
    for (const etl of started) if (etl.running) await etl.kill9();
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  const clicks = (runId: string, from: number, count: number): TestRecord[] =>
    Array.from({ length: count }, (_, k) => {
      const i = from + k;
      return {
        partition: i % PARTITIONS,
        key: `u-${i % 40}`,
        value: JSON.stringify({
          event_id: `${runId}-${i}`,
          user_id: `u-${i % 40}`,
          url: 'https://shop.example.com/',
          ua: 'offset-range-test',
          ts: Date.now() - 3_600_000 + i,
        }),
      };
    });

  async function produce(config: Config, records: TestRecord[]): Promise<void> {
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      await producer.send(config.topics.clickstream, records);
    } finally {
      await producer.disconnect();
    }
  }

  function start(env: Record<string, string>, name: string): EtlProcess {
    const etl = EtlProcess.start(env, { logFile: join(dir, `etl-${name}.log`) });
    started.push(etl);
    return etl;
  }

  async function runUntilCaughtUp(
    config: Config,
    env: Record<string, string>,
    checkpointRoot: string,
    name: string,
  ): Promise<void> {
    const ends = await endOffsets(config, logger, config.topics.clickstream);
    const etl = start(env, name);
    await waitFor(
      async () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        return (
          isCaughtUp(readJournal(checkpointRoot), config.topics.clickstream, ends) &&
          (await windowsCaughtUp({ config, logger, checkpointRoot, clickstreamEnds: ends }))
        );
      },
      120_000,
      'the checkpoint to reach the end offsets and every window to be emitted',
      windowsPollMs(config),
    );
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
  }

  async function exitOf(etl: EtlProcess, timeoutMs: number): Promise<EtlExit | 'still running'> {
    return Promise.race([
      etl.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), timeoutMs)),
    ]);
  }

  describe('a topic deleted and recreated under a checkpoint', () => {
    let config: Config;
    const checkpointRoot = join(dir, 'recreated-checkpoints');
    let env: Record<string, string>;

    beforeAll(async () => {
      config = loadTestConfig({ kafka: { partitions: PARTITIONS } });
      await createTestTopics(config, logger);
      env = etlEnv(config, {
        lakeRoot: join(dir, 'recreated-lake'),
        checkpointRoot,
        extra: { SDP_ETL__CHECKPOINT_INTERVAL: '2s', SDP_ETL__MAX_FILE_AGE: '2s' },
      });
    });

    it('stops with exit 1 naming topic, partition, checkpointed offset, log start and end', async () => {
      await produce(config, clicks('old', 0, 1_072)); // offsets 0..535 on each partition
      await runUntilCaughtUp(config, env, checkpointRoot, 'recreated-first');

      const oldTopicId = await fetchTopicId(config, config.topics.clickstream);
      expect(oldTopicId).not.toBeNull();
      await withAdmin(config, logger, async (admin) => {
        await admin.deleteTopics({ topics: [config.topics.clickstream], timeout: 30_000 });
      });
      await waitFor(
        async () => {
          try {
            await createTestTopics(config, logger);
          } catch {
            return false; // the deletion is still going on
          }
          // While the deletion spreads, a broker still lists the old topic and creating it is a
          // no-op that succeeds: done only once the topic exists under a new id.
          const id = await fetchTopicId(config, config.topics.clickstream);
          return id !== null && id !== oldTopicId;
        },
        60_000,
        'the topic to be created again',
        1_000,
      );
      // offsets 0..499 on each partition; a partition at a time, again while the brokers still
      // answer for the deleted topic (one partition per request: a failed send wrote nothing).
      const fresh = clicks('new', 0, 1_000);
      for (let p = 0; p < PARTITIONS; p++) {
        let lastError: unknown;
        await waitFor(
          async () => {
            try {
              await produce(
                config,
                fresh.filter((r) => r.partition === p),
              );
              return true;
            } catch (err) {
              lastError = err;
              return false;
            }
          },
          120_000,
          `events on the new topic's partition ${p}`,
          1_000,
        ).catch((err: unknown) => {
          throw new Error(`${String(err)}; the last send failed with: ${String(lastError)}`);
        });
      }

      const etl = start(env, 'recreated-second');
      const exit = await exitOf(etl, 90_000);
      expect(exit, etl.tail(20)).toEqual({ code: 1, signal: null });
      const output = etl.lines.join('\n');
      expect(output).toContain('SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE');
      expect(output).toContain(`topic ${config.topics.clickstream} was deleted and recreated`);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(output).toContain(
          `${config.topics.clickstream}[${p}]: checkpointed offset 536 is beyond the log end (topic deleted and recreated, or truncated); log start 0, log end 500`,
        );
      }
      // Nothing of the new topic was written under the old topic's checkpoints.
      const lake = await openLake(join(dir, 'recreated-lake'));
      try {
        expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')} WHERE event_id LIKE 'new-%'`)).toBe(
          0,
        );
      } finally {
        lake.close();
      }
    });
  });

  describe('records deleted before they were read', () => {
    let config: Config;
    const checkpointRoot = join(dir, 'deleted-checkpoints');
    const lakeRoot = join(dir, 'deleted-lake');
    let env: Record<string, string>;

    beforeAll(async () => {
      config = loadTestConfig({ kafka: { partitions: PARTITIONS } });
      await createTestTopics(config, logger);
      env = etlEnv(config, {
        lakeRoot,
        checkpointRoot,
        extra: { SDP_ETL__CHECKPOINT_INTERVAL: '2s', SDP_ETL__MAX_FILE_AGE: '2s' },
      });
      await produce(config, clicks('first', 0, 200)); // offsets 0..99 per partition
      await runUntilCaughtUp(config, env, checkpointRoot, 'deleted-first');
      await produce(config, clicks('second', 200, 200)); // offsets 100..199, never read
      // Retention, in effect: everything below offset 130 is deleted.
      await withAdmin(config, logger, async (admin) => {
        await admin.fetchTopicOffsets(config.topics.clickstream); // kafkajs deletes records only of topics whose metadata it holds
        await admin.deleteTopicRecords({
          topic: config.topics.clickstream,
          partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: '130' })),
        });
      });
    });

    it('stops by default, naming the checkpointed offset and the log start and end', async () => {
      const etl = start(env, 'deleted-fail');
      const exit = await exitOf(etl, 90_000);
      expect(exit, etl.tail(20)).toEqual({ code: 1, signal: null });
      const output = etl.lines.join('\n');
      expect(output).toContain('SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE');
      for (let p = 0; p < PARTITIONS; p++) {
        expect(output).toContain(
          `${config.topics.clickstream}[${p}]: checkpointed offset 100 is before the log start (records deleted before they were read); log start 130, log end 200`,
        );
      }
    });

    it('with on_offset_out_of_range=earliest goes on from the log start and counts the 30 offsets skipped per partition', async () => {
      const etl = start({ ...env, SDP_ETL__ON_OFFSET_OUT_OF_RANGE: 'earliest' }, 'deleted-earliest');
      const ends = await endOffsets(config, logger, config.topics.clickstream);
      await waitFor(
        async () => {
          if (!etl.running) throw new Error(`etl exited:\n${etl.tail(30)}`);
          return (
            isCaughtUp(readJournal(checkpointRoot), config.topics.clickstream, ends) &&
            (await windowsCaughtUp({ config, logger, checkpointRoot, clickstreamEnds: ends }))
          );
        },
        120_000,
        'the checkpoint to reach the end offsets and every window to be emitted',
        windowsPollMs(config),
      );
      const skips = etl.logs.filter(
        (l) => typeof l.msg === 'string' && l.msg.startsWith('checkpointed offset out of range'),
      );
      expect(skips.map((l) => [l.partition, l.offsets_skipped, l.resume_offset]).sort()).toEqual(
        Array.from({ length: PARTITIONS }, (_, p) => [p, 30, '130']),
      );
      const port = await etl.statusPort();
      const metrics = await scrapeMetrics(port);
      for (let p = 0; p < PARTITIONS; p++) {
        expect(
          sampleValue(metrics, 'sdp_offsets_skipped_total', { topic: config.topics.clickstream, partition: String(p) }),
        ).toBe(30);
      }
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
      const lake = await openLake(lakeRoot);
      try {
        // 100 first + 70 second per partition: exactly the 30 deleted ones are missing.
        expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(
          PARTITIONS * 170,
        );
      } finally {
        lake.close();
      }
    });
  });
});
