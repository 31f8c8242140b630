/**
 * One short admin session: a quiet admin client connected, `op` run within a deadline
 * (kafka.unreachable_timeout unless given), the client always disconnected, so a command never lingers on
 * kafkajs's retry timers. A Kafka that does not answer in time is SdpError(KAFKA_UNREACHABLE); a certificate
 * problem ends the wait at once (kafka/reachability.ts).
 */
import type { Admin } from 'kafkajs';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { createKafkaClient } from '../client.js';
import { withKafkaDeadline } from '../reachability.js';

export interface AdminSession {
  /** Appended to kafka.client_id (`<client_id>-<clientSuffix>`), so the brokers' logs tell the callers apart. */
  clientSuffix: string;
  retries: number;
  /** What the deadline's error says did not succeed ("reading log end offsets"). */
  what: string;
  timeoutMs?: number;
}

export async function withAdminSession<T>(
  config: Config,
  logger: Logger,
  session: AdminSession,
  op: (admin: Admin) => Promise<T>,
): Promise<T> {
  // The SdpError thrown on failure says it better than kafkajs's retry lines (kept for debug).
  const kafkajsLogger = logger.isLevelEnabled('debug') ? logger : logger.child({}, { level: 'fatal' });
  const admin = createKafkaClient(config, kafkajsLogger, {
    clientId: `${config.kafka.client_id}-${session.clientSuffix}`,
    retries: session.retries,
    level: 'error',
  }).admin();
  try {
    return await withKafkaDeadline(
      config.kafka.bootstrap_servers,
      session.timeoutMs ?? config.kafka.unreachable_timeout,
      session.what,
      async () => {
        await admin.connect();
        return op(admin);
      },
      config,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
