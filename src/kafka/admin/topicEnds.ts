/**
 * Log end offsets of topics (the offset the next record will get), per partition, through the
 * admin API, within kafka.unreachable_timeout. Used by `data stats` (lag).
 */
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { createKafkaClient } from '../client.js';
import { withKafkaDeadline } from '../reachability.js';

/** topic → partition → log end offset; a topic that does not exist maps to undefined. */
export type TopicEnds = Map<string, Map<number, bigint> | undefined>;

export async function fetchTopicEnds(config: Config, logger: Logger, topics: readonly string[]): Promise<TopicEnds> {
  // The SdpError thrown on failure says it better than kafkajs's retry lines (kept for debug).
  const kafkajsLogger = logger.isLevelEnabled('debug') ? logger : logger.child({}, { level: 'fatal' });
  const admin = createKafkaClient(config, kafkajsLogger, {
    clientId: `${config.kafka.client_id}-admin`,
    retries: 2,
    level: 'error',
  }).admin();
  try {
    return await withKafkaDeadline(
      config.kafka.bootstrap_servers,
      config.kafka.unreachable_timeout,
      'reading log end offsets',
      async () => {
        await admin.connect();
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
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
