/**
 * The transactional producer of one partition task: every commit of an input partition is one
 * Kafka transaction under the partition's stable transactional id `<group>-<topic>-<p>` — its
 * records, then its consumed offset with the commit's metadata sent to the consumer group
 * (sendOffsets), then EndTxn (architecture.md, "Growing past one machine, and who rewrites a
 * partition's files").
 *
 * kafkajs 2.2.4 sends TxnOffsetCommit v0/v1 only (no KIP-447 group metadata), so the producer
 * epoch of the stable id is the only fence: `takeOver()` runs InitProducerId under the id, which
 * bumps the epoch (every earlier holder is fenced) and aborts whatever transaction it left open.
 * Its metadata reaches the broker although kafkajs's TS type omits it: TxnOffsetCommit's request
 * encodes each partition's `metadata` as a nullable string.
 *
 * After any failure the kafkajs producer is discarded, as in transactionalProducer.ts: kafkajs has
 * no KIP-360 recovery (a fenced or timed-out producer keeps its stale epoch, a failed EndTxn leaves
 * it in COMMITTING for ever). A fenced instance is dead: it never contacts Kafka again. Any other
 * failure needs `takeOver()` again before the next commit; an EndTxn whose answer was lost is not
 * resolved here — the next takeover's stable offset fetch (wire/offsetFetch.ts) reads the committed
 * offset and metadata, which tell whether it committed.
 */
// First: swaps kafkajs internals for faster equivalents, which works only before kafkajs loads.
import { installKafkajsFastPaths } from './patches/produceFastPaths.js';
import './patches/consumerFixes.js'; // before kafkajs loads
import { installKafkajsCoordinatorCache } from './patches/coordinatorCache.js';
import kafkajs, { type Message, type Producer, type Transaction } from 'kafkajs';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelayMs } from '../system/backoff.js';
import { createKafkaClient } from './client.js';
import { type CompressionName, messagesPerRequest } from './transactionalProducer.js';

const { CompressionTypes, Partitioners } = kafkajs;

const COMPRESSION = {
  lz4: CompressionTypes.LZ4,
  gzip: CompressionTypes.GZIP,
  none: CompressionTypes.None,
} as const;

export interface TaskRecord {
  topic: string;
  partition: number;
  key: string | null;
  value: Buffer | string;
}

export interface TaskOffset {
  topic: string;
  partition: number;
  /** The next offset to read. */
  offset: bigint;
  metadata: string;
}

