/**
 * A transactional kafkajs producer: each batch is one Kafka transaction (idempotent, acks all, one
 * request in flight), so a batch is either entirely visible to read_committed consumers or not at
 * all. A producer that takes over a transactional id fences the previous owner and aborts its open
 * transaction — that is what makes "a dead worker's batch is sent again" free of duplicates.
 *
 * After a failed transaction the kafkajs producer is discarded: kafkajs cannot recover from some
 * failures (a failed EndTxn leaves it in COMMITTING for ever; a fenced or timed-out producer keeps
 * its stale epoch). The next transaction starts from a new producer whose InitProducerId, under the
 * same transactional id, aborts whatever the failed one left open.
 *
 * Each Produce request goes to one partition (the records are split by partition before, by
 * recordsBuilder.ts, as kafkajs's DefaultPartitioner would): within one `send`, kafkajs 2.2.4 sends one request per broker in
 * parallel and, when one of them fails with a retriable error (CONCURRENT_TRANSACTIONS, common
 * right after a commit), retries every broker without an answer yet — including one whose request
 * is still in flight, whose records are then written twice in the same transaction. So each `send`
 * holds one partition's records, and its retries cover that request only. The partitions are sent
 * side by side (one `send` chain per partition, its chunks in order): a transaction's produce phase
 * takes about one acks=all round trip instead of one per partition (kafkajs's per-broker lock
 * serialises two partitions of one leader).
 *
 * A failed EndTxn(commit) is ambiguous: the coordinator may have committed before the answer was
 * lost (its broker stopping, a timeout). The outcome is then read from the coordinator
 * (transactionState.ts) before anything else uses the id: committed counts as success, so the
 * batch is not sent twice.
 */
// First: swaps kafkajs internals for faster equivalents, which works only before kafkajs loads.
import { installKafkajsFastPaths } from './patches/produceFastPaths.js';
import './patches/consumerFixes.js'; // before kafkajs loads
import kafkajs, { type ICustomPartitioner, type Message, type Producer } from 'kafkajs';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createKafkaClient } from './client.js';
import { createFastDefaultPartitioner } from './patches/partitioning.js';
import { type EncodedRecords, toMessages } from './encodedRecords.js';
import { RecordBufferPool } from './recordBufferPool.js';
import { RecordsBuilder } from './recordsBuilder.js';
import { resolveCommitOutcome } from './wire/transactionState.js';

const { CompressionTypes } = kafkajs;

export type CompressionName = 'lz4' | 'gzip' | 'none';

const COMPRESSION = {
  lz4: CompressionTypes.LZ4,
  gzip: CompressionTypes.GZIP,
  none: CompressionTypes.None,
} as const;

export interface OutgoingMessage {
  key: string;
  value: string | Buffer;
}

/** A transaction's records by partition, each partition's in request order (recordsBuilder.ts). */
export type PartitionedRecords = readonly (readonly EncodedRecords[])[];

export interface RecordsHooks {
  beforeCommit?: () => void;
  beforePartition?: (partition: number) => Promise<void>;
  afterPartition?: (partition: number) => void;
}

export interface TransactionalProducer {
  readonly transactionalId: string;
  connect(): Promise<void>;
  /**
   * Sends the messages in one transaction and commits it; resolves once committed (acks all),
   * rejects when the transaction did not commit (it is aborted, at the latest by the next one).
   * `beforeCommit` runs when every message is acknowledged, right before EndTxn is sent.
   */
  sendInTransaction(
    topic: string,
    messages: readonly OutgoingMessage[],
    hooks?: { beforeCommit?: () => void },
  ): Promise<void>;
  /**
   * The same for records already written by partition (`recordsBuilder`, with `partitionCount(topic)`).
   * `beforePartition` is awaited before a partition's first request, `afterPartition` called once its last one
   * is answered (or failed): a caller keeps its transactions' records in order partition by partition.
   */
  sendRecordsInTransaction(topic: string, records: PartitionedRecords, hooks?: RecordsHooks): Promise<void>;
  /** The topic's partition count, as the records of the next transaction are to be split (asked once, cached). */
  partitionCount(topic: string): Promise<number>;
  /**
   * A builder of one transaction's records, split as this producer sends them, its buffers from the thread's pool:
   * `release` it once its records are sent.
   */
  recordsBuilder(partitions: number, expected?: { records: number; bytesPerRecord: number }): RecordsBuilder;
  disconnect(): Promise<void>;
}

export interface TransactionalProducerOptions {
  transactionalId: string;
  compression: CompressionName;
  /** Upper bound on how long a dead producer's open transaction blocks read_committed readers. */
  transactionTimeoutMs?: number;
}

/**
 * Messages per Produce request: a large transaction is sent in several requests, so that no
 * partition's record batch nears the broker's message.max.bytes (1 MB by default) even when the
 * topic has a single partition (about 90 bytes per LZ4-compressed event here, 350 uncompressed).
 */
export function messagesPerRequest(compression: CompressionName): number {
  return compression === 'none' ? 2_000 : 8_000;
}

/** The record buffers of this thread's transactions (recordBufferPool.ts), shared by its producers. */
const recordBuffers = new RecordBufferPool();

/** Partition counts per topic, shared by the producers of this thread (asked once, again after a failure). */
const partitionCounts = new Map<string, Promise<number>>();

