/**
 * A graceful stop after one ingest already failed (architecture.md, "Back-pressure and shutdown"): seen in the chaos
 * run, where SIGTERM came while a broker was down, a roll's commit failed, the partition's takeover again failed, and
 * the iot ingest stopped; the stop's drain then queried a stopped actor and the platform exited 1 with "graceful
 * shutdown did not finish". The failed ingest has nothing to drain (its partitions resume from Kafka at the next
 * start): the rest must still stop gracefully. Here the iot partition 1's first commit fails as with a broker gone and
 * its next takeover fails; the ETL runs in this process under a parent that stops a failed child, as the supervisor
 * does while it shuts down.
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
import { startEtl, type EtlRuntime } from '../../../src/platform/etlRuntime.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { spawn, startSystem, stop, type AnyRef } from '../../../src/system/nact.js';
import { iotEvent } from '../helpers/etlTestEvents.js';
import { TestProducer } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

describe('a graceful stop of the ETL', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-stop-failed-ingest-'));
  let config: Config | undefined;
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (config) await deleteTopics(config, platformTopicNames(config));
  }, 60_000);

  it('after an ingest failed, stops the rest and resolves', { timeout: 3 * 60_000 }, async () => {
    const cfg: Config = loadTestConfig({
      etl: { max_file_rows: 200, max_file_age: '2s', checkpoint_interval: '1s' },
      storage: { datalake_root: join(dir, 'lake'), checkpoint_root: join(dir, 'checkpoints') },
    });
    config = cfg;
    await createTopics(cfg, logger);
    const random = mulberry32(5);
    const producer = new TestProducer(cfg, logger);
    await producer.connect();
    try {
      await producer.send(
        cfg.topics.iot,
        Array.from(
          { length: 2_000 },
          (_, index) =>
            iotEvent({ index, devices: 64, partitions: cfg.kafka.partitions, tsMs: Date.now() - 60_000, random })
              .record,
        ),
      );
    } finally {
      await producer.disconnect();
    }

    // iot partition 1: its first commit fails as with its coordinator's broker gone, and so does its next takeover.
    const failing = `${cfg.etl.consumer_group}-${cfg.topics.iot}-1`;
    let takeOvers = 0;
    let commitFailed = false;
    const createTransactions = (transactionalId: string): PartitionTransactions => {
      const real = createPartitionTransactions(cfg, logger, { transactionalId, groupId: cfg.etl.consumer_group });
      if (transactionalId !== failing) return real;
      return {
        transactionalId,
        takeOver: async () => {
          takeOvers += 1;
          if (takeOvers > 1) throw new SdpError(ErrorCodes.KAFKA_UNREACHABLE, 'connect ECONNREFUSED (on purpose)');
          await real.takeOver();
        },
        commit: async (records, offsets) => {
          if (!commitFailed) {
            commitFailed = true;
            throw new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'connect ECONNREFUSED (on purpose)');
          }
          await real.commit(records, offsets);
        },
        close: () => real.close(),
      };
    };

    const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'checkpoints.sqlite'), {
      synchronous: 'NORMAL',
    });
    const system = startSystem(randomName('sdp-stop-failed'), engine);
    const failures: string[] = [];
    // The supervisor while it shuts down: a failed ETL actor is stopped, and not started again.
    const supervisor = spawn<undefined, unknown>(system, (state) => state, 'supervisor', {
      onCrash: (_msg, err, ctx, child) => {
        failures.push(`${child?.name ?? 'unknown'}: ${err.message}`);
        return ctx.stopChild;
      },
    });
    let etl: EtlRuntime | undefined;
    try {
      etl = await startEtl({
        config: cfg,
        logger,
        parent: supervisor as AnyRef,
        storeId: engine.storeId,
        topicIds: engine,
        createTransactions,
      });
      await waitFor(() => failures.length > 0, 120_000, 'the iot ingest to fail', 50);
      expect(failures[0]).toMatch(/takeover/);
      const running = etl;
      etl = undefined;
      await expect(running.stop()).resolves.toBeUndefined();
    } finally {
      await etl?.abort().catch(() => undefined);
      stop(system);
      engine.close();
    }
  });
});
