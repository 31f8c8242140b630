/**
 * The Kafka primitives of the per-partition commit (architecture.md, "Growing past one machine, and
 * who rewrites a partition's files") against the real cluster: one transaction per commit under a
 * stable transactional id, fenced by the producer epoch alone, and the stable read of the committed
 * offset and metadata (OffsetFetch v7, require_stable) that a new owner makes before it reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { createKafkaClient } from '../../../src/kafka/client.js';
import {
  createPartitionTransactions,
  isFenced,
  type PartitionTransactions,
  type TaskRecord,
} from '../../../src/kafka/partitionTransactions.js';
import { fetchStableOffsets } from '../../../src/kafka/wire/offsetFetch.js';
import { describeTransaction } from '../../../src/kafka/wire/transactionState.js';
import { isSdpError, ErrorCodes } from '../../../src/errors.js';
import { kcatCount } from '../helpers/kcat.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { startPendingOffsetCommit } from '../helpers/pendingOffsetCommit.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';

const config = loadTestConfig();
const logger = testLogger();
const broker = config.kafka.bootstrap_servers[0]!;
const input = randomName('ptx-in');
const output = randomName('ptx-out');
const opened: PartitionTransactions[] = [];
const groups: string[] = [];

function instance(transactionalId: string, groupId: string): PartitionTransactions {
  const tx = createPartitionTransactions(config, logger, { transactionalId, groupId, compression: 'lz4' });
  opened.push(tx);
  return tx;
}

function records(prefix: string, count: number, partition: number): TaskRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: output,
    partition,
    key: `${prefix}-${i}`,
    value: JSON.stringify({ prefix, i }),
  }));
}

/** The Kafka error types in a kafkajs error's cause chain. */
function kafkaTypes(err: unknown): string[] {
  const types: string[] = [];
  for (let e = err as { type?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.type === 'string') types.push(e.type);
    if (e.cause === e) break;
  }
  return types;
}

/** How a call settles before any I/O could (setImmediate runs after the promise jobs): no request was sent. */
async function settledWithoutIo(p: Promise<unknown>): Promise<unknown> {
  return Promise.race([
    p.then(
      () => 'resolved',
      (err: unknown) => err,
    ),
    new Promise((resolve) => setImmediate(() => resolve('still pending after the promise jobs'))),
  ]);
}

