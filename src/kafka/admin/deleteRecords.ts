/**
 * DeleteRecords (kafkajs admin) for some partitions of a topic: each partition's log start moves to the offset given,
 * and the records below it are deleted (the window stage's purge of its repartition topic: architecture.md, "Windows
 * across members"). A short admin session per call: one every `etl.repartition_purge_interval` costs a connection,
 * and a client that lives only as long as its request cannot be left half-connected by a broker that died in between
 * (the session waits out a leader move within kafka.unreachable_timeout). Safe to run twice: the same offsets again
 * delete nothing more.
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { withAdminSession } from './adminSession.js';

export async function deleteRecordsBefore(
  config: Config,
  logger: Logger,
  topic: string,
  targets: ReadonlyArray<{ partition: number; offset: bigint }>,
): Promise<void> {
  if (targets.length === 0) return;
  await withAdminSession(
    config,
    logger,
    { clientSuffix: 'purge', retries: 2, what: `deleting the consumed records of ${topic}` },
    async (admin) => {
      // kafkajs's deleteTopicRecords looks the leaders up in metadata it does not load itself.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({
        topic,
        partitions: targets.map((t) => ({ partition: t.partition, offset: t.offset.toString() })),
      });
    },
  );
}