export interface PartitionTransactions {
  readonly transactionalId: string;
  /**
   * New kafkajs producer, connect = InitProducerId under the id: fences every earlier holder, aborts
   * its open transaction. Rejects as fenced on a fenced instance (make a new one).
   */
  takeOver(): Promise<void>;
  /** One transaction: the records (explicit partitions), sendOffsets(groupId, offsets with metadata), commit. */
  commit(records: readonly TaskRecord[], offsets: readonly TaskOffset[]): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionTransactionsOptions {
  transactionalId: string;
  /** The consumer group the offsets are committed to. */
  groupId: string;
  compression?: CompressionName;
  /** The coordinator aborts a transaction left open this long (a holder that died mid-commit). */
  transactionTimeoutMs?: number;
}

/**
 * Kafka's names for "another producer took this transactional id" (or the coordinator bumped its
 * epoch when the transaction timed out): kafkajs 2.2.4 knows INVALID_PRODUCER_EPOCH (47), which is
 * what the broker answers to its request versions; PRODUCER_FENCED (90) is unknown to it and would
 * come as KAFKAJS_UNKNOWN_ERROR_CODE "Unknown error code 90".
 */
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const FENCED_CODES = new Set([47, 90]);

interface KafkaErrorLike {
  type?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
}

/** kafkajs wraps protocol errors (retries exceeded, non-retriable, aggregate): every error in the chain. */
function errorChain(err: unknown): KafkaErrorLike[] {
  const seen = new Set<unknown>();
  const out: KafkaErrorLike[] = [];
  const visit = (e: unknown): void => {
    if (typeof e !== 'object' || e === null || seen.has(e)) return;
    seen.add(e);
    const k = e as KafkaErrorLike;
    out.push(k);
    visit(k.cause);
    visit(k.originalError);
    if (Array.isArray(k.errors)) for (const inner of k.errors) visit(inner);
  };
  visit(err);
  return out;
}

/** Whether a kafkajs error says the producer's epoch is no longer the id's. */
export function isFencedKafkaError(err: unknown): boolean {
  return errorChain(err).some(
    (e) =>
      (typeof e.type === 'string' && FENCED_TYPES.has(e.type)) ||
      (typeof e.code === 'number' && FENCED_CODES.has(e.code)) ||
      (typeof e.message === 'string' && /^Unknown error code 90$/.test(e.message)),
  );
}

/** The first Kafka error type in kafkajs's chain (e.g. OFFSET_METADATA_TOO_LARGE) with its message. */
function kafkaReason(err: unknown): string {
  const chain = errorChain(err);
  const protocol = chain.find((e) => typeof e.type === 'string');
  if (protocol) return `${String(protocol.type)}: ${String(protocol.message)}`;
  const last = chain.at(-1);
  return last && typeof last.message === 'string' ? last.message : String(err);
}

/** The broker said another holder took the transactional id: the partition is no longer this instance's. */
export function isFenced(err: unknown): boolean {
  return err instanceof SdpError && err.code === ErrorCodes.KAFKA_TRANSACTION_FENCED;
}

/** Said once per process: every commit then costs two or three more round trips (patches/coordinatorCache.ts). */
let coordinatorCacheWarned = false;

type State = 'new' | 'ready' | 'needs-takeover' | 'fenced' | 'closed';
type Phase = 'begin' | 'produce' | 'send-offsets' | 'end-txn';

export function createPartitionTransactions(
  config: Config,
  logger: Logger,
  options: PartitionTransactionsOptions,
): PartitionTransactions {
  // Before the first Produce request of this thread: the encoder can still be swapped then.
  installKafkajsFastPaths();
  const { transactionalId, groupId } = options;
  const log = logger.child({ component: 'partition-transactions', transactional_id: transactionalId });
  const coordinators = installKafkajsCoordinatorCache();
  if (coordinators.state !== 'active' && !coordinatorCacheWarned) {
    coordinatorCacheWarned = true;
    log.warn({ reason: coordinators.reason }, 'coordinator cache not in force: a FindCoordinator before each request');
  }
  const kafka = createKafkaClient(config, logger, { clientId: `${config.kafka.client_id}-${transactionalId}` });
  const compression = COMPRESSION[options.compression ?? 'lz4'];
  const chunk = messagesPerRequest(options.compression ?? 'lz4');

  let state: State = 'new';
  let producer: Producer | undefined;
  let busy = false;
  let fencedReason = '';

  function createProducer(): Producer {
    return kafka.producer({
      idempotent: true,
      // Idempotence orders batches by sequence number: one request in flight per connection.
      maxInFlightRequests: 1,
      transactionalId,
      transactionTimeout: options.transactionTimeoutMs ?? 60_000,
      allowAutoTopicCreation: false,
      // Every record names its partition: the partitioner is never asked (set to silence kafkajs's warning).
      createPartitioner: Partitioners.DefaultPartitioner,
      // CONCURRENT_TRANSACTIONS right after a commit (markers still being written): retry fast.
      // Bounded, as in transactionalProducer.ts: a commit that still fails is aborted.
      retry: { retries: 15, initialRetryTime: 5, maxRetryTime: 2_000 },
    });
  }

  function fencedError(): SdpError {
    return new SdpError(
      ErrorCodes.KAFKA_TRANSACTION_FENCED,
      `transactional id ${transactionalId} was taken by another holder: this instance never commits again`,
      fencedReason ? [fencedReason] : [],
      { retriable: false },
    );
  }

  /** Rejects a call the instance's state forbids, without contacting Kafka. */
  function refusal(call: 'takeOver' | 'commit'): SdpError | undefined {
    if (state === 'fenced') return fencedError();
    if (state === 'closed')
      return new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, `${call} of ${transactionalId} after close()`);
    if (busy)
      return new SdpError(
        ErrorCodes.KAFKA_TRANSACTION_FAILED,
        `${call} of ${transactionalId} while a takeOver or commit is under way: one at a time`,
      );
    if (call === 'commit' && state !== 'ready')
      return new SdpError(
        ErrorCodes.KAFKA_TRANSACTION_FAILED,
        `commit of ${transactionalId} needs takeOver() first${state === 'needs-takeover' ? ' (the last one failed)' : ''}`,
        [],
        { retriable: true },
      );
    return undefined;
  }

  async function discard(): Promise<void> {
    const old = producer;
    producer = undefined;
    await old?.disconnect().catch(() => undefined);
  }

