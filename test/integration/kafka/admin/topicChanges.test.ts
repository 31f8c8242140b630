/**
 * `topics create` reports every
 * difference, `topics alter` raises partitions and sets min.insync.replicas but never lowers
 * partitions, `topics recreate --yes` deletes and recreates — after which the ETL refuses to resume
 * from checkpoints that refer to the old topic instead of silently skipping new records.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createTopics, describeTopics } from '../../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../../src/kafka/admin/topicSpecs.js';
import { isCaughtUp, readJournal } from '../../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess } from '../../helpers/etlProcess.js';
import { endOffsets, TestProducer } from '../../helpers/kafkaTestData.js';
import { loadTestConfig } from '../../helpers/loadTestConfig.js';
import { runCli } from '../../helpers/runCli.js';
import { testLogger } from '../../helpers/testLogger.js';
import { waitFor } from '../../helpers/waitFor.js';

const logger = testLogger();
const config = loadTestConfig({ kafka: { partitions: 2 } });
// The input topics; the commands also manage the window stages' internal topics of the test's group, whose R
// (auto: 2, kafka.partitions at their creation) no later kafka.partitions changes.
const topics = [config.topics.clickstream, config.topics.iot];
const allTopics = platformTopicNames(config);
const topicEnv = {
  SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
  SDP_TOPICS__IOT: config.topics.iot,
  SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
  SDP_LOG__LEVEL: 'error',
};

describe('topics create / alter / recreate against the cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-topics-'));

  beforeAll(async () => {
    await createTopics(config, logger);
  });

  afterAll(async () => {
    const admin = createKafkaClient(config, logger).admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = allTopics.filter((t) => existing.has(t));
    // Best effort: a broker may still be applying the test's own recreation.
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('topics create names every difference (partitions, replication factor, min.insync.replicas) and changes nothing', async () => {
    const result = await runCli(['topics', 'create'], {
      ...topicEnv,
      SDP_KAFKA__PARTITIONS: '3',
      SDP_KAFKA__REPLICATION_FACTOR: '3',
      SDP_KAFKA__MIN_INSYNC_REPLICAS: '2',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SDP_ERR_KAFKA_TOPIC_MISMATCH/);
    for (const topic of topics) {
      expect(result.stderr).toContain(
        `topic ${topic} exists with 2 partitions, config wants 3; replication factor 2, config wants 3; min.insync.replicas 1, config wants 2`,
      );
    }
    expect(result.stderr).toMatch(/topics alter/);
    const described = await describeTopics(config, logger);
    expect(described.map((d) => d.partitions.length)).toEqual([2, 2, 2, 2]);
  });

  it('topics alter raises partitions and min.insync.replicas, and says what it does not change (replication factor)', async () => {
    const result = await runCli(['topics', 'alter'], {
      ...topicEnv,
      SDP_KAFKA__PARTITIONS: '3',
      SDP_KAFKA__REPLICATION_FACTOR: '3',
      SDP_KAFKA__MIN_INSYNC_REPLICAS: '2',
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const topic of topics) {
      expect(result.stdout).toContain(`raised ${topic}: 2 → 3 partitions`);
      expect(result.stdout).toContain(`set ${topic}: min.insync.replicas 1 → 2`);
      expect(result.stdout).toContain(`NOT changed ${topic}: replication factor 2, config wants 3`);
    }
    // A config change reaches every broker through the metadata log, and a describe goes to any
    // broker: one asked at once may still answer with the old value. Eventually, and for three
    // reads in a row, every broker must show the change.
    let described = await describeTopics(config, logger);
    let inARow = 0;
    const deadlineMs = Date.now() + 30_000;
    while (inARow < 3 && Date.now() < deadlineMs) {
      described = await describeTopics(config, logger);
      inARow = described.every(
        (d) =>
          d.minInsyncReplicas === 2 &&
          d.partitions.length === (topics.includes(d.topic) ? 3 : 2) &&
          d.partitions.every((p) => p.leader >= 0),
      )
        ? inARow + 1
        : 0;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(described.map((d) => d.topic)).toEqual(allTopics);
    for (const d of described) {
      expect(d.partitions.map((p) => p.partition)).toEqual(topics.includes(d.topic) ? [0, 1, 2] : [0, 1]);
      expect(d.partitions.every((p) => p.leader >= 0)).toBe(true);
      expect(d.minInsyncReplicas).toBe(2);
      expect(d.replicationFactor).toBe(2);
    }
    const again = await runCli(['topics', 'alter'], {
      ...topicEnv,
      SDP_KAFKA__PARTITIONS: '3',
      SDP_KAFKA__MIN_INSYNC_REPLICAS: '2',
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
  });

  it('topics alter refuses to lower partitions with a clear error and changes nothing', async () => {
    const result = await runCli(['topics', 'alter'], {
      ...topicEnv,
      SDP_KAFKA__PARTITIONS: '1',
      SDP_KAFKA__MIN_INSYNC_REPLICAS: '1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SDP_ERR_KAFKA_PARTITIONS_LOWER: Kafka cannot lower the number of partitions/);
    expect(result.stderr).toContain(`topic ${config.topics.clickstream} has 3 partitions, config wants 1`);
    const described = await describeTopics(config, logger);
    expect(described.map((d) => [d.partitions.length, d.minInsyncReplicas])).toEqual([
      [3, 2],
      [3, 2],
      [2, 2],
      [2, 2],
    ]);
  });

  it('topics recreate needs --yes; with it the topics are empty again, and the ETL refuses the old checkpoints', async () => {
    const env3 = { ...topicEnv, SDP_KAFKA__PARTITIONS: '3', SDP_KAFKA__MIN_INSYNC_REPLICAS: '2' };
    const cfg3 = loadTestConfig({
      kafka: { partitions: 3, min_insync_replicas: 2 },
      topics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
      etl: { consumer_group: config.etl.consumer_group },
    });
    const producer = new TestProducer(cfg3, logger);
    await producer.connect();
    try {
      for (const topic of topics) {
        await producer.send(
          topic,
          [0, 1, 2].flatMap((partition) =>
            Array.from({ length: 5 }, (_, i) => ({ partition, key: `k${i}`, value: 'not json' })),
          ),
        );
      }
    } finally {
      await producer.disconnect();
    }
    // A run that makes offsets 0..4 of every partition durable.
    const lakeRoot = join(dir, 'lake');
    const checkpointRoot = join(dir, 'checkpoints');
    const env = etlEnv(cfg3, {
      lakeRoot,
      checkpointRoot,
      extra: { SDP_KAFKA__PARTITIONS: '3', SDP_KAFKA__MIN_INSYNC_REPLICAS: '2', SDP_ETL__MAX_FILE_IDLE: '1s' },
    });
    const ends = await endOffsets(cfg3, logger, config.topics.clickstream);
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl.log') });
    await waitFor(
      () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        return isCaughtUp(readJournal(checkpointRoot), config.topics.clickstream, ends);
      },
      180_000,
      'the first run to make every offset durable',
      250,
    );
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });

    const refused = await runCli(['topics', 'recreate'], env3);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/SDP_ERR_USAGE: topics recreate deletes every record/);
    expect([...(await endOffsets(cfg3, logger, config.topics.clickstream)).values()]).toEqual([5n, 5n, 5n]);

    const result = await runCli(['topics', 'recreate', '--yes'], env3);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`deleted ${config.topics.clickstream}, ${config.topics.iot}`);
    expect(result.stdout).toMatch(/offsets restart at 0/);
    // Every broker learns of the new topic through the metadata log; one asked at once may not host it yet.
    let recreatedEnds: bigint[] = [];
    await waitFor(
      async () => {
        try {
          recreatedEnds = [...(await endOffsets(cfg3, logger, config.topics.clickstream)).values()];
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      'the recreated topic to answer',
      500,
    );
    expect(recreatedEnds).toEqual([0n, 0n, 0n]);
    // The internal topics are recreated too, R as at a first creation (auto: kafka.partitions).
    const described = await describeTopics(cfg3, logger);
    expect(described.map((d) => [d.partitions.length, d.minInsyncReplicas])).toEqual([
      [3, 2],
      [3, 2],
      [3, 2],
      [3, 2],
    ]);

    // The old checkpoints say offsets 0..4 are durable; the new topics end at 0.
    const second = EtlProcess.start(env, { logFile: join(dir, 'etl.log') });
    await waitFor(() => !second.running, 120_000, 'the etl to refuse and exit');
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.tail(20)).toMatch(/SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE/);
    expect(second.tail(20)).toMatch(
      /checkpointed offset 5 is beyond the log end \(topic deleted and recreated, or truncated\); log start 0, log end 0/,
    );
    expect(second.logs.some((l) => l.msg === 'partitions assigned')).toBe(false);
  });
});
