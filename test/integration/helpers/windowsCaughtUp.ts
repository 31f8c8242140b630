/**
 * "Every window the input implies is emitted and committed", for the mode the test's ETL runs in (architecture.md,
 * "Windows across members"):
 * - `etl.windows: process`: the window aggregator's offsets in the checkpoint store are at every clickstream
 *   partition's end (the store's `agg` checkpoints, read independently by checkpointJournal.ts);
 * - `etl.windows: members`: every stage-2 task's committed snapshot in `<group>-pv-state` holds every clickstream
 *   partition's last mark, idle (windowTasksInKafka.ts). Stricter than the process check: it also waits for the idle
 *   marks, which process mode leaves to the test's settling.
 */
import type { Config } from '../../../src/config/schema.js';
import type { Logger } from '../../../src/log/logger.js';
import { readJournal } from './checkpointJournal.js';
import { readWindowTasks, windowTasksStillMoving } from './windowTasksInKafka.js';
import { windowsModeOf } from './loadTestConfig.js';

export interface WindowsCaughtUpInput {
  /** The ETL's config: `etl.windows` says where to look, `etl.consumer_group` whose tasks (members). */
  config: Config;
  logger: Logger;
  checkpointRoot: string;
  /** End offsets of the clickstream topic (as `endOffsets` reports them) that the windows must have consumed. */
  clickstreamEnds: ReadonlyMap<number, bigint>;
  /** The group whose window tasks ran (members); `config.etl.consumer_group` unless the ETL ran in another. */
  group?: string;
}

/** Why not every window is emitted and committed yet; empty once they are. */
export async function windowsNotCaughtUp(input: WindowsCaughtUpInput): Promise<string[]> {
  const { config, clickstreamEnds } = input;
  if (windowsModeOf(config) === 'members') {
    try {
      const tasks = await readWindowTasks(config, input.logger, input.group ?? config.etl.consumer_group);
      if (tasks.length === 0) return ['no window task state partitions yet'];
      return windowTasksStillMoving(tasks, clickstreamEnds);
    } catch (err) {
      // The state topic is created by the first member: until then (or while a leader moves) it cannot be read.
      return [`window task states not readable yet: ${(err as Error).message}`];
    }
  }
  const journal = readJournal(input.checkpointRoot);
  if (!journal) return ['no checkpoint store yet'];
  const reasons: string[] = [];
  for (const [partition, end] of clickstreamEnds) {
    if (end === 0n) continue;
    const agg = journal.aggOffsets.get(config.topics.clickstream)?.get(partition);
    if (agg === undefined || agg + 1n < end)
      reasons.push(`aggregator: clickstream partition ${partition} through ${agg ?? 'nothing'} of ${end - 1n}`);
  }
  return reasons;
}

/** How far the windows are, summed over the stage-2 tasks in members mode; undefined: nothing committed yet. */
export interface WindowsProgress {
  /** Every window ending at or before this was emitted (the smallest frontier of all tasks in members mode). */
  emittedFrontierMs: number | null;
  /** Late page views counted so far (of every task in members mode). */
  lateEventsTotal: number;
}

export async function windowsProgress(
  input: Omit<WindowsCaughtUpInput, 'clickstreamEnds'>,
): Promise<WindowsProgress | undefined> {
  const { config } = input;
  if (windowsModeOf(config) === 'members') {
    let tasks: Awaited<ReturnType<typeof readWindowTasks>>;
    try {
      tasks = await readWindowTasks(config, input.logger, input.group ?? config.etl.consumer_group);
    } catch {
      return undefined; // the state topic not created or not readable yet
    }
    if (tasks.length === 0 || tasks.some((t) => t.state === null)) return undefined;
    const states = tasks.map((t) => t.state!);
    const frontiers = states.map((s) => s.emittedFrontierMs);
    return {
      emittedFrontierMs: frontiers.every(Number.isFinite) ? Math.min(...frontiers) : null,
      lateEventsTotal: states.reduce((sum, s) => sum + s.lateEventsTotal, 0),
    };
  }
  const stored = readJournal(input.checkpointRoot)?.aggState.get(config.topics.clickstream)?.state;
  return stored && { emittedFrontierMs: stored.emittedFrontierMs, lateEventsTotal: stored.lateEventsTotal };
}

export async function windowsCaughtUp(input: WindowsCaughtUpInput): Promise<boolean> {
  return (await windowsNotCaughtUp(input)).length === 0;
}

/** Poll interval for waits on {@link windowsCaughtUp}: a members read asks Kafka for every task's snapshot. */
export function windowsPollMs(config: Config): number {
  return windowsModeOf(config) === 'members' ? 1000 : 250;
}
