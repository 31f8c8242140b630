/**
 * An in-process restart of the ETL (architecture.md, "Supervision") closes every Kafka client of the generation it
 * ends. The ETL runs in this process with the windows across members, its actors under a parent that stops a
 * failed child as the supervisor does; a roll's commit makes the checkpointer fail right after Kafka committed it
 * (the crash point `after-commit-before-rename`, thrown here instead of killing the process). A checkpointer stopped
 * that way never answers `closeTasks`: the per-partition transactional producers it held used to stay connected, one
 * more set per restart. Every producer and consumer a generation created (counted through the injectable factories)
 * must be closed once its teardown returns, within a bound, and the next generation must start and stop cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import type { Config } from '../../../src/config/schema.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { createPartitionTransactions, type PartitionTransactions } from '../../../src/kafka/partitionTransactions.js';
import { createTopicConsumer } from '../../../src/kafka/topicConsumer.js';
import { startEtl, type EtlRuntime } from '../../../src/platform/etlRuntime.js';
import { setCrashForTest, setFaultForTest } from '../../../src/system/faults.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { spawn, startSystem, stop, type AnyRef } from '../../../src/system/nact.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { TestProducer } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const CLICKS = 3_000;
const READINGS = 3_000;
/** What an aborted generation's teardown may take, a broker or not: the restart waits for it. */
const ABORT_BOUND_MS = 45_000;

interface Opened {
  generation: number;
  transactionalId: string;
  closed: boolean;
}

describe('an in-process restart of the ETL', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-restart-clients-'));
  let config: Config | undefined;
  afterAll(async () => {
    setFaultForTest(undefined);
    rmSync(dir, { recursive: true, force: true });
    if (config) await deleteTopics(config, platformTopicNames(config));
  }, 60_000);

  it('closes every transactional producer and consumer of the generation it ends', {
    timeout: 5 * 60_000,
  }, async () => {
    const cfg: Config = loadTestConfig({
      etl: { windows: 'members', max_file_rows: 300, max_file_age: '2s', checkpoint_interval: '1s' },
      storage: { datalake_root: join(dir, 'lake'), checkpoint_root: join(dir, 'checkpoints') },
    });
    config = cfg;
    await createTopics(cfg, logger);
    const random = mulberry32(11);
    const runId = randomName('restart');
    const baseMs = Date.now() - 10 * 60_000;
    const partitions = cfg.kafka.partitions;
    const producer = new TestProducer(cfg, logger);
    await producer.connect();
    try {
      await producer.send(
        cfg.topics.clickstream,
        Array.from(
          { length: CLICKS },
          (_, index) =>
            clickEvent({ runId, index, userCount: 500, partitions, tsMs: baseMs + index * 10, random }).record,
        ),
      );
      await producer.send(
        cfg.topics.iot,
        Array.from(
          { length: READINGS },
          (_, index) => iotEvent({ index, devices: 64, partitions, tsMs: baseMs + index * 10, random }).record,
        ),
      );
    } finally {
      await producer.disconnect();
    }

    // Every transactional producer of either generation, and whether its close() ended.
    const opened: Opened[] = [];
    let generation = 1;
    const createTransactions = (transactionalId: string): PartitionTransactions => {
      const real = createPartitionTransactions(cfg, logger, {
        transactionalId,
        groupId: cfg.etl.consumer_group,
      });
      const entry: Opened = { generation, transactionalId, closed: false };
      opened.push(entry);
      return {
        transactionalId,
        takeOver: () => real.takeOver(),
        commit: (records, offsets) => real.commit(records, offsets),
        close: async () => {
          await real.close();
          entry.closed = true;
        },
      };
    };
    const stillOpen = (g: number): string[] =>
      opened.filter((o) => o.generation === g && !o.closed).map((o) => o.transactionalId);
    // And every consumer (the ingests', the window stage's), whether its disconnect() ended.
    const consumers: Array<{ generation: number; topic: string; closed: boolean }> = [];
    const createConsumer: typeof createTopicConsumer = (...args) => {
      const real = createTopicConsumer(...args);
      const entry = { generation, topic: real.topic, closed: false };
      consumers.push(entry);
      return {
        topic: real.topic,
        start: (handlers) => real.start(handlers),
        pause: (partition) => real.pause(partition),
        resume: (partition) => real.resume(partition),
        seek: (partition, offset) => real.seek(partition, offset),
        endOffsets: () => real.endOffsets(),
        quiesce: () => real.quiesce(),
        disconnect: async () => {
          await real.disconnect();
          entry.closed = true;
        },
      };
    };
    const consumersOpen = (g: number): string[] =>
      consumers.filter((c) => c.generation === g && !c.closed).map((c) => c.topic);

    const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'checkpoints.sqlite'), {
      synchronous: 'NORMAL',
    });
    const system = startSystem(randomName('sdp-restart'), engine);
    const failures: string[] = [];
    // The supervisor's policy (platform/supervisor.ts): a failed ETL actor is stopped, the ETL torn down and started.
    const supervisor = spawn<undefined, unknown>(system, (state) => state, 'supervisor', {
      onCrash: (_msg, err, ctx, child) => {
        failures.push(`${child?.name ?? 'unknown'}: ${err.message}`);
        return ctx.stopChild;
      },
    });
    const start = (): Promise<EtlRuntime> =>
      startEtl({
        config: cfg,
        logger,
        parent: supervisor as AnyRef,
        storeId: engine.storeId,
        topicIds: engine,
        createTransactions,
        createConsumer,
      });

    let etl: EtlRuntime | undefined;
    try {
      // The first roll whose Kafka transaction commits fails the checkpointer before its renames.
      setCrashForTest((point) => {
        setFaultForTest(undefined);
        throw new SdpError(ErrorCodes.CHECKPOINT_FAILED, `crash point ${point} hit on purpose`);
      });
      setFaultForTest('after-commit-before-rename');
      etl = await start();
      await waitFor(() => failures.length > 0, 120_000, 'the checkpointer to fail', 50);
      expect(failures[0]).toMatch(/^checkpointer: /);
      expect(opened.filter((o) => o.generation === 1).length).toBeGreaterThanOrEqual(2 * partitions);

      const abortStartedMs = Date.now();
      await etl.abort();
      etl = undefined;
      const abortMs = Date.now() - abortStartedMs;
      console.info(
        `restart test: generation 1 opened ${opened.length} producers, abort took ${abortMs} ms, ` +
          `${stillOpen(1).length} left open`,
      );
      expect(stillOpen(1), 'producers of generation 1 left open by its teardown').toEqual([]);
      expect(consumers.filter((c) => c.generation === 1)).toHaveLength(3);
      expect(consumersOpen(1), 'consumers of generation 1 left connected by its teardown').toEqual([]);
      expect(abortMs).toBeLessThan(ABORT_BOUND_MS);

      // The next generation takes every partition over and stops cleanly too.
      generation = 2;
      etl = await start();
      await waitFor(
        () => opened.filter((o) => o.generation === 2).length >= 2 * partitions,
        120_000,
        'generation 2 to take the partitions over',
        50,
      );
      await etl.stop();
      etl = undefined;
      expect(stillOpen(2), 'producers of generation 2 left open by its stop').toEqual([]);
      expect(consumersOpen(2), 'consumers of generation 2 left connected by its stop').toEqual([]);
    } finally {
      setFaultForTest(undefined);
      await etl?.abort().catch(() => undefined);
      stop(system);
      engine.close();
    }
  });
});
