/**
 * Per partition of a topic: its leader's address and its log start and end offsets (kafkajs admin:
 * Metadata, DescribeCluster, ListOffsets), within kafka.unreachable_timeout. For requests that
 * must go to the leader itself (the group-less fetches of `verify`, kafka/wire/).
 */
import type { Config } from '../../config/schema.js';
import type { Admin } from 'kafkajs';
import type { Logger } from '../../log/logger.js';
import { withAdminSession } from './adminSession.js';
import { leaderNotAvailable } from './leaderMoves.js';

export interface PartitionLog {
  partition: number;
  host: string;
  port: number;
  logStart: bigint;
  logEnd: bigint;
}

/** topic → its partitions; a topic that does not exist maps to undefined. */
export async function fetchPartitionLogs(
  config: Config,
  logger: Logger,
  topics: readonly string[],
): Promise<Map<string, PartitionLog[] | undefined>> {
  return withAdminSession(
    config,
    logger,
    { clientSuffix: 'verify', retries: 2, what: 'reading partition leaders and offsets' },
    (admin) => readPartitionLogs(admin, topics),
  );
}

/** `fetchPartitionLogs` inside a caller's admin session (one that retries a leader move: `leaderNotAvailable`). */
export async function readPartitionLogs(
  admin: Admin,
  topics: readonly string[],
): Promise<Map<string, PartitionLog[] | undefined>> {
  const existing = new Set(await admin.listTopics());
  const cluster = await admin.describeCluster();
  const out = new Map<string, PartitionLog[] | undefined>();
  for (const topic of topics) {
    if (!existing.has(topic)) {
      out.set(topic, undefined);
      continue;
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const offsets = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o]));
    const partitions: PartitionLog[] = [];
    for (const p of meta.topics[0]?.partitions ?? []) {
      const broker = cluster.brokers.find((b) => b.nodeId === p.leader);
      const o = offsets.get(p.partitionId);
      // No live leader (an election under way): the session tries again until there is one.
      if (!broker || !o)
        throw leaderNotAvailable(`the leader of ${topic}/${p.partitionId} (broker ${p.leader}) is not available`);
      partitions.push({
        partition: p.partitionId,
        host: broker.host,
        port: broker.port,
        logStart: BigInt(o.low),
        logEnd: BigInt(o.high),
      });
    }
    out.set(
      topic,
      partitions.sort((a, b) => a.partition - b.partition),
    );
  }
  return out;
}
