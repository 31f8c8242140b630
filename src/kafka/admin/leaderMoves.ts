/**
 * Requests that go to a partition's leader or a group's coordinator (ListOffsets, DescribeGroups) while a broker has
 * just died (architecture.md, "A broker that just died"): kafkajs's admin gives up at once on a connection error
 * there, and its cached metadata keeps naming the dead broker. Until the controller notices (the brokers' session
 * timeout, about 9 s) the fresh metadata names it too; then the replicas in sync lead. So such a request is tried
 * again on a fresh client (fresh metadata), with back-off, until the deadline; only then is its error the answer.
 * Every short admin session does so (adminSession.ts); the topic commands' admin (topics.ts) and the ingest's
 * long-lived one (topicConsumer.ts) call `retryWhileLeadersMove` themselves.
 */
import type { Logger } from '../../log/logger.js';

export interface LeaderMoveRetry {
  /** How long to keep trying, from the first attempt (kafka.unreachable_timeout). */
  deadlineMs: number;
  logger: Logger;
  /** What is being read, for the log line ("log ranges of sdp-clickstream"). */
  what: string;
  /** Which failures are a leader moving (default `isLeaderMove`): a caller that wraps kafkajs's errors says. */
  isRetriable?: (err: unknown) => boolean;
  /** Tests: a clock and a sleep of their own. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2_000;

const WRAPPERS = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSNonRetriableError']);
const GONE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
  // Every live broker answered FindCoordinator with "not available": the group's coordinator was on the dead broker.
  'KafkaJSGroupCoordinatorNotFound',
]);
const MOVING = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/**
 * A leader or group coordinator that is gone or moving: a connection refused or dropped, no coordinator found, or
 * the broker saying it no longer leads. kafkajs wraps the last error of its own retries; the cause tells.
 */
export function isLeaderMove(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { type?: string };
  if (WRAPPERS.has(e.name)) return e.cause !== err && isLeaderMove(e.cause);
  return GONE.has(e.name) || (e.type !== undefined && MOVING.has(e.type));
}

/**
 * A partition whose metadata names no live leader (an election under way, or its in-sync replicas all gone): the
 * error a caller throws for it, known to `isLeaderMove` as kafkajs's own LEADER_NOT_AVAILABLE.
 */
export function leaderNotAvailable(message: string): Error {
  return Object.assign(new Error(message), { type: 'LEADER_NOT_AVAILABLE' });
}

/**
 * `attempt(n)` (n = 0, 1, …; from 1 on the caller uses a fresh client) until it succeeds, fails otherwise than by a
 * leader move, or the deadline passes.
 */
export async function retryWhileLeadersMove<T>(
  options: LeaderMoveRetry,
  attempt: (n: number) => Promise<T>,
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const retriable = options.isRetriable ?? isLeaderMove;
  const deadline = now() + options.deadlineMs;
  let backoffMs = FIRST_BACKOFF_MS;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const left = deadline - now();
      if (!retriable(err) || left <= 0) throw err;
      if (n === 0)
        options.logger.warn(
          { what: options.what, err: (err as Error).message, retry_for_ms: options.deadlineMs },
          'a partition leader is not reachable: trying again while the cluster moves its leadership',
        );
      await sleep(Math.min(backoffMs, left));
      backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
    }
  }
}
