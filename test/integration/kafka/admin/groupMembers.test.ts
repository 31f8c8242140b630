/**
 * fetchGroupMembers against the shared cluster: two plain consumers of one fresh topic in one fresh
 * group are both members, with disjoint partitions that cover the topic; an unknown group is no
 * error; a Kafka that does not answer is an SdpError.
 */
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, SdpError } from '../../../../src/errors.js';
import { fetchGroupMembers } from '../../../../src/kafka/admin/groupMembers.js';
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createTestTopics, withAdmin } from '../../helpers/kafkaTestData.js';
import { loadTestConfig } from '../../helpers/loadTestConfig.js';
import { randomName } from '../../helpers/randomName.js';
import { testLogger } from '../../helpers/testLogger.js';
import { waitFor } from '../../helpers/waitFor.js';

const logger = testLogger();
const PARTITIONS = 4;
const config = loadTestConfig({ kafka: { partitions: PARTITIONS } });
const topic = config.topics.clickstream;
const groupId = randomName('members-group');

describe('fetchGroupMembers', () => {
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    // The project's topic creation waits until every broker has the new topics (kafkajs's does not).
    await createTestTopics(config, logger);
    // Metadata of a new topic spreads asynchronously: until every broker has it, subscribing can fail.
    const subscribed = async (consumer: Consumer): Promise<boolean> =>
      consumer.subscribe({ topic, fromBeginning: true }).then(
        () => true,
        () => false,
      );
    for (const name of ['one', 'two']) {
      const consumer = createKafkaClient(config, logger, { clientId: `members-${name}` }).consumer({ groupId });
      consumers.push(consumer);
      await consumer.connect();
      await waitFor(() => subscribed(consumer), 30_000, `members-${name} subscribed`, 250);
      await consumer.run({ eachMessage: async () => undefined });
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of consumers) await c.disconnect().catch(() => undefined);
    await withAdmin(config, logger, async (a) => {
      await a.deleteGroups([groupId]).catch(() => undefined);
      await a.deleteTopics({ topics: [config.topics.clickstream, config.topics.iot] });
    }).catch(() => undefined);
  }, 60_000);

  it('returns both members with disjoint partitions that cover the topic', async () => {
    let found = await fetchGroupMembers(config, logger, groupId);
    await waitFor(
      async () => {
        found = await fetchGroupMembers(config, logger, groupId);
        return (
          found.state === 'Stable' && found.members.length === 2 && found.members.every((m) => m.assignment.length > 0)
        );
      },
      60_000,
      'two members with assignments',
      500,
    );
    expect(found.protocolType).toBe('consumer');
    expect(found.members.map((m) => m.clientId)).toEqual(['members-one', 'members-two']);
    for (const m of found.members) expect(m.host).toMatch(/\d/);
    const held = found.members.flatMap((m) => m.assignment.flatMap((a) => (a.topic === topic ? a.partitions : [])));
    expect(held.sort((a, b) => a - b)).toEqual([...Array(PARTITIONS).keys()]);
  }, 90_000);

  it('an unknown group is Dead with no members, not an error', async () => {
    const found = await fetchGroupMembers(config, logger, randomName('no-such-group'));
    expect(found.state).toBe('Dead');
    expect(found.members).toEqual([]);
  });

  it('a Kafka that does not answer is an SdpError within the timeout', async () => {
    const nowhere = loadTestConfig({ kafka: { bootstrap_servers: ['127.0.0.1:1'] } });
    const started = Date.now();
    const err = await fetchGroupMembers(nowhere, logger, groupId, 2_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SdpError);
    expect((err as SdpError).code).toBe(ErrorCodes.KAFKA_UNREACHABLE);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
