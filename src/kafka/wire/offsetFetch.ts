/**
 * A consumer group's committed offsets and their metadata, read *stably*: a bare OffsetFetch v7
 * request with `require_stable = true` (KIP-447) to the group coordinator.
 *
 * Why not kafkajs's admin.fetchOffsets: it sends OffsetFetch v4 at most, which answers with the
 * previous offset while a transactional offset commit of the partition is still pending (the
 * old holder's transaction neither committed nor aborted yet). A new owner of a partition reads
 * the offset and the commit's metadata to know where its predecessor's last commit ended
 * (architecture.md, "Growing past one machine, and who rewrites a partition's files"): it must
 * get the outcome, not the state before it. With `require_stable` the coordinator answers
 * UNSTABLE_OFFSET_COMMIT (88) for such a partition instead, and this module asks again.
 *
 * Layout followed: Kafka's clients/src/main/resources/common/message/OffsetFetchRequest.json and
 * OffsetFetchResponse.json at version 7 (flexible since v6: request header v2, compact strings and
 * arrays, a tag buffer after each struct; v8 moved to a list of groups, which this does not use).
 *
 *   Request v7:  group_id COMPACT_STRING
 *                topics COMPACT_ARRAY [ name COMPACT_STRING, partition_indexes COMPACT_ARRAY[INT32], tags ]
 *                require_stable BOOLEAN, tags
 *   Response v7: throttle_time_ms INT32
 *                topics COMPACT_ARRAY [ name COMPACT_STRING,
 *                  partitions COMPACT_ARRAY [ partition_index INT32, committed_offset INT64,
 *                    committed_leader_epoch INT32, metadata COMPACT_NULLABLE_STRING, error_code INT16, tags ],
 *                  tags ]
 *                error_code INT16, tags
 */
import type { Config } from '../../config/schema.js';
import { ErrorCodes, SdpError } from '../../errors.js';
import { backoffDelayMs } from '../../system/backoff.js';
import { connectionSecurity } from '../security.js';
import { type Coordinator, CoordinatorType, FindCoordinatorError, findCoordinator } from './findCoordinator.js';
import { sendRequest, WireReader, WireWriter } from './wireProtocol.js';

export const OFFSET_FETCH_V7 = { key: 9, version: 7 } as const;
const CLIENT_ID = 'sdp-offset-fetch';

export const OffsetFetchErrors = {
  NONE: 0,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  UNSTABLE_OFFSET_COMMIT: 88,
} as const;

/** Names of the error codes an OffsetFetch may answer, for messages (Kafka's protocol error table). */
const ERROR_NAMES: Readonly<Record<number, string>> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION',
  14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE',
  16: 'NOT_COORDINATOR',
  24: 'INVALID_GROUP_ID',
  29: 'TOPIC_AUTHORIZATION_FAILED',
  30: 'GROUP_AUTHORIZATION_FAILED',
  35: 'UNSUPPORTED_VERSION',
  42: 'INVALID_REQUEST',
  69: 'GROUP_ID_NOT_FOUND',
  88: 'UNSTABLE_OFFSET_COMMIT',
};

export function kafkaErrorName(code: number): string {
  return `${ERROR_NAMES[code] ?? 'error'} (${code})`;
}

/** Errors that pass: the commit settles, the coordinator loads or moves. */
const RETRIABLE = new Set<number>([
  OffsetFetchErrors.COORDINATOR_LOAD_IN_PROGRESS,
  OffsetFetchErrors.COORDINATOR_NOT_AVAILABLE,
  OffsetFetchErrors.NOT_COORDINATOR,
  OffsetFetchErrors.UNSTABLE_OFFSET_COMMIT,
]);
/** Errors after which the coordinator is looked up again. */
const COORDINATOR_MOVED = new Set<number>([
  OffsetFetchErrors.COORDINATOR_NOT_AVAILABLE,
  OffsetFetchErrors.NOT_COORDINATOR,
]);

export interface OffsetFetchPartition {
  partition: number;
  /** -1n: nothing committed. */
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
  errorCode: number;
}

export interface OffsetFetchResponse {
  throttleTimeMs: number;
  topics: Array<{ name: string; partitions: OffsetFetchPartition[] }>;
  /** Group-level error (v2+). */
  errorCode: number;
}

/** The body of an OffsetFetch v7 request (after the request header) for one topic's partitions. */
export function encodeOffsetFetchRequest(groupId: string, topic: string, partitions: readonly number[]): Buffer {
  const w = new WireWriter().compactString(groupId);
  w.uvarint(2); // one topic (compact array: length + 1)
  w.compactString(topic);
  w.uvarint(partitions.length + 1);
  for (const p of partitions) w.int32(p);
  w.uvarint(0); // topic tags
  w.int8(1); // require_stable
  w.uvarint(0); // request tags
  return w.buffer();
}

/** An OffsetFetch v7 response body (after the response header and its tags). */
export function decodeOffsetFetchResponse(body: Buffer | WireReader): OffsetFetchResponse {
  const r = body instanceof WireReader ? body : new WireReader(body);
  const throttleTimeMs = r.int32();
  const topicCount = r.uvarint() - 1;
  const topics: OffsetFetchResponse['topics'] = [];
  for (let t = 0; t < topicCount; t++) {
    const name = r.compactString();
    const partitionCount = r.uvarint() - 1;
    const partitions: OffsetFetchPartition[] = [];
    for (let i = 0; i < partitionCount; i++) {
      const partition = r.int32();
      const offset = r.int64();
      const leaderEpoch = r.int32();
      const metadata = r.compactNullableString();
      const errorCode = r.int16();
      r.skipTags();
      partitions.push({ partition, offset, leaderEpoch, metadata, errorCode });
    }
    r.skipTags();
    topics.push({ name, partitions });
  }
  const errorCode = r.int16();
  r.skipTags();
  return { throttleTimeMs, topics, errorCode };
}

