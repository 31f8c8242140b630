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
 */
import kafkajs, { type Message, type Producer } from 'kafkajs';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createKafkaClient } from './client.js';
import { installFastRecordBatch } from './fastRecordBatch.js';

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

export interface TransactionalProducer {
  readonly transactionalId: string;
  connect(): Promise<void>;
  /** Sends the messages in one transaction and commits it; resolves once committed (acks all). */
  sendInTransaction(topic: string, messages: readonly OutgoingMessage[], hooks?: { beforeCommit?: () => void }): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TransactionalProducerOptions {
  transactionalId: string;
  compression: CompressionName;
  /** Upper bound on how long a dead producer's open transaction blocks read_committed readers. */
  transactionTimeoutMs?: number;
}

export function createTransactionalProducer(config: Config, logger: Logger, options: TransactionalProducerOptions): TransactionalProducer {
  // Before the first Produce request of this thread; falls back to kafkajs's encoder by itself.
  installFastRecordBatch();
  const log = logger.child({ component: 'transactional-producer', transactional_id: options.transactionalId });
  const kafka = createKafkaClient(config, logger, { clientId: `${config.kafka.client_id}-${options.transactionalId}` });
  const compression = COMPRESSION[options.compression];

  function createProducer(): Producer {
    return kafka.producer({
      idempotent: true,
      // Idempotence orders batches by sequence number: one request in flight per connection.
      maxInFlightRequests: 1,
      transactionalId: options.transactionalId,
      transactionTimeout: options.transactionTimeoutMs ?? 15_000,
      allowAutoTopicCreation: false,
      // A transaction's AddPartitionsToTxn gets CONCURRENT_TRANSACTIONS until the previous one's
      // markers are written (a few ms): retry fast. Bounded (about 15 s in all, enough for a
      // partition leader to move): a transaction that still fails is aborted and its batch sent
      // again in a new one.
      retry: { retries: 15, initialRetryTime: 5, maxRetryTime: 2_000 },
    });
  }

  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  function connected(): Promise<Producer> {
    if (producer) return Promise.resolve(producer);
    connecting ??= (async () => {
      const fresh = createProducer();
      try {
        await fresh.connect();
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

  return {
    transactionalId: options.transactionalId,
    connect: async () => {
      await connected();
    },
    async sendInTransaction(topic, messages, hooks) {
      const current = await connected();
      let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
      try {
        transaction = await current.transaction();
        await transaction.send({ topic, compression, acks: -1, messages: messages as Message[] });
        hooks?.beforeCommit?.();
        await transaction.commit();
      } catch (err) {
        if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
        log.debug({ err }, 'transaction failed; the next one starts from a new producer');
        await discard(current);
        throw err;
      }
    },
    async disconnect() {
      const current = producer ?? (await connecting?.catch(() => undefined));
      producer = undefined;
      await current?.disconnect();
    },
  };
}
