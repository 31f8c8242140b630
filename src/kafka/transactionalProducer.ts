/**
 * A transactional kafkajs producer: every batch is sent in its own transaction, so a batch is
 * either entirely visible to read_committed consumers or not at all. A producer that takes over
 * a transactional id fences the previous owner and aborts its open transaction — that is what
 * makes "a dead worker's batch is sent again" free of duplicates.
 */
import kafkajs, { type Message, type Producer } from 'kafkajs';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createKafkaClient } from './client.js';

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
  const kafka = createKafkaClient(config, logger, { clientId: `${config.kafka.client_id}-${options.transactionalId}` });
  const producer: Producer = kafka.producer({
    idempotent: true,
    // Idempotence orders batches by sequence number: one request in flight per connection.
    maxInFlightRequests: 1,
    transactionalId: options.transactionalId,
    transactionTimeout: options.transactionTimeoutMs ?? 15_000,
    allowAutoTopicCreation: false,
    // The next transaction's AddPartitionsToTxn gets CONCURRENT_TRANSACTIONS until the previous
    // one's markers are written (a few ms): retry fast, as the Java client does. Bounded: a
    // transaction that still fails is aborted and its batch sent again in a new one.
    retry: { retries: 12, initialRetryTime: 20, maxRetryTime: 2_000 },
  });
  const compression = COMPRESSION[options.compression];

  return {
    transactionalId: options.transactionalId,
    connect: () => producer.connect(),
    async sendInTransaction(topic, messages, hooks) {
      const transaction = await producer.transaction();
      try {
        await transaction.send({ topic, compression, acks: -1, messages: messages as Message[] });
        hooks?.beforeCommit?.();
        await transaction.commit();
      } catch (err) {
        if (transaction.isActive()) await transaction.abort().catch(() => undefined);
        throw err;
      }
    },
    disconnect: () => producer.disconnect(),
  };
}