export interface StableOffset {
  /** The next offset to read; -1n: none committed. */
  offset: bigint;
  metadata: string | null;
}

export interface FetchStableOffsetsOptions {
  /** Give up after this long (default kafka.request_timeout). */
  timeoutMs?: number;
}

const BACKOFF_BASE_MS = 20;
const MIN_ATTEMPT_MS = 20;
const BACKOFF_MAX_MS = 500;

/**
 * The committed offset and metadata of each of `partitions` of `topic` in `groupId`, as the group
 * coordinator holds them once no transactional commit of theirs is pending. Retries
 * UNSTABLE_OFFSET_COMMIT, a coordinator that loads or moved (found again) and a connection that
 * fails, with back-off, until the timeout; then rejects naming the group, topic, partitions and the
 * last error. Any other error code rejects at once, named.
 */
export async function fetchStableOffsets(
  config: Config,
  groupId: string,
  topic: string,
  partitions: readonly number[],
  options: FetchStableOffsetsOptions = {},
): Promise<Map<number, StableOffset>> {
  const timeoutMs = options.timeoutMs ?? config.kafka.request_timeout;
  const deadline = Date.now() + timeoutMs;
  const results = new Map<number, StableOffset>();
  let pending = [...new Set(partitions)];
  let coordinator: Coordinator | undefined;
  let lastError = '';
  const where = (ps: readonly number[]) => `group ${groupId}, topic ${topic}, partition ${ps.join(', ')}`;
  const fail = (message: string, retriable: boolean, cause?: unknown) =>
    new SdpError(ErrorCodes.KAFKA_OFFSET_FETCH_FAILED, message, [], { cause, retriable });

  for (let attempt = 1; pending.length > 0; attempt++) {
    const remaining = deadline - Date.now();
    // An attempt with a few ms left cannot be answered: its timeout would only replace the last real error (seen:
    // "no answer within 1 ms" where the pending commit's UNSTABLE_OFFSET_COMMIT was the answer).
    if (remaining < MIN_ATTEMPT_MS)
      throw fail(
        `OffsetFetch (require_stable) of ${where(pending)}: no answer within ${timeoutMs} ms; last: ${lastError}`,
        true,
      );
    const requestTimeoutMs = Math.max(1, Math.min(remaining, config.kafka.request_timeout));
    try {
      coordinator ??= await findCoordinator(config, groupId, CoordinatorType.GROUP, {
        timeoutMs: requestTimeoutMs,
        clientId: CLIENT_ID,
      });
      const reader = await sendRequest(
        coordinator.host,
        coordinator.port,
        OFFSET_FETCH_V7,
        encodeOffsetFetchRequest(groupId, topic, pending),
        { timeoutMs: requestTimeoutMs, clientId: CLIENT_ID, flexible: true, security: connectionSecurity(config) },
      );
      const response = decodeOffsetFetchResponse(reader);
      const retry = new Set<number>();
      if (response.errorCode !== 0) {
        if (!RETRIABLE.has(response.errorCode))
          throw fail(`OffsetFetch of ${where(pending)}: ${kafkaErrorName(response.errorCode)}`, false);
        if (COORDINATOR_MOVED.has(response.errorCode)) coordinator = undefined;
        lastError = kafkaErrorName(response.errorCode);
        for (const p of pending) retry.add(p);
      } else {
        const answered = new Map(
          response.topics.filter((t) => t.name === topic).flatMap((t) => t.partitions.map((p) => [p.partition, p])),
        );
        for (const p of pending) {
          const answer = answered.get(p);
          if (answer === undefined)
            throw fail(`OffsetFetch of ${where([p])}: the coordinator did not answer it`, false);
          if (answer.errorCode === 0) {
            results.set(p, { offset: answer.offset, metadata: answer.metadata });
            continue;
          }
          if (!RETRIABLE.has(answer.errorCode))
            throw fail(`OffsetFetch of ${where([p])}: ${kafkaErrorName(answer.errorCode)}`, false);
          if (COORDINATOR_MOVED.has(answer.errorCode)) coordinator = undefined;
          lastError = `${kafkaErrorName(answer.errorCode)} for partition ${p}`;
          retry.add(p);
        }
      }
      pending = pending.filter((p) => retry.has(p));
    } catch (err) {
      if (err instanceof SdpError) throw err;
      if ((err as { code?: unknown }).code === 'SASL_AUTHENTICATION_FAILED')
        throw fail(`OffsetFetch of ${where(pending)}: ${(err as Error).message}`, false, err);
      if (err instanceof FindCoordinatorError && !RETRIABLE.has(err.errorCode))
        throw fail(`OffsetFetch of ${where(pending)}: FindCoordinator ${kafkaErrorName(err.errorCode)}`, false, err);
      // The coordinator's broker stopped, or the connection failed: find the coordinator again.
      coordinator = undefined;
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (pending.length === 0) break;
    const wait = Math.min(backoffDelayMs(attempt, BACKOFF_BASE_MS, BACKOFF_MAX_MS), Math.max(0, deadline - Date.now()));
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return new Map(partitions.map((p) => [p, results.get(p)!]));
}
