/**
 * Log start and end offsets of topics (the end: the offset the next record will get), per partition, through the
 * admin API, within kafka.unreachable_timeout. Used by `data stats` (lag, and what the internal topics hold).
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { withAdminSession } from './adminSession.js';

/** topic → partition → log start and end offsets; a topic that does not exist maps to undefined. */
export type TopicRanges = Map<string, Map<number, { start: bigint; end: bigint }> | undefined>;

export async function fetchTopicRanges(
  config: Config,
  logger: Logger,
  topics: readonly string[],
): Promise<TopicRanges> {
  return withAdminSession(
    config,
    logger,
    { clientSuffix: 'admin', retries: 2, what: 'reading log end offsets' },
    async (admin) => {
      const existing = new Set(await admin.listTopics());
      const ranges: TopicRanges = new Map();
      for (const topic of topics) {
        if (!existing.has(topic)) {
          ranges.set(topic, undefined);
          continue;
        }
        const offsets = await admin.fetchTopicOffsets(topic);
        ranges.set(topic, new Map(offsets.map((o) => [o.partition, { start: BigInt(o.low), end: BigInt(o.high) }])));
      }
      return ranges;
    },
  );
}
