import kafkajs, { type Admin, type Producer } from 'kafkajs';
import { createKafkaClient } from '../../../src/kafka/client.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import type { Config } from '../../../src/config/schema.js';
import type { Logger } from '../../../src/log/logger.js';

const { CompressionTypes } = kafkajs;

/** One record the test writes, on a partition it chooses (so it knows every record's offset). */
export interface TestRecord {
  partition: number;
  key: string | null;
  /** null writes a tombstone. */
  value: string | Buffer | null;
  /** Kafka record timestamp (producer create time); default: now. */
  timestampMs?: number;
}

/** Where a record landed. */
export interface Placed {
  partition: number;
  offset: bigint;
}

/** Keeps one send well below the brokers' 1 MB message.max.bytes even before compression. */
const MAX_SEND_BYTES = 700_000;

/**
 * A plain idempotent producer (acks all, LZ4, one in flight): no duplicates on retry and no
 * transaction markers, so offsets are contiguous and each record's offset is known from the
 * produce response (base offset + position within its partition's batch).
 */
export class TestProducer {
  private readonly producer: Producer;

  constructor(config: Config, logger: Logger) {
    this.producer = createKafkaClient(config, logger, { clientId: 'sdp-test-producer' }).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Sends in order, in chunks; returns the placement of every record, index for index. */
  async send(topic: string, records: readonly TestRecord[]): Promise<Placed[]> {
    const placed: Placed[] = new Array<Placed>(records.length);
    let start = 0;
    while (start < records.length) {
      let end = start;
      let bytes = 0;
      while (end < records.length && (end === start || bytes < MAX_SEND_BYTES)) {
        const v = records[end]!.value;
        bytes += (v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length) + 64;
        end += 1;
      }
      const chunk = records.slice(start, end);
      const metadata = await this.producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.LZ4,
        messages: chunk.map((r) => ({
          partition: r.partition,
          key: r.key,
          value: r.value,
          ...(r.timestampMs !== undefined ? { timestamp: String(r.timestampMs) } : {}),
        })),
      });
      const base = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
      const next = new Map<number, bigint>();
      chunk.forEach((r, i) => {
        const b = base.get(r.partition);
        if (b === undefined || b < 0n)
          throw new Error(`no base offset for ${topic}[${r.partition}] in ${JSON.stringify(metadata)}`);
        const k = next.get(r.partition) ?? 0n;
        next.set(r.partition, k + 1n);
        placed[start + i] = { partition: r.partition, offset: b + k };
      });
      start = end;
    }
    return placed;
  }
}

export async function withAdmin<T>(config: Config, logger: Logger, op: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafkaClient(config, logger, { clientId: 'sdp-test-admin' }).admin();
  await admin.connect();
  try {
    return await op(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates config.topics.clickstream and config.topics.iot with kafka.partitions partitions; not the window stages'
 * internal topics (not wired yet), which a test would then have to delete too.
 */
export async function createTestTopics(config: Config, logger: Logger): Promise<void> {
  await createTopics(config, logger, { topics: [config.topics.clickstream, config.topics.iot] });
}

/**
 * Deletes the test's platform topics that exist: the input topics and, when the ETL made them (`etl.windows: members`),
 * its group's internal topics, so that a test leaves nothing on the shared cluster. Deleting a missing topic would
 * fail the whole request, so only listed ones are named.
 */
export async function deleteTestTopics(config: Config, logger: Logger): Promise<void> {
  await withAdmin(config, logger, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const topics = platformTopicNames(config).filter((t) => existing.has(t));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
}

/** partition → end offset (the high watermark: the offset the next record would get). */
export async function endOffsets(config: Config, logger: Logger, topic: string): Promise<Map<number, bigint>> {
  return withAdmin(config, logger, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  });
}

/** partition → the group's committed offset (-1 when none). */
export async function groupOffsets(
  config: Config,
  logger: Logger,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  return withAdmin(config, logger, async (admin) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  });
}
