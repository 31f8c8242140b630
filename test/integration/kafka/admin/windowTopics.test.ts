/**
 * The window stages' internal topics on the real cluster (architecture.md, "Windows across members"): `topics create`
 * makes `<group>-pv-repartition` and `<group>-pv-state` next to the input topics, with R partitions, the configured
 * RF and min.insync.replicas and their cleanup.policy, read back through describeConfigs; a second run changes
 * nothing; `topics alter` never changes R and keeps each topic's own configs; `topics describe`, `data stats` and the
 * Kafka browser list them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import type { DataStats } from '../../../../src/commands/dataStats.js';
import { createTopics } from '../../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../../src/kafka/admin/topicSpecs.js';
import {
  REPARTITION_RETENTION_MS,
  REPARTITION_SEGMENT_MS,
  windowTopicNames,
} from '../../../../src/kafka/admin/windowTopics.js';
import { createClusterBrowser } from '../../../../src/kafka/browser/clusterBrowser.js';
import { ErrorCodes } from '../../../../src/errors.js';
import { withAdmin } from '../../helpers/kafkaTestData.js';
import { loadTestConfig } from '../../helpers/loadTestConfig.js';
import { runCli } from '../../helpers/runCli.js';
import { testLogger } from '../../helpers/testLogger.js';
import { waitFor } from '../../helpers/waitFor.js';

const { ConfigResourceTypes } = kafkajs;

const logger = testLogger();
// config.yml's layout (4 partitions, RF 2, min.insync.replicas 1, R auto) with random topics and group.
const config = loadTestConfig();
const internal = windowTopicNames(config.etl.consumer_group);
const all = platformTopicNames(config);
const inputs = [config.topics.clickstream, config.topics.iot];
const env = {
  SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
  SDP_TOPICS__IOT: config.topics.iot,
  SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
  SDP_LOG__LEVEL: 'error',
};

interface Layout {
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string | null>;
  /** Those of `configs` set on the topic itself (configSource TOPIC_CONFIG), not inherited from the broker. */
  own: string[];
}

/** Kafka's ConfigSource.TOPIC_CONFIG. */
const TOPIC_CONFIG = 1;

/** Partitions and replication factor from the metadata, the topic configs from describeConfigs. */
async function layoutOf(topics: readonly string[]): Promise<Record<string, Layout>> {
  return withAdmin(config, logger, async (admin) => {
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
    const described = await admin.describeConfigs({
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['cleanup.policy', 'min.insync.replicas', 'retention.ms', 'segment.ms'],
      })),
      includeSynonyms: false,
    });
    const out: Record<string, Layout> = {};
    for (const topic of topics) {
      const meta = metadata.topics.find((t) => t.name === topic)!;
      const resource = described.resources.find((r) => r.resourceName === topic)!;
      out[topic] = {
        partitions: meta.partitions.length,
        replicationFactor: Math.max(...meta.partitions.map((p) => p.replicas.length)),
        configs: Object.fromEntries(resource.configEntries.map((e) => [e.configName, e.configValue])),
        own: resource.configEntries
          .filter((e) => e.configSource === TOPIC_CONFIG)
          .map((e) => e.configName)
          .sort(),
      };
    }
    return out;
  });
}

