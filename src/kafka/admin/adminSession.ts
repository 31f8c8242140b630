/**
 * One short admin session: a quiet admin client connected, `op` run within a deadline
 * (kafka.unreachable_timeout unless given), the client always disconnected, so a command never lingers on
 * kafkajs's retry timers. A Kafka that does not answer in time is SdpError(KAFKA_UNREACHABLE); a certificate
 * problem ends the wait at once (kafka/reachability.ts).
 *
 * A broker that just died (architecture.md, "A broker that just died") fails `op` where it asks a partition's leader
 * or a group's coordinator that the metadata still names: such a failure (leaderMoves.ts `isLeaderMove`) runs `op`
 * again on a fresh client, with back-off, until the leadership has moved or the deadline has passed. Only a failure
 * of `op` is tried again: not reaching the cluster at all (`connect`) is the answer at once, as is any other error
 * of `op`. `op` must therefore be safe to run twice: every user reads, but for deleteRecords.ts, whose DeleteRecords
 * to the same offsets deletes nothing more.
 */
import type { Admin } from 'kafkajs';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { createKafkaClient } from '../client.js';
import { withKafkaDeadline } from '../reachability.js';
import { scrubSecret } from '../security.js';
import { isLeaderMove, retryWhileLeadersMove } from './leaderMoves.js';

export interface AdminSession {
  /** Appended to kafka.client_id (`<client_id>-<clientSuffix>`), so the brokers' logs tell the callers apart. */
  clientSuffix: string;
  retries: number;
  /** What the deadline's error says did not succeed ("reading log end offsets"). */
  what: string;
  timeoutMs?: number;
  /** Tests: the admin client of each attempt (default: a quiet kafkajs admin client). */
  newAdmin?: () => Admin;
}

/** A failure of `op` itself, once the client had connected: the only kind a leader move can be. */
class OpFailure extends Error {
  constructor(readonly failure: unknown) {
    super('admin operation failed');
  }
}

const RETRY_DEADLINE_SLACK_MS = 1_000;

export async function withAdminSession<T>(
  config: Config,
  logger: Logger,
  session: AdminSession,
  op: (admin: Admin) => Promise<T>,
): Promise<T> {
  const timeoutMs = session.timeoutMs ?? config.kafka.unreachable_timeout;
  const newAdmin = session.newAdmin ?? (() => quietAdmin(config, logger, session));
  const open = new Set<Admin>();
  let ended = false;
  let lastMove: unknown;

  const attempt = async (): Promise<T> => {
    // The deadline has answered while this attempt waited its back-off: no client is made after the session.
    if (ended) throw new Error('the admin session has ended');
    const admin = newAdmin();
    open.add(admin);
    try {
      await admin.connect();
      try {
        return await op(admin);
      } catch (err) {
        throw new OpFailure(err);
      }
    } finally {
      open.delete(admin);
      await admin.disconnect().catch(() => undefined);
    }
  };
  const leaderMoved = (err: unknown): boolean => {
    const moved = !ended && err instanceof OpFailure && isLeaderMove(err.failure);
    if (moved) lastMove = (err as OpFailure).failure;
    return moved;
  };
  // Said by the deadline's error when the leadership never moved (a partition whose only in-sync replica died).
  const stillFailing = (): string | undefined =>
    lastMove === undefined
      ? undefined
      : `a partition leader or group coordinator stayed unreachable: ${scrubSecret(reasonOf(lastMove), config)}`;

  try {
    return await withKafkaDeadline(
      config.kafka.bootstrap_servers,
      timeoutMs,
      session.what,
      async () => {
        try {
          return await retryWhileLeadersMove(
            // Past the session's own deadline: that one answers, naming the leader that never moved. With the same
            // deadline the retries' last back-off and the session's timer raced, and the op's raw error could win.
            { deadlineMs: timeoutMs + RETRY_DEADLINE_SLACK_MS, logger, what: session.what, isRetriable: leaderMoved },
            attempt,
          );
        } catch (err) {
          // `op`'s own error, reported as before the retry existed (withKafkaDeadline words it).
          throw err instanceof OpFailure ? err.failure : err;
        }
      },
      config,
      stillFailing,
    );
  } finally {
    ended = true;
    // An attempt still running when the deadline answered.
    await Promise.all([...open].map((admin) => admin.disconnect().catch(() => undefined)));
  }
}

function quietAdmin(config: Config, logger: Logger, session: AdminSession): Admin {
  // The SdpError thrown on failure says it better than kafkajs's retry lines (kept for debug).
  const kafkajsLogger = logger.isLevelEnabled('debug') ? logger : logger.child({}, { level: 'fatal' });
  return createKafkaClient(config, kafkajsLogger, {
    clientId: `${config.kafka.client_id}-${session.clientSuffix}`,
    retries: session.retries,
    level: 'error',
  }).admin();
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