describe('partition transactions and the stable offset fetch', () => {
  beforeAll(async () => {
    await createTopics(config, logger, { topics: [input, output] });
  });

  afterAll(async () => {
    await Promise.all(opened.map((tx) => tx.close().catch(() => undefined)));
    const admin = createKafkaClient(config, logger).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
    await admin.deleteGroups(groups).catch(() => undefined);
    await admin.disconnect();
  });

  it('commits records and an offset with metadata; the stable fetch returns both right after, no sleep', async () => {
    const group = randomName('ptx-g');
    groups.push(group);
    const tx = instance(`${group}-${input}-0`, group);
    await tx.takeOver();
    expect(await fetchStableOffsets(config, group, input, [0, 1])).toEqual(
      new Map([
        [0, { offset: -1n, metadata: '' }],
        [1, { offset: -1n, metadata: '' }],
      ]),
    );

    await tx.commit(
      [...records('one', 5, 0), ...records('one', 3, 2)],
      [{ topic: input, partition: 0, offset: 42n, metadata: 'first commit' }],
    );
    expect(await fetchStableOffsets(config, group, input, [0])).toEqual(
      new Map([[0, { offset: 42n, metadata: 'first commit' }]]),
    );
    expect(await kcatCount(broker, output, 'read_committed')).toBe(8);

    // Back to back, offsets only: AddOffsetsToTxn right after the last EndTxn (markers being written).
    await tx.commit([], [{ topic: input, partition: 0, offset: 50n, metadata: 'second' }]);
    await tx.commit([], [{ topic: input, partition: 0, offset: 51n, metadata: 'third' }]);
    expect((await fetchStableOffsets(config, group, input, [0])).get(0)).toEqual({ offset: 51n, metadata: 'third' });
    // The transaction coordinator, found by the same FindCoordinator code (key type 1), saw the commits.
    expect((await describeTransaction(config, tx.transactionalId)).state).toMatch(/^(Prepare|Complete)Commit$/);
  });

  it('fences a zombie without any timing: its commit is refused, its records invisible, the offset unchanged', async () => {
    const group = randomName('ptx-g');
    groups.push(group);
    const id = `${group}-${input}-1`;
    const a = instance(id, group);
    const b = instance(id, group);
    await a.takeOver();
    await a.commit(records('a-ok', 2, 1), [{ topic: input, partition: 1, offset: 10n, metadata: 'a' }]);
    const before = await kcatCount(broker, output, 'read_committed');

    await b.takeOver();
    const err = await a
      .commit(records('a-zombie', 4, 1), [{ topic: input, partition: 1, offset: 20n, metadata: 'zombie' }])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isFenced(err)).toBe(true);
    expect(isSdpError(err, ErrorCodes.KAFKA_TRANSACTION_FENCED)).toBe(true);
    // What kafkajs 2.2.4 reports for the stale epoch (its request versions get 47, not PRODUCER_FENCED 90).
    expect(kafkaTypes((err as Error).cause)).toContain('INVALID_PRODUCER_EPOCH');
    expect(await kcatCount(broker, output, 'read_committed')).toBe(before);
    expect((await fetchStableOffsets(config, group, input, [1])).get(1)).toEqual({ offset: 10n, metadata: 'a' });

    await b.commit(records('b', 3, 1), [{ topic: input, partition: 1, offset: 20n, metadata: 'b' }]);
    expect((await fetchStableOffsets(config, group, input, [1])).get(1)).toEqual({ offset: 20n, metadata: 'b' });
    expect(await kcatCount(broker, output, 'read_committed')).toBe(before + 3);

    // Dead for good, told without a request: it rejects before any I/O could answer.
    const again = await settledWithoutIo(a.commit([], [{ topic: input, partition: 1, offset: 99n, metadata: 'x' }]));
    expect(isFenced(again)).toBe(true);
    expect(isFenced(await settledWithoutIo(a.takeOver()))).toBe(true);

    // Fenced with offsets only (AddOffsetsToTxn with the stale epoch).
    const c = instance(id, group);
    await c.takeOver();
    const offsetsOnly = await b.commit([], [{ topic: input, partition: 1, offset: 30n, metadata: 'b2' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFenced(offsetsOnly)).toBe(true);
    expect((await fetchStableOffsets(config, group, input, [1])).get(1)).toEqual({ offset: 20n, metadata: 'b' });
  });

  it('round-trips 3,900 bytes of metadata; more than offset.metadata.max.bytes (4096) is refused by name', async () => {
    const group = randomName('ptx-g');
    groups.push(group);
    const tx = instance(`${group}-${input}-2`, group);
    await tx.takeOver();
    const large = 'x'.repeat(3_890) + 'é'.repeat(5); // 3,900 bytes in UTF-8
    expect(Buffer.byteLength(large)).toBe(3_900);
    await tx.commit([], [{ topic: input, partition: 2, offset: 7n, metadata: large }]);
    expect((await fetchStableOffsets(config, group, input, [2])).get(2)).toEqual({ offset: 7n, metadata: large });

    const err = await tx
      .commit(records('too-large', 2, 2), [{ topic: input, partition: 2, offset: 8n, metadata: 'y'.repeat(4_097) }])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isSdpError(err, ErrorCodes.KAFKA_TRANSACTION_FAILED)).toBe(true);
    expect(isFenced(err)).toBe(false);
    expect((err as Error).message).toMatch(/OFFSET_METADATA_TOO_LARGE/);
    expect((await fetchStableOffsets(config, group, input, [2])).get(2)).toEqual({ offset: 7n, metadata: large });

    // A failed instance needs a takeover before it commits again.
    await expect(tx.commit([], [{ topic: input, partition: 2, offset: 9n, metadata: 'z' }])).rejects.toThrow(
      /needs takeOver/,
    );
    await tx.takeOver();
    await tx.commit([], [{ topic: input, partition: 2, offset: 9n, metadata: 'z' }]);
    expect((await fetchStableOffsets(config, group, input, [2])).get(2)).toEqual({ offset: 9n, metadata: 'z' });
  });

  it('require_stable: a pending transactional offset commit is waited for, never returned early', async () => {
    const group = randomName('ptx-g');
    groups.push(group);
    const tx = instance(`${group}-${input}-3`, group);
    await tx.takeOver();
    await tx.commit([], [{ topic: input, partition: 3, offset: 100n, metadata: 'before' }]);

    // Another client's transaction (librdkafka) holds an offset commit of partition 3 open.
    const pending = await startPendingOffsetCommit({
      bootstrap: broker,
      transactionalId: randomName('ptx-py'),
      group,
      topic: input,
      partition: 3,
      offset: 200n,
      metadata: 'pending',
    });
    try {
      // OffsetFetch v4 (kafkajs) answers with the offset before the pending commit: the race this avoids.
      const admin = createKafkaClient(config, logger).admin();
      await admin.connect();
      const [unstable] = await admin.fetchOffsets({ groupId: group, topics: [input] });
      await admin.disconnect();
      expect(unstable?.partitions.find((p) => p.partition === 3)).toMatchObject({ offset: '100', metadata: 'before' });

      await expect(fetchStableOffsets(config, group, input, [3], { timeoutMs: 1_500 })).rejects.toThrow(
        new RegExp(`group ${group}, topic ${input}, partition 3: .*UNSTABLE_OFFSET_COMMIT \\(88\\)`),
      );

      const waiting = fetchStableOffsets(config, group, input, [3], { timeoutMs: 20_000 }).then((offsets) => ({
        offsets,
        at: Date.now(),
      }));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const commitSentAt = Date.now();
      await pending.commit();
      const { offsets, at } = await waiting;
      expect(at).toBeGreaterThanOrEqual(commitSentAt);
      expect(offsets.get(3)?.offset).toBe(200n);
      // confluent-kafka's Python binding (2.16) sends the C string's terminating NUL with the metadata.
      expect(offsets.get(3)?.metadata?.replace(/\0$/, '')).toBe('pending');
    } finally {
      await pending.abort().catch(() => undefined);
    }
  });
});
