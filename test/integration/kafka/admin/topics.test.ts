import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createTopics, describeTopics } from '../../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../../src/kafka/admin/topicSpecs.js';
import { ErrorCodes, isSdpError } from '../../../../src/errors.js';
import { kcatMetadata } from '../../helpers/kcat.js';
import { loadTestConfig } from '../../helpers/loadTestConfig.js';
import { randomName } from '../../helpers/randomName.js';
import { runCli } from '../../helpers/runCli.js';
import { testLogger } from '../../helpers/testLogger.js';

const logger = testLogger();
// config.yml's topic layout (4 partitions, RF 2, min.insync.replicas 1) with random topic and group names: the
// two input topics and the window stages' internal topics of the group (R = auto = 4).
const config = loadTestConfig();
const topics = platformTopicNames(config);
const topicEnv = {
  SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
  SDP_TOPICS__IOT: config.topics.iot,
  SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
};

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('topics create / describe', () => {
  const admin = createKafkaClient(config, logger).admin();
  const extraTopics: string[] = [];

  afterAll(async () => {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = [...topics, ...extraTopics].filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
  });

  it('creates the four topics with 4 partitions, RF 2 and min.insync.replicas 1, as kafkajs sees them', async () => {
    expect(config.kafka.partitions).toBe(4);
    expect(config.kafka.replication_factor).toBe(2);
    expect(config.kafka.min_insync_replicas).toBe(1);

    const result = await createTopics(config, logger);
    expect(result.created.map((s) => s.topic).sort()).toEqual([...topics].sort());
    expect(result.unchanged).toEqual([]);
    expect(result.liveBrokers).toBe(3);

    const described = await describeTopics(config, logger);
    expect(described.map((d) => d.topic)).toEqual(topics);
    for (const d of described) {
      expect(d.exists).toBe(true);
      expect(d.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
      expect(d.replicationFactor).toBe(2);
      expect(d.minInsyncReplicas).toBe(1);
      for (const p of d.partitions) {
        expect(p.replicas).toHaveLength(2);
        expect(new Set(p.replicas).size).toBe(2);
        expect(p.replicas).toContain(p.leader);
        expect(p.isr.every((id) => p.replicas.includes(id))).toBe(true);
      }
    }
  });

  it('shows the same layout through kcat (librdkafka)', async () => {
    for (const topic of topics) {
      const metadata = await kcatMetadata(config.kafka.bootstrap_servers[0]!, topic);
      const [entry] = metadata.topics;
      expect(entry?.error).toBeUndefined();
      expect(entry?.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2, 3]);
      for (const p of entry?.partitions ?? []) {
        expect(p.replicas).toHaveLength(2);
        expect(p.replicas.map((r) => r.id)).toContain(p.leader);
      }
    }
  });

  it('changes nothing when run again, and says so', async () => {
    const before = await describeTopics(config, logger);
    const result = await createTopics(config, logger);
    expect(result.created).toEqual([]);
    expect(result.unchanged.map((s) => s.topic).sort()).toEqual([...topics].sort());
    const after = await describeTopics(config, logger);
    expect(after.map((d) => d.partitions.map((p) => p.replicas))).toEqual(
      before.map((d) => d.partitions.map((p) => p.replicas)),
    );

    const cli = await runCli(['topics', 'create'], topicEnv);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(
      `unchanged ${config.topics.clickstream}: already exists with 4 partitions, replication factor 2`,
    );
    expect(cli.stdout).toContain('nothing to do');
  });

  it('`topics describe` prints leader, replicas and ISR per partition and min.insync.replicas', async () => {
    const cli = await runCli(['topics', 'describe'], topicEnv);
    expect(cli.code).toBe(0);
    for (const topic of topics) {
      expect(cli.stdout).toContain(`topic ${topic}: 4 partitions, replication factor 2, min.insync.replicas 1`);
    }
    // Four tables of four partitions: `<partition> <leader> <r1>,<r2> <isr>`.
    expect(cli.stdout.match(/^[0-3]\s+[1-3]\s+[1-3],[1-3]\s+[1-3](,[1-3])?/gm)).toHaveLength(16);
  });

  it('refuses to touch an existing topic whose partition count differs', async () => {
    const wider = loadTestConfig({ topics: config.topics, kafka: { partitions: 6 } });
    const err = await errorOf(createTopics(wider, logger));
    expect(isSdpError(err, ErrorCodes.KAFKA_TOPIC_MISMATCH)).toBe(true);
    expect(String((err as { details: string[] }).details)).toContain(
      `topic ${config.topics.clickstream} exists with 4 partitions, config wants 6`,
    );
    const [clickstream] = await describeTopics(config, logger, { topics: [config.topics.clickstream] });
    expect(clickstream?.partitions).toHaveLength(4);
  });

  it('refuses a replication factor above the live brokers before creating anything', async () => {
    const tooMany = loadTestConfig({ kafka: { replication_factor: 4 } });
    extraTopics.push(tooMany.topics.clickstream, tooMany.topics.iot);
    const err = await errorOf(createTopics(tooMany, logger));
    expect(isSdpError(err, ErrorCodes.KAFKA_RF_TOO_HIGH)).toBe(true);
    expect((err as Error).message).toMatch(/replication factor 4 .* more than the 3 live brokers/);
    const [described] = await describeTopics(tooMany, logger, { topics: [tooMany.topics.clickstream] });
    expect(described?.exists).toBe(false);
  });

  it('creates topics under names passed by the caller', async () => {
    const name = randomName('custom');
    extraTopics.push(name);
    const result = await createTopics(config, logger, { topics: [name] });
    expect(result.created.map((s) => s.topic)).toEqual([name]);
    const [described] = await describeTopics(config, logger, { topics: [name] });
    expect(described?.partitions).toHaveLength(4);
  });

  it('keeps the internal offsets and transaction topics on all three brokers with min.insync.replicas 2', async () => {
    // Both are created on first use: a group coordinator lookup and a transactional producer's init.
    const kafka = createKafkaClient(config, logger);
    await admin.connect();
    await admin.fetchOffsets({ groupId: randomName('group'), topics: [] });
    await admin.disconnect();
    const producer = kafka.producer({ transactionalId: randomName('txn'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.abort();
    await producer.disconnect();

    // A broker that has not applied the creation yet answers without them: ask until all agree.
    const wanted = [
      { topic: '__consumer_offsets', exists: true, replicationFactor: 3, minInsyncReplicas: 2 },
      { topic: '__transaction_state', exists: true, replicationFactor: 3, minInsyncReplicas: 2 },
    ];
    let seen: unknown[] = [];
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const internal = await describeTopics(config, logger, { topics: wanted.map((w) => w.topic) });
      seen = internal.map(({ topic, exists, replicationFactor, minInsyncReplicas }) => ({
        topic,
        exists,
        replicationFactor,
        minInsyncReplicas,
      }));
      if (JSON.stringify(seen) === JSON.stringify(wanted)) break;
    }
    expect(seen).toEqual(wanted);
  });

  it('reports an unreachable cluster by its bootstrap servers within 30 s, exit code 1', async () => {
    const result = await runCli(['topics', 'create'], { SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(ErrorCodes.KAFKA_UNREACHABLE);
    expect(result.stderr).toMatch(/unreachable at 127\.0\.0\.1:1\b/);
    expect(result.elapsedMs).toBeLessThan(30_000);
  });
});
