/**
 * Log end offsets of topics (the offset the next record will get), per partition, through the
 * admin API, within kafka.unreachable_timeout. Used by `data stats` (lag).
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { withAdminSession } from './adminSession.js';

/** topic → partition → log end offset; a topic that does not exist maps to undefined. */
export type TopicEnds = Map<string, Map<number, bigint> | undefined>;

export async function fetchTopicEnds(config: Config, logger: Logger, topics: readonly string[]): Promise<TopicEnds> {
  return withAdminSession(
    config,
    logger,
    { clientSuffix: 'admin', retries: 2, what: 'reading log end offsets' },
    async (admin) => {
      const existing = new Set(await admin.listTopics());
      const ends: TopicEnds = new Map();
      for (const topic of topics) {
        if (!existing.has(topic)) {
          ends.set(topic, undefined);
          continue;
        }
        const offsets = await admin.fetchTopicOffsets(topic);
        ends.set(topic, new Map(offsets.map((o) => [o.partition, BigInt(o.high)])));
      }
      return ends;
    },
  );
}
