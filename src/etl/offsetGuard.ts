/**
 * Before a topic is read: its checkpointed offsets must lie inside its partitions' logs, and the
 * topic must be the one the checkpoints were taken on (same topic id). Applies offsetRange.ts's
 * rule with the log offsets and topic id read from Kafka; a stop is an SdpError
 * (SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE) that names topic, partition, checkpointed offset, log start
 * and end. Skips chosen by `etl.on_offset_out_of_range` are logged and counted.
 */
import {
  sinkOffset,
  startOffset,
  NO_OFFSET,
  type CheckpointState,
  type SinkId,
} from '../checkpoint/checkpointState.js';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { fetchLogRanges } from '../kafka/admin/logRanges.js';
import { fetchTopicId } from '../kafka/wire/topicId.js';
import type { Logger } from '../log/logger.js';
import {
  decideOutOfRange,
  describeOutOfRange,
  findOutOfRange,
  type LogRange,
  type OffsetOutOfRangePolicy,
  type PartitionCheckpoint,
} from './offsetRange.js';

/** Where the checkpoint store keeps the topic id its checkpoints belong to. */
export interface TopicIdStore {
  topicId(topic: string): string | undefined;
  recordTopicId(topic: string, topicId: string): void;
}

/** Offsets skipped by choice (`earliest`/`latest`) since the process started: `topic` → partition → count. */
const skippedTotal = new Map<string, Map<number, number>>();

export function countSkippedOffsets(topic: string, partition: number, offsets: bigint): void {
  const byPartition = skippedTotal.get(topic) ?? new Map<number, number>();
  skippedTotal.set(topic, byPartition);
  byPartition.set(partition, (byPartition.get(partition) ?? 0) + Number(offsets));
}

export function offsetsSkippedTotal(): Array<{ topic: string; partition: number; offsets: number }> {
  return [...skippedTotal].flatMap(([topic, m]) =>
    [...m].map(([partition, offsets]) => ({ topic, partition, offsets })),
  );
}

/** Every partition of `topic` that some sink has checkpointed, with where it resumes and the furthest sink. */
export function checkpointedPartitions(
  checkpoint: CheckpointState,
  sinksOf: (partition: number) => SinkId[],
): Map<number, PartitionCheckpoint> {
  const partitions = new Set<number>();
  for (const [sink, offsets] of Object.entries(checkpoint.offsets)) {
    for (const p of Object.keys(offsets)) if (sinksOf(Number(p)).includes(sink)) partitions.add(Number(p));
  }
  const result = new Map<number, PartitionCheckpoint>();
  for (const partition of partitions) {
    const sinks = sinksOf(partition);
    let highest = -1n;
    for (const sink of sinks) {
      const offset = sinkOffset(checkpoint, sink, partition);
      if (offset !== NO_OFFSET && BigInt(offset) > highest) highest = BigInt(offset);
    }
    if (highest < 0n) continue;
    // A sink with nothing yet resumes from the log start: that is where `next` points then.
    result.set(partition, { next: startOffset(checkpoint, sinks, partition), highest: (highest + 1n).toString() });
  }
  return result;
}

export interface OffsetGuardOptions {
  config: Config;
  logger: Logger;
  topic: string;
  checkpoint: CheckpointState;
  sinksOf: (partition: number) => SinkId[];
  topicIds?: TopicIdStore;
  /** Test seams: how log ranges and the topic id are read. */
  fetchRanges?: (topic: string) => Promise<Map<number, LogRange>>;
  fetchId?: (topic: string) => Promise<string | null>;
}

/** Checks `topic`; returns the start offsets that `earliest`/`latest` moved, or throws. */
export async function guardCheckpointedOffsets(o: OffsetGuardOptions): Promise<Map<number, string>> {
  const log = o.logger.child({ component: 'offset-guard', topic: o.topic });
  const policy: OffsetOutOfRangePolicy = o.config.etl.on_offset_out_of_range;
  const [ranges, currentId] = await Promise.all([
    (o.fetchRanges ?? ((t) => fetchLogRanges(o.config, o.logger, t)))(o.topic),
    (o.fetchId ?? ((t) => fetchTopicId(o.config, t)))(o.topic),
  ]);
  const checkpoints = checkpointedPartitions(o.checkpoint, o.sinksOf);
  const recordedId = o.topicIds?.topicId(o.topic);
  const outOfRange = findOutOfRange(o.topic, checkpoints, ranges);

  if (recordedId !== undefined && currentId !== null && recordedId !== currentId && checkpoints.size > 0) {
    throw new SdpError(
      ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE,
      `topic ${o.topic} was deleted and recreated (topic id ${recordedId} when checkpointed, ${currentId} now): its checkpoints belong to the old topic; use new storage roots for the new topic`,
      outOfRange.map(describeOutOfRange),
    );
  }
  const failures: string[] = [];
  const overrides = new Map<number, string>();
  for (const o2 of outOfRange) {
    const decision = decideOutOfRange(o2, policy);
    if (decision.action === 'fail') {
      failures.push(decision.reason);
      continue;
    }
    overrides.set(o2.partition, decision.start);
    countSkippedOffsets(o2.topic, o2.partition, decision.skipped);
    log.warn(
      {
        partition: o2.partition,
        checkpointed_offset: o2.checkpointed,
        log_start: o2.logStart,
        log_end: o2.logEnd,
        resume_offset: decision.start,
        offsets_skipped: Number(decision.skipped),
        policy,
      },
      'checkpointed offset out of range: offsets skipped as etl.on_offset_out_of_range says',
    );
  }
  if (failures.length > 0) {
    for (const reason of failures) log.error({ policy }, reason);
    throw new SdpError(
      ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE,
      failures.length === 1
        ? failures[0]!
        : `${failures.length} partitions of ${o.topic} have checkpointed offsets outside their logs`,
      failures.length === 1 ? [] : failures,
    );
  }
  if (currentId !== null && recordedId !== currentId) {
    o.topicIds?.recordTopicId(o.topic, currentId);
    log.info({ topic_id: currentId }, 'topic id recorded with the checkpoints');
  }
  return overrides;
}
