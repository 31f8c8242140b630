/**
 * Reads the latest snapshot of a stage-2 window task from the compacted `<group>-pv-state` (architecture.md, "Windows
 * across members"): partition r from its log start to the high watermark seen when the read began, read_committed, the
 * value of the last record with the task's key. No consumer group: a group-less Fetch to the leader
 * (wire/partitionFetch.ts), as the Kafka browser reads.
 *
 * The caller reads after its takeover fenced the previous holder of r's transactional id (InitProducerId aborts an open
 * transaction before it answers), so no transaction of r's writer is open below that high watermark: the last stable
 * offset reaches it, and the value read is the one the last committed transaction wrote with the committed offset.
 * The log is compacted, so it holds the latest snapshot per key plus the uncompacted tail of older ones; the whole
 * partition is read, the newest value kept.
 */
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelayMs } from '../system/backoff.js';
import { withAdminSession } from './admin/adminSession.js';
import { leaderNotAvailable } from './admin/leaderMoves.js';
import { connectionSecurity } from './security.js';
import { fetchPartitionRecords } from './wire/partitionFetch.js';

export interface StateTopicReadOptions {
  /** Give up after this long (default kafka.request_timeout). */
  timeoutMs?: number;
  /** Bytes asked per fetch (default 1 MiB; a larger record batch still comes whole). */
  maxBytes?: number;
}

export interface StateTopicRead {
  /** The last value of the key; null if the partition holds none (or its last record is a tombstone). */
  value: Buffer | null;
  /** Offset of that record; null if there is none. */
  offset: bigint | null;
  /** The partition's high watermark at the read's first fetch: everything below it was read. */
  endOffset: bigint;
  /** Committed data records read, of every key. */
  recordsRead: number;
}

/** The leader's address and the log start (ListOffsets; its "end" would be the last stable offset). */
interface PartitionLog {
  host: string;
  port: number;
  logStart: bigint;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const BACKOFF_BASE_MS = 20;
const BACKOFF_MAX_MS = 500;

async function partitionLog(config: Config, logger: Logger, topic: string, partition: number): Promise<PartitionLog> {
  return withAdminSession(
    config,
    logger,
    { clientSuffix: 'state-read', retries: 2, what: `reading the leader of ${topic}/${partition}` },
    async (admin) => {
      const [metadata, cluster, offsets] = await Promise.all([
        admin.fetchTopicMetadata({ topics: [topic] }),
        admin.describeCluster(),
        admin.fetchTopicOffsets(topic),
      ]);
      const meta = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition);
      const o = offsets.find((x) => x.partition === partition);
      if (!meta || !o)
        throw new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic ${topic} has no partition ${partition}`);
      const broker = cluster.brokers.find((b) => b.nodeId === meta.leader);
      // No live leader (an election under way): the session tries again until there is one.
      if (!broker)
        throw leaderNotAvailable(`the leader of ${topic}/${partition} (broker ${meta.leader}) is not available`);
      return { host: broker.host, port: broker.port, logStart: BigInt(o.low) };
    },
  );
}

/**
 * The value of the last committed record with `key` in `topic`/`partition`. Retries a fetch that fails (a leader that
 * moved, a log start that moved) and waits while a transaction below the end is still open, until the timeout.
 * @throws SdpError KAFKA_TOPIC_MISSING (no such partition), KAFKA_STATE_READ_FAILED (no complete read in time).
 */
export async function readLatestState(
  config: Config,
  logger: Logger,
  topic: string,
  partition: number,
  key: string,
  options: StateTopicReadOptions = {},
): Promise<StateTopicRead> {
  const timeoutMs = options.timeoutMs ?? config.kafka.request_timeout;
  const deadline = Date.now() + timeoutMs;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const security = connectionSecurity(config);
  const wanted = Buffer.from(key, 'utf8');
  let log = await partitionLog(config, logger, topic, partition);
  // The high watermark of the first answer: kafkajs's admin asks ListOffsets read_committed, whose end is the last
  // stable offset, which would stop the read before a transaction still open instead of waiting for its outcome.
  let endOffset: bigint | undefined;
  let from = log.logStart;
  let value: Buffer | null = null;
  let offset: bigint | null = null;
  let recordsRead = 0;
  let lastProblem = '';

  // Gives up rather than wait into the deadline: a fetch left with a millisecond would only hide the reason.
  const wait = async (attempt: number): Promise<void> => {
    const ms = backoffDelayMs(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
    if (Date.now() + ms >= deadline)
      throw new SdpError(
        ErrorCodes.KAFKA_STATE_READ_FAILED,
        `could not read ${topic}/${partition} to offset ${endOffset ?? '?'} within ${timeoutMs} ms ` +
          `(stopped at ${from}): ${lastProblem}`,
        [],
        { retriable: true },
      );
    await new Promise((resolve) => setTimeout(resolve, ms));
  };

  for (let attempt = 1; endOffset === undefined || from < endOffset; ) {
    let result: Awaited<ReturnType<typeof fetchPartitionRecords>>;
    try {
      result = await fetchPartitionRecords({
        host: log.host,
        port: log.port,
        topic,
        partition,
        fetchOffset: from,
        maxBytes,
        timeoutMs: Math.max(1, Math.min(deadline - Date.now(), config.kafka.request_timeout)),
        clientId: `${config.kafka.client_id}-state-read`,
        security,
        isolation: 'read_committed',
      });
    } catch (err) {
      // A leader that moved, or a log start that moved past `from` (records below it are gone, as compaction meant).
      lastProblem = err instanceof Error ? err.message : String(err);
      await wait(attempt++);
      log = await partitionLog(config, logger, topic, partition);
      if (log.logStart > from) from = log.logStart;
      continue;
    }
    endOffset ??= result.highWatermark;
    for (const record of result.records) {
      if (BigInt(record.offset) >= endOffset) break;
      recordsRead += 1;
      if (record.key !== null && wanted.equals(record.key)) {
        value = record.value;
        offset = BigInt(record.offset);
      }
    }
    if (result.nextOffset > from) {
      from = result.nextOffset;
      attempt = 1;
      continue;
    }
    // Nothing at or after `from` below the end: compacted away, or above the last stable offset (a transaction the
    // fence's abort markers have not settled yet).
    if (result.lastStableOffset >= endOffset || result.highWatermark <= from) break;
    lastProblem = `a transaction is still open at offset ${result.lastStableOffset}`;
    await wait(attempt++);
  }
  return { value, offset, endOffset: endOffset ?? from, recordsRead };
}
