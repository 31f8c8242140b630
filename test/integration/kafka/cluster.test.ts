import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../src/kafka/client.js';
import { kcatMetadata } from '../helpers/kcat.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';

const config = loadTestConfig();
const expectedBrokers = config.kafka.external_ports.map((port, i) => ({ id: i + 1, port }));

describe('the three-broker cluster', () => {
  const admin = createKafkaClient(config, testLogger()).admin();
  afterAll(() => admin.disconnect());

  it('lists three brokers and a controller through the kafkajs admin API', async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => ({ id: b.nodeId, port: b.port })).sort((a, b) => a.id - b.id)).toEqual(
      expectedBrokers,
    );
    expect(cluster.controller).not.toBeNull();
    expect(cluster.brokers.map((b) => b.nodeId)).toContain(cluster.controller);
  });

  it('lists the same three brokers through kcat (librdkafka)', async () => {
    const metadata = await kcatMetadata(config.kafka.bootstrap_servers[0]!);
    expect(
      metadata.brokers.map((b) => ({ id: b.id, port: Number(b.name.split(':')[1]) })).sort((a, b) => a.id - b.id),
    ).toEqual(expectedBrokers);
    expect(metadata.brokers.map((b) => b.id)).toContain(metadata.controllerid);
  });
});

describe('sdp kafka up / status on a running cluster', () => {
  it('`kafka up` when the cluster is up starts nothing and exits 0 quickly', async () => {
    const result = await runCli(['kafka', 'up']);
    expect(result.stderr).not.toMatch(/error SDP_ERR/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/already running: 3 brokers/);
    expect(result.elapsedMs).toBeLessThan(10_000);
  });

  it('`kafka status` shows every node alive and listening, metadata ready, and exits 0', async () => {
    const result = await runCli(['kafka', 'status']);
    expect(result.code).toBe(0);
    for (const { id, port } of expectedBrokers) {
      expect(result.stdout).toMatch(new RegExp(`^${id}\\s+\\d+\\s+yes\\s+${port}\\s+yes\\s+\\d+$`, 'm'));
    }
    expect(result.stdout).toMatch(/metadata: brokers \[1, 2, 3\]; ready/);
  });
});