export function createTransactionalProducer(
  config: Config,
  logger: Logger,
  options: TransactionalProducerOptions,
): TransactionalProducer {
  // Before the first Produce request of this thread: the encoder can still be swapped then.
  const fastPaths = installKafkajsFastPaths();
  const log = logger.child({ component: 'transactional-producer', transactional_id: options.transactionalId });
  const kafka = createKafkaClient(config, logger, { clientId: `${config.kafka.client_id}-${options.transactionalId}` });
  const compression = COMPRESSION[options.compression];
  const chunk = messagesPerRequest(options.compression);
  log.debug({ fast_paths: fastPaths }, 'kafkajs fast paths');
  // Records written in advance go through kafkajs as they are only where both produce patches run.
  const preEncoded = fastPaths.produceRequest === 'swapped' && fastPaths.groupMessagesPerPartition === 'swapped';
  const messagesOf = (records: EncodedRecords): Message[] =>
    preEncoded ? (records.asMessages() as unknown as Message[]) : toMessages(records);
  const builder = (partitions: number, expected?: { records: number; bytesPerRecord: number }): RecordsBuilder =>
    new RecordsBuilder({
      partitions,
      recordsPerRequest: chunk,
      pool: recordBuffers,
      ...(expected ? { expectedRecords: expected.records, bytesPerRecord: expected.bytesPerRecord } : {}),
    });

  function createProducer(): Producer {
    return kafka.producer({
      idempotent: true,
      // Idempotence orders batches by sequence number: one request in flight per connection.
      maxInFlightRequests: 1,
      transactionalId: options.transactionalId,
      transactionTimeout: options.transactionTimeoutMs ?? 15_000,
      allowAutoTopicCreation: false,
      // kafkajs's DefaultPartitioner (murmur2, as the Java client), without its allocations.
      createPartitioner: createFastDefaultPartitioner() as unknown as ICustomPartitioner,
      // A transaction's AddPartitionsToTxn gets CONCURRENT_TRANSACTIONS until the previous one's
      // markers are written (a few ms): retry fast. Bounded (about 15 s in all, enough for a
      // partition leader to move): a transaction that still fails is aborted and its batch sent
      // again in a new one.
      retry: { retries: 15, initialRetryTime: 5, maxRetryTime: 2_000 },
    });
  }

  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  function partitionsOf(topic: string): Promise<number> {
    const known = partitionCounts.get(topic);
    if (known !== undefined) return known;
    const asking = (async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const count = topics[0]?.partitions.length ?? 0;
        if (count === 0) throw new Error(`topic ${topic} has no partitions`);
        return count;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    })();
    partitionCounts.set(topic, asking);
    asking.catch(() => partitionCounts.delete(topic));
    return asking;
  }

  function connected(): Promise<Producer> {
    if (producer) return Promise.resolve(producer);
    connecting ??= (async () => {
      const fresh = createProducer();
      try {
        await fresh.connect();
        // kafkajs sends InitProducerId only at the first transaction: do it now, so that taking
        // over a transactional id fences the previous owner and aborts its open transaction at
        // once, not when (or if) this producer is next used.
        await (await fresh.transaction()).abort();
      } catch (err) {
        await fresh.disconnect().catch(() => undefined);
        throw err;
      } finally {
        connecting = undefined;
      }
      producer = fresh;
      return fresh;
    })();
    return connecting;
  }

  async function discard(broken: Producer): Promise<void> {
    if (producer === broken) producer = undefined;
    await broken.disconnect().catch(() => undefined);
  }

  async function sendRecords(topic: string, byPartition: PartitionedRecords, hooks?: RecordsHooks): Promise<void> {
    const current = await connected();
    let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
    let committing = false;
    try {
      const open = await current.transaction();
      transaction = open;
      const sends = byPartition.map(async (requests) => {
        const partition = requests[0]?.partition ?? -1;
        try {
          await hooks?.beforePartition?.(partition);
          for (const records of requests) {
            await open.send({ topic, compression, acks: -1, messages: messagesOf(records) });
          }
        } finally {
          hooks?.afterPartition?.(partition);
        }
      });
      // Every request answered before the transaction is committed or aborted: none left in flight.
      const sent = await Promise.allSettled(sends);
      const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      hooks?.beforeCommit?.();
      committing = true;
      await transaction.commit();
    } catch (err) {
      if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
      // The topic may have gained partitions.
      partitionCounts.delete(topic);
      await discard(current);
      let outcome: Awaited<ReturnType<typeof resolveCommitOutcome>> | undefined;
      if (committing) {
        // Before anything re-initialises the id: InitProducerId erases the answer.
        outcome = await resolveCommitOutcome(config, options.transactionalId);
        log.warn({ err, outcome }, 'the commit failed; its outcome, read from the transaction coordinator');
      } else {
        log.debug({ err }, 'transaction failed; the next one starts from a new producer');
      }
      // Re-initialise now rather than at this producer's next use: InitProducerId aborts what the
      // failed transaction left open, which otherwise holds back read_committed readers (the last
      // stable offset) until the transaction timeout. A failure here is retried at the next use.
      connected().catch(() => undefined);
      if (outcome === 'committed') return;
      throw err;
    }
  }

  return {
    transactionalId: options.transactionalId,
    connect: async () => {
      await connected();
    },
    async sendInTransaction(topic, messages, hooks) {
      const partitions = await partitionsOf(topic);
      const records = builder(partitions, { records: messages.length, bytesPerRecord: 512 });
      for (const m of messages) records.append(m.key, m.value);
      try {
        await sendRecords(topic, records.finish(), hooks);
      } finally {
        records.release();
      }
    },
    sendRecordsInTransaction: (topic, records, hooks) => sendRecords(topic, records, hooks),
    partitionCount: partitionsOf,
    recordsBuilder: builder,
    async disconnect() {
      const current = producer ?? (await connecting?.catch(() => undefined));
      producer = undefined;
      await current?.disconnect();
    },
  };
}
