/**
 * The log start and end offset of every partition of a topic (kafkajs admin, ListOffsets), for the offset check at
 * start (architecture.md, "Offsets never silently jump"). A leader that just died is waited out by the session.
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { withAdminSession } from './adminSession.js';

export async function fetchLogRanges(
  config: Config,
  logger: Logger,
  topic: string,
): Promise<Map<number, { start: string; end: string }>> {
  return withAdminSession(
    config,
    logger,
    { clientSuffix: 'offset-guard', retries: 2, what: `reading the log ranges of ${topic}` },
    async (admin) => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { start: o.low, end: o.high }]));
    },
  );
}
