/**
 * One consumer-group member for one topic (kafkajs behind this interface). It owns no state about
 * what has been processed: the caller pauses what it takes over, says where each partition starts
 * (`seek`) and gets batches. It commits no offsets: each roll's Kafka transaction does
 * (architecture.md, "Growing past one machine").
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { createKafkaClient } from './client.js';
import { areLeanRecords } from './patches/fetchRecordDecoder.js';
import { retryWhileLeadersMove } from './admin/leaderMoves.js';
import { assertKafkajsConsumerFixes } from './patches/consumerFixes.js';
import { installKafkajsFetchFastPaths } from './patches/fetchFastPaths.js';
import { subscriptionAwareAssigner } from './subscriptionAwareAssigner.js';

/** fetchRecordDecoder.ts's LeanRecord is one (offset a getter over a number): no copy per record. */
export interface ConsumedMessage {
  readonly offset: string;
  /** null for a tombstone. */
  readonly value: Buffer | null;
  readonly key: Buffer | null;
  /** The record's timestamp (producer create time), epoch ms. */
  readonly timestampMs: number;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** The offset this fetch started at: where the consumer's position was. */
  fetchedOffset: string;
  /** The last offset covered, control records included: the next fetch starts after it. */
  lastOffset: string;
  highWatermark: string;
  /** The batch reached the end of the partition (nothing more to read right now). */
  caughtUp: boolean;
  messages: ConsumedMessage[];
}

/** End of a batch that held only transaction markers or aborted records (no messages). */
export interface PartitionProgress {
  partition: number;
  lastOffset: string;
  caughtUp: boolean;
}

export interface TopicConsumerHandlers {
  /**
   * Called on every (re)join with the partitions now assigned; returns the offset each starts at
   * (the consumer seeks there before fetching). Partitions no longer assigned are listed too.
   */
  onAssignment(assigned: number[], revoked: number[]): Map<number, string>;
  /** Processes one batch; the next batch of that partition waits for it. */
  onBatch(batch: ConsumedBatch): Promise<void>;
  onProgress(progress: PartitionProgress): void;
  onCrash(error: Error, willRestart: boolean): void;
}