describe("the window stages' internal topics", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-window-topics-'));

  afterAll(async () => {
    await withAdmin(config, logger, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const mine = all.filter((t) => existing.has(t));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
    }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('topics create makes the four topics: R partitions, RF, min.insync.replicas and cleanup.policy as configured', async () => {
    expect(config.etl.window_partitions).toBe('auto');
    const result = await runCli(['topics', 'create'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const topic of inputs)
      expect(result.stdout).toContain(`created ${topic}: 4 partitions, replication factor 2, min.insync.replicas 1\n`);
    expect(result.stdout).toContain(
      `created ${internal.repartition}: 4 partitions, replication factor 2, min.insync.replicas 1, cleanup.policy delete\n`,
    );
    expect(result.stdout).toContain(
      `created ${internal.state}: 4 partitions, replication factor 2, min.insync.replicas 1, cleanup.policy compact\n`,
    );

    const layout = await layoutOf(all);
    const retention = String(REPARTITION_RETENTION_MS);
    // The broker's default retention is 7 days too: `own` shows retention.ms is the topic's own.
    expect(layout[internal.repartition]).toEqual({
      partitions: 4,
      replicationFactor: 2,
      configs: {
        'cleanup.policy': 'delete',
        'min.insync.replicas': '1',
        'retention.ms': retention,
        'segment.ms': String(REPARTITION_SEGMENT_MS),
      },
      own: ['cleanup.policy', 'min.insync.replicas', 'retention.ms', 'segment.ms'],
    });
    expect(layout[internal.state]).toMatchObject({
      partitions: 4,
      replicationFactor: 2,
      configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': '1' },
      own: ['cleanup.policy', 'min.insync.replicas', 'segment.ms'],
    });
    for (const topic of inputs)
      expect(layout[topic]).toMatchObject({
        partitions: 4,
        replicationFactor: 2,
        configs: { 'cleanup.policy': 'delete', 'min.insync.replicas': '1' },
        own: ['min.insync.replicas'],
      });
  });

  it('a second run changes nothing, from the CLI and the API', async () => {
    const before = await layoutOf(all);
    const cli = await runCli(['topics', 'create'], env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain('nothing to do');
    expect(cli.stdout).toContain(`unchanged ${internal.state}: already exists with 4 partitions`);
    const result = await createTopics(config, logger);
    expect(result.created).toEqual([]);
    expect(result.unchanged.map((s) => s.topic)).toEqual(all);
    expect(await layoutOf(all)).toEqual(before);
  });

  it('topics describe shows them with their cleanup.policy, marked internal', async () => {
    const cli = await runCli(['topics', 'describe'], env);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(
      `topic ${internal.repartition}: 4 partitions, replication factor 2, min.insync.replicas 1, cleanup.policy delete (internal: the window stages' repartition topic)`,
    );
    expect(cli.stdout).toContain(
      `topic ${internal.state}: 4 partitions, replication factor 2, min.insync.replicas 1, cleanup.policy compact (internal: the window stages' state topic)`,
    );
    // Four tables of four partitions.
    expect(cli.stdout.match(/^[0-3]\s+[1-3]\s+[1-3],[1-3]\s+[1-3](,[1-3])?/gm)).toHaveLength(16);
  });

  it('a fixed R that differs: create reports it and changes nothing; alter never changes it and keeps their configs', async () => {
    const six = { ...env, SDP_ETL__WINDOW_PARTITIONS: '6' };
    const created = await runCli(['topics', 'create'], six);
    expect(created.code).toBe(1);
    expect(created.stderr).toContain(ErrorCodes.KAFKA_TOPIC_MISMATCH);
    expect(created.stderr).toContain(
      `topic ${internal.repartition} exists with 4 partitions, config wants 6 (etl.window_partitions (R) is fixed once window state exists`,
    );

    // alter with R 6, kafka.partitions 5 and min.insync.replicas 2: the input topics are raised, R stays 4.
    const altered = await runCli(['topics', 'alter'], {
      ...six,
      SDP_KAFKA__PARTITIONS: '5',
      SDP_KAFKA__MIN_INSYNC_REPLICAS: '2',
    });
    expect(altered.stderr).toBe('');
    expect(altered.code).toBe(0);
    for (const topic of [internal.repartition, internal.state]) {
      expect(altered.stdout).toContain(`NOT changed ${topic}: 4 partitions, etl.window_partitions wants 6`);
      expect(altered.stdout).toContain(`set ${topic}: min.insync.replicas 1 → 2`);
    }
    for (const topic of inputs) expect(altered.stdout).toContain(`raised ${topic}: 4 → 5 partitions`);

    // Setting min.insync.replicas (AlterConfigs replaces a topic's own configs) kept cleanup.policy and retention.ms.
    let layout: Record<string, Layout> = {};
    await waitFor(
      async () => {
        layout = await layoutOf(all);
        return all.every((t) => layout[t]?.configs['min.insync.replicas'] === '2');
      },
      30_000,
      'min.insync.replicas 2 on every broker',
      250,
    );
    expect(layout[internal.repartition]).toEqual({
      partitions: 4,
      replicationFactor: 2,
      configs: {
        'cleanup.policy': 'delete',
        'min.insync.replicas': '2',
        'retention.ms': String(REPARTITION_RETENTION_MS),
        'segment.ms': String(REPARTITION_SEGMENT_MS),
      },
      own: ['cleanup.policy', 'min.insync.replicas', 'retention.ms', 'segment.ms'],
    });
    expect(layout[internal.state]).toMatchObject({
      partitions: 4,
      configs: { 'cleanup.policy': 'compact' },
      own: ['cleanup.policy', 'min.insync.replicas', 'segment.ms'],
    });
    for (const topic of inputs) expect(layout[topic]?.partitions).toBe(5);

    // R auto keeps the count the topics have: with kafka.partitions 5, nothing left to do.
    const again = await runCli(['topics', 'alter'], {
      ...env,
      SDP_KAFKA__PARTITIONS: '5',
      SDP_KAFKA__MIN_INSYNC_REPLICAS: '2',
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
  });

  it('data stats lists them with their partitions and offsets', async () => {
    const result = await runCli(['data', 'stats', '--json'], {
      ...env,
      SDP_STORAGE__DATALAKE_ROOT: join(dir, 'lake'),
      SDP_STORAGE__CHECKPOINT_ROOT: join(dir, 'checkpoints'),
    });
    expect(result.code, result.stderr).toBe(0);
    const stats = JSON.parse(result.stdout) as DataStats;
    expect(stats.kafka_error).toBeNull();
    expect(stats.internal_topics).toEqual([
      { topic: internal.repartition, role: 'repartition', exists: true, partitions: 4, offsets: 0 },
      { topic: internal.state, role: 'state', exists: true, partitions: 4, offsets: 0 },
    ]);
  });

  it('the Kafka browser marks them internal in its topic list, and not the input topics', async () => {
    const browser = createClusterBrowser(config, logger);
    try {
      // Other tests create and delete topics meanwhile: a list taken during a deletion may fail once.
      let listed: Awaited<ReturnType<typeof browser.topics>> = [];
      await waitFor(
        async () => {
          listed = await browser.topics().catch(() => []);
          return all.every((t) => listed.some((s) => s.name === t));
        },
        30_000,
        'the topic list with the four topics',
        500,
      );
      const internalOf = (name: string) => listed.find((t) => t.name === name)?.internal;
      expect(all.map(internalOf)).toEqual([false, false, true, true]);
    } finally {
      await browser.close();
    }
  });

  it('a bad etl.window_partitions is a config error naming the key: exit 2, nothing created', async () => {
    const result = await runCli(['topics', 'create'], { ...env, SDP_ETL__WINDOW_PARTITIONS: '0' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(ErrorCodes.CONFIG_INVALID);
    expect(result.stderr).toMatch(/etl\.window_partitions: expected auto or a whole number of partitions/);
  });
});
