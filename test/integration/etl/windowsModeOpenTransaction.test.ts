/**
 * `etl.windows: auto` and the start check of `members` decide from the group in Kafka (etl/windowsModeCheck.ts), also
 * right after a member was killed with its transactions open: a restart must not wait for them (they stay open until
 * the partition is taken over, which comes after the decision, or until the transaction timeout).
 * - Stage 1's open transaction at the start of each repartition log holds its last stable offset at 0: "stage 1
 *   wrote" must still read yes (the high watermark counts open records).
 * - A commit of the clickstream offsets still pending: the floors last committed decide, without waiting for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommitMetadata } from '../../../src/checkpoint/commitMetadata.js';
import type { Config } from '../../../src/config/schema.js';
import { checkWindowsSwitch } from '../../../src/etl/windowsSwitchCheck.js';
import { readGroupWindowFacts, withWindowsModeResolved } from '../../../src/etl/windowsModeCheck.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { windowTopicNames } from '../../../src/kafka/admin/windowTopics.js';
import { createPartitionTransactions } from '../../../src/kafka/partitionTransactions.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { startPendingOffsetCommit } from '../helpers/pendingOffsetCommit.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';

/** Far below the bound the old stable read waited (kafka.unreachable_timeout) before it failed the start. */
const DECIDED_WITHIN_MS = 5_000;

describe('etl.windows: auto beside a killed member’s open transactions', () => {
  const logger = testLogger();
  const base = loadTestConfig();
  /** The groups whose window topics a test made. */
  const groups: string[] = [];
  const broker = base.kafka.bootstrap_servers[0]!;
  beforeAll(() => createTestTopics(base, logger), 60_000);
  afterAll(async () => {
    await deleteTopics(base, [
      base.topics.clickstream,
      base.topics.iot,
      ...groups.flatMap((g) => Object.values(windowTopicNames(g))),
    ]);
  }, 60_000);

  function groupConfig(windows: Config['etl']['windows']): Config {
    const group = randomName('sdp-auto-open');
    return { ...base, etl: { ...base.etl, consumer_group: group, windows } };
  }

  async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = Date.now();
    const value = await run();
    return { value, ms: Date.now() - started };
  }

  it('stage 1 wrote only in a transaction still open: members, at once; a members start is not refused', async () => {
    const config = groupConfig('auto');
    groups.push(config.etl.consumer_group);
    await createTopics(config, logger, { windowTopicsOnly: true });
    const click = config.topics.clickstream;
    const group = config.etl.consumer_group;
    const pending = await startPendingOffsetCommit({
      bootstrap: broker,
      transactionalId: `${group}-${click}-0`,
      group,
      topic: click,
      partition: 0,
      offset: 10n,
      metadata: 'killed member',
      produceTo: { topic: windowTopicNames(group).repartition, partition: 0 },
    });
    try {
      // Read as "stage 1 wrote" (not only decided members because no floor was found).
      const facts = await timed(() => readGroupWindowFacts(config, logger));
      expect(facts.value.stage1Wrote).toBe(true);
      expect(facts.ms).toBeLessThan(DECIDED_WITHIN_MS);
      const { value, ms } = await timed(() => withWindowsModeResolved(config, logger));
      expect(value.etl.windows).toBe('members');
      expect(ms).toBeLessThan(DECIDED_WITHIN_MS);
      const members: Config = { ...config, etl: { ...config.etl, windows: 'members' } };
      const check = await timed(() => checkWindowsSwitch(members, logger, undefined));
      expect(check.ms).toBeLessThan(DECIDED_WITHIN_MS);
    } finally {
      await pending.abort();
    }
  });

  it('a process floor committed, the next commit pending: process, at once', async () => {
    const config = groupConfig('auto');
    const click = config.topics.clickstream;
    const group = config.etl.consumer_group;
    // The one-process aggregator's floor, committed with the raw offsets (kafkajs, as the ETL commits).
    const tx = createPartitionTransactions(config, logger, { transactionalId: `${group}-${click}-1`, groupId: group });
    try {
      await tx.takeOver();
      await tx.commit(
        [],
        [
          {
            topic: click,
            partition: 1,
            offset: 10n,
            metadata: encodeCommitMetadata({ v: 1, topicId: null, raw: '9', win: '9', writer: 'a1', files: [] }),
          },
        ],
      );
    } finally {
      await tx.close();
    }
    // Its next commit, left pending by a kill (another transactional id: the fence of the first is not the point).
    const pending = await startPendingOffsetCommit({
      bootstrap: broker,
      transactionalId: `${group}-killed`,
      group,
      topic: click,
      partition: 1,
      offset: 20n,
      metadata: 'killed member',
    });
    try {
      const { value, ms } = await timed(() => withWindowsModeResolved(config, logger));
      expect(value.etl.windows).toBe('process');
      expect(ms).toBeLessThan(DECIDED_WITHIN_MS);
    } finally {
      await pending.abort();
    }
  });
});