export interface TopicConsumer {
  readonly topic: string;
  start(handlers: TopicConsumerHandlers): Promise<void>;
  pause(partition: number): void;
  resume(partition: number): void;
  /** The next fetch of the partition starts at `offset` (after a takeover, while it is paused). */
  seek(partition: number, offset: string): void;
  /** The high watermark (next offset to be written) of every partition of the topic. */
  endOffsets(): Promise<Map<number, string>>;
  /** Pauses everything and waits until no batch is being handled. */
  quiesce(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface TopicConsumerOptions {
  topic: string;
  groupId: string;
  /** Partitions handled concurrently (each one's batches stay in order). */
  concurrency: number;
}

let fixesLogged = false;

/** The records of a fetch as handed on: lean records as they are, kafkajs's own copied. */
export function toConsumedMessages(messages: EachBatchPayload['batch']['messages']): ConsumedMessage[] {
  if (areLeanRecords(messages)) return messages as unknown as ConsumedMessage[];
  return messages.map((m) => ({
    offset: m.offset,
    value: m.value,
    key: m.key ?? null,
    timestampMs: Number(m.timestamp),
  }));
}

/** How old the consumer's cluster metadata may get: bounds how late a new partition is consumed. */
export const METADATA_MAX_AGE_MS = 5_000;

export function createTopicConsumer(config: Config, logger: Logger, options: TopicConsumerOptions): TopicConsumer {
  // Without the corrected filter, read_committed leaks aborted records: refuse to consume.
  const fixes = assertKafkajsConsumerFixes();
  if (!fixesLogged) {
    fixesLogged = true;
    logger.info(
      { component: 'kafka', kafkajs_version: fixes.kafkajsVersion, aborted_record_filter: 'java-client-semantics' },
      'kafkajs aborted-record filter replaced',
    );
    // A speed-up: without it kafkajs decodes the fetches itself, correctly but slower.
    const lean = installKafkajsFetchFastPaths();
    const fields = {
      component: 'kafka',
      fetch_decoder: lean.decodeMessages,
      fetch_batch: lean.batch,
      ...(lean.reason ? { reason: lean.reason } : {}),
    };
    if (lean.decodeMessages === 'swapped' && lean.batch === 'swapped')
      logger.info(fields, 'lean fetch decoding in use');
    else logger.warn(fields, 'lean fetch decoding not in use: kafkajs decodes fetches (slower)');
  }
  const kafka = createKafkaClient(config, logger, { clientId: `${config.kafka.client_id}-etl-${options.topic}` });
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    partitionAssigners: [subscriptionAwareAssigner],
    readUncommitted: false,
    maxWaitTimeInMs: 250,
    maxBytesPerPartition: config.etl.fetch_max_bytes_per_partition,
    // One fetch response per broker holds at most this; kafkajs fetches again once it is processed.
    maxBytes: config.etl.fetch_max_bytes_per_partition * config.kafka.partitions * 2,
    // A member that died (kill -9) holds the partitions until this passes: keep restarts short.
    sessionTimeout: 10_000,
    // kafkajs learns of a rebalance at its next heartbeat: a member joining (or the window stage's consumer beside
    // the ingests at start) pauses the others' reading about this long, not kafkajs's default 3 s.
    heartbeatInterval: 250,
    allowAutoTopicCreation: false,
    // Partitions added while running (kafka-topics --alter) are seen at the next metadata refresh,
    // and kafkajs then rejoins the group to get them: seconds, not kafkajs's default 5 minutes.
    metadataMaxAge: METADATA_MAX_AGE_MS,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  let admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const connectedAdmin = async (): Promise<typeof admin> => {
    adminConnected ??= admin.connect().catch((err: unknown) => {
      adminConnected = undefined; // the next call tries again
      throw err;
    });
    await adminConnected;
    return admin;
  };
  /** A new admin client, whose metadata is fresh; the old one is disconnected. */
  const renewAdmin = async (): Promise<void> => {
    const stale = admin;
    admin = kafka.admin();
    adminConnected = undefined;
    await stale.disconnect().catch(() => undefined);
  };
  const { topic } = options;
  let assigned = new Set<number>();
  let memberId: string | undefined;
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];
  let quiescing = false;

  const settle = (): void => {
    if (inFlight === 0) {
      for (const w of idleWaiters) w();
      idleWaiters = [];
    }
  };

  return {
    topic,
    async start(handlers) {
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        if (memberId !== undefined && event.payload.memberId !== memberId && assigned.size > 0) {
          // A new member id: the coordinator forgot this member (a session that timed out, a process frozen) and
          // other members may have owned its partitions meanwhile. Everything it had is revoked, so each partition
          // it gets now is taken over afresh (architecture.md, "Growing past one machine").
          handlers.onAssignment(
            [],
            [...assigned].sort((a, b) => a - b),
          );
          assigned = new Set();
        }
        memberId = event.payload.memberId;
        const now = new Set(event.payload.memberAssignment[topic] ?? []);
        const revoked = [...assigned].filter((p) => !now.has(p));
        assigned = now;
        const starts = handlers.onAssignment(
          [...now].sort((a, b) => a - b),
          revoked,
        );
        // Seeking inside the join event, before the first fetch, so no batch from Kafka's own
        // committed position (which lags our checkpoints) is ever delivered.
        for (const [partition, offset] of starts) consumer.seek({ topic, partition, offset });
      });
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { partition, lastOffset, offsetLag, batchSize } = event.payload;
        if (batchSize === 0) handlers.onProgress({ partition, lastOffset, caughtUp: offsetLag === '0' });
      });
      consumer.on(consumer.events.CRASH, (event) => {
        handlers.onCrash(event.payload.error, event.payload.restart);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: options.concurrency,
        eachBatch: async ({ batch, isStale }: EachBatchPayload) => {
          if (isStale() || quiescing) return;
          inFlight += 1;
          try {
            await handlers.onBatch({
              topic,
              partition: batch.partition,
              // kafkajs keeps the fetch position on the batch but does not type it.
              fetchedOffset: String((batch as unknown as { fetchedOffset: string }).fetchedOffset),
              lastOffset: batch.lastOffset(),
              highWatermark: batch.highWatermark,
              caughtUp: batch.offsetLag() === '0',
              messages: toConsumedMessages(batch.messages),
            });
          } finally {
            inFlight -= 1;
            settle();
          }
        },
      });
    },
    pause(partition) {
      consumer.pause([{ topic, partitions: [partition] }]);
    },
    resume(partition) {
      if (!quiescing) consumer.resume([{ topic, partitions: [partition] }]);
    },
    seek(partition, offset) {
      consumer.seek({ topic, partition, offset });
    },
    async endOffsets() {
      // A leader that just died: tried again on a fresh admin client until its partitions moved (leaderMoves.ts). The
      // consumer's admin lives as long as it does, so this is no short admin session (adminSession.ts).
      const retry = { deadlineMs: config.kafka.unreachable_timeout, logger, what: `end offsets of ${topic}` };
      return retryWhileLeadersMove(retry, async (attempt) => {
        if (attempt > 0) await renewAdmin();
        const current = await connectedAdmin();
        const [metadata, offsets] = await Promise.all([
          current.fetchTopicMetadata({ topics: [topic] }),
          current.fetchTopicOffsets(topic),
        ]);
        const partitionCount = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? offsets.length;
        if (partitionCount <= offsets.length) return new Map(offsets.map((o) => [o.partition, o.high]));
        // Partitions were added: kafkajs's admin keeps its cached metadata for minutes (no
        // metadataMaxAge option), so a fresh admin client reads the offsets of all of them.
        await renewAdmin();
        const all = await (await connectedAdmin()).fetchTopicOffsets(topic);
        return new Map(all.map((o) => [o.partition, o.high]));
      });
    },
    async quiesce() {
      quiescing = true;
      if (assigned.size > 0) consumer.pause([{ topic, partitions: [...assigned] }]);
      if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    async disconnect() {
      await consumer.disconnect();
      if (adminConnected) await admin.disconnect().catch(() => undefined);
    },
  };
}
