/**
 * The Kafka browser's reads against the shared cluster: messages from an offset, from a timestamp
 * and the last N (LZ4 batches, binary values, tombstones), across more than one Fetch, and without
 * creating a consumer group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterBrowser, type ClusterBrowser } from '../../../../src/kafka/browser/clusterBrowser.js';
import { createTestTopics, TestProducer, withAdmin } from '../../helpers/kafkaTestData.js';
import { loadTestConfig } from '../../helpers/loadTestConfig.js';
import { testLogger } from '../../helpers/testLogger.js';

describe('cluster browser', () => {
  const logger = testLogger();
  const config = loadTestConfig();
  const topic = config.topics.clickstream;
  const T0 = 1_700_000_000_000;
  let browser: ClusterBrowser;

  beforeAll(async () => {
    await createTestTopics(config, logger);
    const producer = new TestProducer(config, logger);
    await producer.connect();
    // 3,000 records of ~1 KB on partition 2: more than one 1 MB Fetch.
    const big = 'x'.repeat(1000);
    await producer.send(
      topic,
      Array.from({ length: 3000 }, (_, i) => ({
        partition: 2,
        key: `k${i}`,
        value: JSON.stringify({ i, big }),
        timestampMs: T0 + i * 1000,
      })),
    );
    await producer.send(topic, [
      { partition: 0, key: null, value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
      { partition: 0, key: 'gone', value: null },
    ]);
    await producer.disconnect();
    browser = createClusterBrowser(config, logger);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await withAdmin(config, logger, (a) =>
      a.deleteTopics({ topics: [config.topics.clickstream, config.topics.iot] }),
    ).catch(() => undefined);
  });

  it('reads from an offset across several fetches, in order', async () => {
    const ms = await browser.messages({ topic, partition: 2, from: 'offset', offset: 100n, limit: 500 });
    expect(ms).toHaveLength(500);
    expect(ms.map((m) => m.offset)).toEqual(Array.from({ length: 500 }, (_, i) => String(100 + i)));
    expect(ms[0]!.key).toEqual({ kind: 'text', text: 'k100', bytes: 4 });
    expect(ms[0]!.value.kind).toBe('json');
    expect(JSON.parse(ms[0]!.value.text).i).toBe(100);
  });

  it('reads from a timestamp and the last N', async () => {
    const fromTs = await browser.messages({
      topic,
      partition: 2,
      from: 'timestamp',
      timestampMs: T0 + 2500 * 1000 + 1,
      limit: 3,
    });
    expect(fromTs.map((m) => m.offset)).toEqual(['2501', '2502', '2503']);
    expect(fromTs[0]!.timestampMs).toBe(T0 + 2501 * 1000);
    const last = await browser.messages({ topic, partition: 2, from: 'last', limit: 2 });
    expect(last.map((m) => m.offset)).toEqual(['2998', '2999']);
  });

  it('shows binary values as hex and a tombstone as null', async () => {
    const ms = await browser.messages({ topic, partition: 0, from: 'last', limit: 10 });
    expect(ms.map((m) => m.value)).toEqual([
      { kind: 'binary', text: 'de ad be ef', bytes: 4 },
      { kind: 'null', text: '', bytes: 0 },
    ]);
  });

  it('counts records and partitions like the admin API, and creates no consumer group', async () => {
    const before = new Set(
      await withAdmin(config, logger, async (a) => (await a.listGroups()).groups.map((g) => g.groupId)),
    );
    await browser.messages({ topic, partition: 1, from: 'last', limit: 10 }); // empty partition
    const t = await browser.topic(topic);
    expect(t.partitionList.map((p) => p.endOffset)).toEqual(['2', '0', '3000', '0']);
    expect(t.records).toBe('3002');
    expect(t.bytes).toBeGreaterThan(3000 * 1000 * config.kafka.replication_factor * 0.01); // LZ4 shrinks the repeated x's
    // Any group that appeared meanwhile (other tests share the cluster) has nothing of our topic.
    const fresh = (
      await withAdmin(config, logger, async (a) => (await a.listGroups()).groups.map((g) => g.groupId))
    ).filter((g) => !before.has(g));
    for (const g of fresh) {
      const offsets = await withAdmin(config, logger, (a) => a.fetchOffsets({ groupId: g, topics: [topic] }));
      expect(offsets.flatMap((o) => o.partitions).filter((p) => p.offset !== '-1')).toEqual([]);
    }
  });
});
