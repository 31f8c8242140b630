/**
 * The state topic reader of the stage-2 window tasks (architecture.md, "Windows across members") against the real
 * cluster: a compacted topic written by transactions, read group-less and read_committed from its log start to its
 * high watermark. The last committed value of the key comes back; an aborted transaction's value never does; a
 * transaction still open below the end makes it wait, then fail naming it; a partition without the key gives null.
 */
import kafkajs, { type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { createKafkaClient } from '../../../src/kafka/client.js';
import { readLatestState } from '../../../src/kafka/stateTopicReader.js';
import { withAdmin } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const { CompressionTypes } = kafkajs;
const config = loadTestConfig();
const logger = testLogger();
const topic = randomName('pv-state-test');
const producers: Producer[] = [];

async function transactionalProducer(id: string): Promise<Producer> {
  const producer = createKafkaClient(config, logger, { clientId: 'sdp-test-state' }).producer({
    transactionalId: id,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  producers.push(producer);
  await producer.connect();
  return producer;
}

async function inTransaction(
  producer: Producer,
  messages: Array<{ partition: number; key: string; value: string | null }>,
  end: 'commit' | 'abort' | 'open',
) {
  const tx = await producer.transaction();
  await tx.send({ topic, acks: -1, compression: CompressionTypes.LZ4, messages });
  if (end === 'commit') await tx.commit();
  else if (end === 'abort') await tx.abort();
  return tx;
}

const read = (partition: number, key: string, timeoutMs?: number) =>
  readLatestState(config, logger, topic, partition, key, timeoutMs === undefined ? {} : { timeoutMs });

describe('state topic reader', () => {
  beforeAll(async () => {
    await withAdmin(config, logger, async (admin) => {
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic,
            numPartitions: 3,
            replicationFactor: config.kafka.replication_factor,
            configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
      });
    });
    // Every partition led before the first read (kafkajs's own wait gives up too early on a loaded cluster).
    await waitFor(
      () =>
        withAdmin(config, logger, async (admin) => {
          const { topics } = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => ({ topics: [] }));
          return topics[0]?.partitions.length === 3 && topics[0].partitions.every((p) => p.leader >= 0);
        }),
      30_000,
      'leaders of the state topic',
    );
  });

  afterAll(async () => {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
    await withAdmin(config, logger, (admin) => admin.deleteTopics({ topics: [topic] })).catch(() => undefined);
  });

  it('returns the last committed value of the key, never an aborted one', async () => {
    const producer = await transactionalProducer(randomName('state-writer'));
    await inTransaction(
      producer,
      [
        { partition: 0, key: '0', value: 'v1' },
        { partition: 0, key: '7', value: 'other key' },
      ],
      'commit',
    );
    await inTransaction(producer, [{ partition: 0, key: '0', value: 'v2' }], 'commit');
    await inTransaction(
      producer,
      [
        { partition: 0, key: '0', value: 'aborted' },
        { partition: 0, key: '0', value: 'aborted too' },
      ],
      'abort',
    );
    const state = await read(0, '0');
    expect(state.value?.toString()).toBe('v2');
    // v1, other key, [marker], v2, [marker], aborted ×2, [marker]
    expect(state.offset).toBe(3n);
    expect(state.endOffset).toBe(8n);
    expect(state.recordsRead).toBe(3);
    expect((await read(0, '7')).value?.toString()).toBe('other key');
    expect(await read(0, 'nobody')).toMatchObject({ value: null, offset: null });
  });

  it('gives null for an empty partition and for a last record that is a tombstone', async () => {
    expect(await read(1, '1')).toEqual({ value: null, offset: null, endOffset: 0n, recordsRead: 0 });
    const producer = await transactionalProducer(randomName('state-writer'));
    await inTransaction(producer, [{ partition: 2, key: '2', value: 'v' }], 'commit');
    await inTransaction(producer, [{ partition: 2, key: '2', value: null }], 'commit');
    expect(await read(2, '2')).toMatchObject({ value: null, offset: 2n });
  });

  it('waits for a transaction still open below the end, and says so when it stays open', async () => {
    const producer = await transactionalProducer(randomName('state-writer'));
    const open = await inTransaction(producer, [{ partition: 1, key: '1', value: 'pending' }], 'open');
    await expect(read(1, '1', 1_500)).rejects.toMatchObject({
      code: ErrorCodes.KAFKA_STATE_READ_FAILED,
      message: expect.stringContaining('a transaction is still open'),
    });
    // Committed while a read waits: the read ends with it.
    const pending = read(1, '1', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await open.commit();
    expect((await pending).value?.toString()).toBe('pending');
  });
});
