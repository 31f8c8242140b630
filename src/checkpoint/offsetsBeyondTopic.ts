/**
 * A durable offset can never lie at or beyond its partition's log end offset: the record was read
 * before it was made durable. When one does, the topic was deleted and recreated (offsets restart
 * at 0) or truncated, and resuming would skip that many new records. Pure.
 */
import type { CheckpointState } from './checkpointState.js';

/** One line per (sink, partition) whose durable offset the topic does not reach; [] when consistent. */
export function offsetsBeyondTopic(state: CheckpointState, ends: ReadonlyMap<string, ReadonlyMap<number, bigint> | undefined>): string[] {
  const problems: string[] = [];
  for (const [sink, byPartition] of Object.entries(state.offsets)) {
    const topic = sink.replace(/^(raw|agg):/, '').replace(/:\d+$/, '');
    if (!ends.has(topic)) continue;
    const partitionEnds = ends.get(topic);
    for (const [partition, offset] of Object.entries(byPartition)) {
      const durable = BigInt(offset);
      if (durable < 0n) continue;
      const end = partitionEnds?.get(Number(partition));
      if (end === undefined) problems.push(`${sink} partition ${partition}: durable up to offset ${durable}, but topic ${topic} has no partition ${partition}`);
      else if (durable + 1n > end) problems.push(`${sink} partition ${partition}: durable up to offset ${durable}, but the topic ends at ${end}`);
    }
  }
  return problems;
}
