/**
 * Where the stage-2 window tasks of a consumer group stand, as Kafka holds it (architecture.md, "Windows across
 * members"): the latest committed snapshot of every repartition partition r in `<group>-pv-state`, read as a new owner
 * of r reads it (kafka/stateTopicReader.ts). A snapshot is committed in one transaction with r's offset and the
 * `clickstream_agg` files of the windows it closed, so what it says has been applied is also emitted.
 */
import type { Config } from '../../../src/config/schema.js';
import { readLatestState } from '../../../src/kafka/stateTopicReader.js';
import type { Logger } from '../../../src/log/logger.js';
import { restore, stateKey, stateTopicName, type Stage2State } from '../../../src/windows/stage2Windows.js';
import { endOffsets } from './kafkaTestData.js';

/** Task r's committed state; null: r has committed nothing yet. */
export interface WindowTaskInKafka {
  partition: number;
  state: Stage2State | null;
}

export async function readWindowTasks(config: Config, logger: Logger, group: string): Promise<WindowTaskInKafka[]> {
  const topic = stateTopicName(group);
  const partitions = [...(await endOffsets(config, logger, topic)).keys()].sort((a, b) => a - b);
  return Promise.all(
    partitions.map(async (partition) => {
      const { value } = await readLatestState(config, logger, topic, partition, stateKey(partition));
      return { partition, state: value === null ? null : restore(value) };
    }),
  );
}

/**
 * Why the tasks may still emit windows the input implies; empty once every task has applied, and committed, every
 * clickstream partition's last mark: idle, through the partition's end. Stage 1 sends nothing after that (a mark is
 * sent only when it would say something new), so no task can close another window until more input comes, and every
 * task has closed the same windows: those the same global watermark allows.
 */
export function windowTasksStillMoving(
  tasks: readonly WindowTaskInKafka[],
  clickstreamEnds: ReadonlyMap<number, bigint>,
): string[] {
  const reasons: string[] = [];
  for (const { partition: r, state } of tasks) {
    if (state === null) {
      reasons.push(`task ${r}: nothing committed`);
      continue;
    }
    for (const [p, end] of clickstreamEnds) {
      const mark = state.sources.get(p);
      if (mark === undefined) reasons.push(`task ${r}: no mark of clickstream partition ${p}`);
      else if (end > 0n && (mark.throughOffset === null || mark.throughOffset + 1n < end))
        reasons.push(`task ${r}: clickstream partition ${p} through ${mark.throughOffset ?? 'nothing'} of ${end - 1n}`);
      else if (!mark.idle) reasons.push(`task ${r}: clickstream partition ${p} not idle yet`);
    }
  }
  return reasons;
}
