/**
 * kafkajs's transactional producer, as this project loads it (patches/coordinatorCache.ts), against the cluster:
 * a transaction's coordinator requests reuse the coordinators found, instead of one FindCoordinator before each.
 * Counted from kafkajs's own request events, so it is the real path of a roll's commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { createKafkaClient } from '../../../src/kafka/client.js';
import { fetchStableOffsets } from '../../../src/kafka/wire/offsetFetch.js';
import { kcatCount } from '../helpers/kcat.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';

const config = loadTestConfig();
const logger = testLogger();
const broker = config.kafka.bootstrap_servers[0]!;
const input = randomName('cc-in');
const output = randomName('cc-out');
const group = randomName('cc-g');

describe('transactional producer: coordinators found once', () => {
  beforeAll(async () => {
    await createTopics(config, logger, { topics: [input, output] });
  });

  afterAll(async () => {
    const admin = createKafkaClient(config, logger).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.deleteGroups([group]).catch(() => undefined);
    await admin.disconnect();
  });

  it('sends FindCoordinator once for the transaction and once for the group over five commits', async () => {
    const kafka = createKafkaClient(config, logger, { clientId: 'coordinator-cache-test' });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: `${group}-tx` });
    const requests: string[] = [];
    producer.on(producer.events.REQUEST, (e: { payload: { apiName: string } }) => requests.push(e.payload.apiName));
    await producer.connect();
    try {
      for (let i = 1; i <= 5; i++) {
        const tx = await producer.transaction();
        await tx.send({ topic: output, messages: [{ partition: 0, value: `v${i}` }] });
        await tx.sendOffsets({
          consumerGroupId: group,
          topics: [{ topic: input, partitions: [{ partition: 0, offset: String(i) }] }],
        });
        await tx.commit();
      }
    } finally {
      await producer.disconnect();
    }
    const count = (api: string): number => requests.filter((r) => r === api).length;
    // Every transaction did its work: records and offsets committed.
    expect(await kcatCount(broker, output, 'read_committed')).toBe(5);
    expect((await fetchStableOffsets(config, group, input, [0])).get(0)?.offset).toBe(5n);
    expect(count('EndTxn')).toBe(5);
    expect(count('TxnOffsetCommit')).toBe(5);
    // kafkajs alone asks before each of AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn, and again
    // at each retry of AddPartitionsToTxn that CONCURRENT_TRANSACTIONS answers right after the last EndTxn: 21 or more.
    expect(count('GroupCoordinator')).toBe(2);
  });
});
