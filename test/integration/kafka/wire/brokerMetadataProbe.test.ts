import { afterAll, describe, expect, it } from 'vitest';
import { probeBrokerMetadata } from '../../../../src/kafka/wire/brokerMetadataProbe.js';
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createTopics } from '../../../../src/kafka/admin/topics.js';
import { loadTestConfig } from '../../helpers/loadTestConfig.js';
import { randomName } from '../../helpers/randomName.js';
import { testLogger } from '../../helpers/testLogger.js';

const config = loadTestConfig();
const addresses = config.kafka.bootstrap_servers.map((s) => {
  const [host, port] = s.split(':');
  return { host: host!, port: Number(port) };
});

describe('probeBrokerMetadata (one bare Metadata v4 request per broker)', () => {
  const created: string[] = [];
  afterAll(async () => {
    if (created.length === 0) return;
    const admin = createKafkaClient(config, testLogger()).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: created });
    await admin.disconnect();
  });

  it('gets the same three brokers from each broker, and a controller among them', async () => {
    const views = await Promise.all(addresses.map(({ host, port }) => probeBrokerMetadata(host, port, [], 5_000)));
    for (const view of views) {
      expect(view.brokers.map((b) => b.port).sort()).toEqual([...config.kafka.external_ports].sort());
      // KRaft brokers name a random live broker as "controller": the real one is not reachable by clients.
      expect(view.brokers.map((b) => b.nodeId)).toContain(view.controllerId);
    }
  });

  it('reports a topic no broker knows with UNKNOWN_TOPIC_OR_PARTITION (3)', async () => {
    const { host, port } = addresses[0]!;
    const view = await probeBrokerMetadata(host, port, [randomName('never-created')], 5_000);
    expect(view.topics).toHaveLength(1);
    expect(view.topics[0]?.errorCode).toBe(3);
  });

  it('sees, on every broker, the partitions and leaders of a topic as soon as createTopics returns', async () => {
    const topic = randomName('probe');
    created.push(topic);
    await createTopics(config, testLogger(), { topics: [topic] });
    for (const { host, port } of addresses) {
      const view = await probeBrokerMetadata(host, port, [topic], 5_000);
      const [entry] = view.topics;
      expect(entry?.errorCode).toBe(0);
      expect(entry?.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2, 3]);
      for (const p of entry?.partitions ?? []) {
        expect(p.replicas).toHaveLength(2);
        expect(p.replicas).toContain(p.leader);
      }
    }
  });

  it('rejects when nothing listens', async () => {
    await expect(probeBrokerMetadata('127.0.0.1', 1, [], 2_000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
