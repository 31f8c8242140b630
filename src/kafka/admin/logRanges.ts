/** The log start and end offset of every partition of a topic (kafkajs admin, ListOffsets). */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { createKafkaClient } from '../client.js';
import { retryWhileLeadersMove } from './leaderMoves.js';

export async function fetchLogRanges(
  config: Config,
  logger: Logger,
  topic: string,
): Promise<Map<number, { start: string; end: string }>> {
  // A leader that just died is tried again on a fresh client until its partitions have moved (leaderMoves.ts).
  const options = { deadlineMs: config.kafka.unreachable_timeout, logger, what: `log ranges of ${topic}` };
  return retryWhileLeadersMove(options, async () => {
    const admin = createKafkaClient(config, logger, { clientId: `${config.kafka.client_id}-offset-guard` }).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, { start: o.low, end: o.high }]));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}