  return {
    transactionalId,

    async takeOver() {
      const refused = refusal('takeOver');
      if (refused) throw refused;
      busy = true;
      try {
        await discard();
        const fresh = createProducer();
        try {
          await fresh.connect();
          // kafkajs sends InitProducerId only at its first transaction: begin and abort an empty
          // one now (no EndTxn is sent for it), so that the fence and the abort of the previous
          // holder's open transaction happen here, before the caller reads the committed offset.
          await (await fresh.transaction()).abort();
        } catch (err) {
          await fresh.disconnect().catch(() => undefined);
          throw err;
        }
        producer = fresh;
        state = 'ready';
        log.info('took over the transactional id (earlier holders fenced, their open transaction aborted)');
      } catch (err) {
        state = 'needs-takeover';
        log.warn({ err }, 'takeover failed');
        throw new SdpError(
          ErrorCodes.KAFKA_TRANSACTION_FAILED,
          `takeover of transactional id ${transactionalId} failed: ${kafkaReason(err)}`,
          [],
          { cause: err, retriable: true },
        );
      } finally {
        busy = false;
      }
    },

    async commit(records, offsets) {
      const refused = refusal('commit');
      if (refused) throw refused;
      busy = true;
      const current = producer!;
      let transaction: Transaction | undefined;
      let phase = 'begin' as Phase; // moved on by mark(), which narrowing does not follow
      const startedMs = performance.now();
      const phaseMs: Partial<Record<Phase, number>> = {};
      const mark = (next: Phase): void => {
        phaseMs[phase] = Math.round(performance.now() - startedMs);
        phase = next;
      };
      try {
        transaction = await current.transaction();
        const open = transaction;
        mark('produce');
        // One `send` per partition (see transactionalProducer.ts: kafkajs retries every request of
        // a multi-broker send, in-flight ones included, which would write them twice), partitions
        // side by side, each one's chunks in order.
        const sends = [...byPartition(records).values()].map(async ({ topic, messages }) => {
          for (let start = 0; start < messages.length; start += chunk) {
            await open.send({ topic, compression, acks: -1, messages: messages.slice(start, start + chunk) });
          }
        });
        // Every request answered before the transaction ends: none left in flight.
        const sent = await Promise.allSettled(sends);
        const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        if (offsets.length > 0) {
          mark('send-offsets');
          await sendOffsets(open, groupId, offsetTopics(offsets));
        }
        mark('end-txn');
        await open.commit();
        mark('end-txn');
        for (const o of offsets)
          log.debug(
            {
              topic: o.topic,
              partition: o.partition,
              offset: Number(o.offset),
              records: records.length,
              // Milliseconds from the start of the commit to the end of each phase.
              phase_ms: phaseMs,
            },
            'committed',
          );
      } catch (err) {
        const fenced = isFencedKafkaError(err);
        // A fenced holder's transaction was aborted by the new holder's InitProducerId; its epoch
        // could not end it anyway.
        if (!fenced && transaction?.isActive()) await transaction.abort().catch(() => undefined);
        await discard();
        const first = offsets[0];
        const fields = {
          err,
          phase,
          fenced,
          records: records.length,
          ...(first ? { topic: first.topic, partition: first.partition, offset: Number(first.offset) } : {}),
        };
        if (fenced) {
          state = 'fenced';
          fencedReason = kafkaReason(err);
          log.warn(fields, 'fenced: another holder took the transactional id; this instance never commits again');
          throw Object.assign(fencedError(), { cause: err });
        }
        state = 'needs-takeover';
        log.warn(fields, 'commit failed; the next commit needs a takeover');
        const outcome =
          phase === 'end-txn'
            ? 'its EndTxn may or may not have committed: the next takeover reads the committed offset and metadata'
            : 'not committed (aborted, at the latest by the next takeover)';
        throw new SdpError(
          ErrorCodes.KAFKA_TRANSACTION_FAILED,
          `commit of transactional id ${transactionalId} failed at ${phase}: ${kafkaReason(err)}; ${outcome}`,
          offsets.map((o) => `${o.topic} partition ${o.partition}: offset ${o.offset}`),
          { cause: err, retriable: true },
        );
      } finally {
        busy = false;
      }
    },

    async close() {
      if (state !== 'fenced') state = 'closed';
      await discard();
    },
  };
}

const CONCURRENT_RETRY_LIMIT_MS = 10_000;

/**
 * sendOffsets, again while the coordinator answers CONCURRENT_TRANSACTIONS: kafkajs retries it for
 * AddPartitionsToTxn (within `send`) but not for AddOffsetsToTxn, which gets it right after the
 * previous commit until that one's markers are written (a few ms). The transaction is still open
 * then (AddOffsetsToTxn failed before anything changed), so the call is simply repeated.
 */
async function sendOffsets(
  transaction: Transaction,
  groupId: string,
  topics: ReturnType<typeof offsetTopics>,
): Promise<void> {
  const deadline = Date.now() + CONCURRENT_RETRY_LIMIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await transaction.sendOffsets({ consumerGroupId: groupId, topics });
      return;
    } catch (err) {
      const concurrent = errorChain(err).some((e) => e.type === 'CONCURRENT_TRANSACTIONS');
      if (!concurrent || !transaction.isActive() || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, backoffDelayMs(attempt, 5, 200)));
    }
  }
}

/** Records grouped by topic and partition, in their order. */
function byPartition(records: readonly TaskRecord[]): Map<string, { topic: string; messages: Message[] }> {
  const groups = new Map<string, { topic: string; messages: Message[] }>();
  for (const r of records) {
    const id = `${r.partition}:${r.topic}`;
    let group = groups.get(id);
    if (!group) {
      group = { topic: r.topic, messages: [] };
      groups.set(id, group);
    }
    group.messages.push({ key: r.key, value: r.value, partition: r.partition });
  }
  return groups;
}

/** sendOffsets's shape; kafkajs's type omits `metadata`, which its TxnOffsetCommit encoder sends. */
function offsetTopics(
  offsets: readonly TaskOffset[],
): Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string }> }> {
  const topics = new Map<string, Array<{ partition: number; offset: string; metadata: string }>>();
  for (const o of offsets) {
    const partitions = topics.get(o.topic) ?? [];
    partitions.push({ partition: o.partition, offset: o.offset.toString(), metadata: o.metadata });
    topics.set(o.topic, partitions);
  }
  return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
}
