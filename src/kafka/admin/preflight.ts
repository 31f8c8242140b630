import type { Config } from '../../config/schema.js';
import { ErrorCodes, SdpError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { createKafkaClient } from '../client.js';
import { withKafkaDeadline } from '../reachability.js';

/**
 * Checks, before anything starts, that the cluster answers and the topics exist; reports an
 * unreachable cluster within kafka.unreachable_timeout instead of retrying for ever.
 */
export async function assertTopicsReady(config: Config, logger: Logger, topics: readonly string[]): Promise<void> {
  const kafka = createKafkaClient(config, logger, { retries: 2, level: 'error' });
  const admin = kafka.admin();
  try {
    const existing = await withKafkaDeadline(
      config.kafka.bootstrap_servers,
      config.kafka.unreachable_timeout,
      'connecting',
      async () => {
        await admin.connect();
        return admin.listTopics();
      },
      config,
    );
    const missing = topics.filter((t) => !existing.includes(t));
    if (missing.length > 0) {
      throw new SdpError(
        ErrorCodes.KAFKA_TOPIC_MISMATCH,
        `topic${missing.length > 1 ? 's' : ''} ${missing.join(', ')} do${missing.length > 1 ? '' : 'es'} not exist`,
        ['run `node dist/main.js topics create` first'],
      );
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
