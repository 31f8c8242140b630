/**
 * `data windows`: the page-view windows' committed state (late events counted, how far the windows are emitted, the
 * global watermark, the windows still open), read from where `etl.windows` keeps it (architecture.md, "Windows across
 * members"): the window aggregator's latest checkpoint in the checkpoint store (`process`), or the latest snapshot of
 * every stage-2 task in `<group>-pv-state` (`members`, read as `verify` reads it). Read-only, safe while the platform
 * runs. The notebook runs it in members mode (analysis/sdp_lake.py): it has no Kafka client of its own.
 */
import { join, resolve } from 'node:path';
import { aggSinkId, type CheckpointState } from '../checkpoint/checkpointState.js';
import { readCheckpointStore } from '../checkpoint/storeReader.js';
import type { Config } from '../config/schema.js';
import { fetchTopicRanges } from '../kafka/admin/topicEnds.js';
import { windowTopicNames } from '../kafka/admin/windowTopics.js';
import type { Logger } from '../log/logger.js';
import { WINDOW_SIZE_MS } from '../platform/etlRuntime.js';
import { CHECKPOINT_FILE } from '../platform/supervisor.js';
import { readStageWindowState, type StageWindowState } from '../verify/stageWindowState.js';
import type { PageViewWindowsSnapshot } from '../windows/pageViewWindows.js';
import { withWindowsModeResolved } from '../etl/windowsModeCheck.js';
import type { WindowsMode } from '../etl/windowsMode.js';

/** Where the figures come from: the field `source` of `data windows --json`. */
export type WindowStateSource = 'checkpoint_store' | 'pv_state_topic';

/** `data windows --json`: stable snake_case names, read by analysis/sdp_lake.py. */
export interface WindowStateReport {
  /** The mode the windows run in (`auto` decided). */
  mode: WindowsMode;
  source: WindowStateSource;
  /** The checkpoint store file (process), or the state topic (members). */
  location: string;
  /** false: nothing committed there yet; every figure below is then null and `note` says why. */
  found: boolean;
  late_events_total: number | null;
  /** Every window ending at or before this (epoch ms) was emitted. */
  emitted_frontier_ms: number | null;
  /** null also when not known yet (a partition never heard from). */
  global_watermark_ms: number | null;
  /** One-minute windows with counts not emitted yet. */
  open_windows: number | null;
  /** process: the aggregator's checkpoint sequence number. */
  checkpoint_seq: number | null;
  /** members: the stage-2 tasks with a snapshot, of `tasks` (the repartition topic's partitions). */
  task_snapshots: number | null;
  tasks: number | null;
  note: string | null;
}

const NOTHING = {
  found: false,
  late_events_total: null,
  emitted_frontier_ms: null,
  global_watermark_ms: null,
  open_windows: null,
  checkpoint_seq: null,
  task_snapshots: null,
  tasks: null,
} as const;

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Process mode: the aggregator's state of the store's latest `agg` checkpoint of `topic`. Pure. */
export function windowStateFromStore(
  state: CheckpointState,
  topic: string,
  file: string,
  exists: boolean,
): WindowStateReport {
  const base = { mode: 'process', source: 'checkpoint_store', location: file } as const;
  const agg = state.aggregators[aggSinkId(topic)];
  const snapshot = agg?.state as Partial<PageViewWindowsSnapshot> | null | undefined;
  if (!agg || typeof snapshot !== 'object' || snapshot === null || typeof snapshot.lateEventsTotal !== 'number')
    return {
      ...base,
      ...NOTHING,
      note: exists
        ? `the checkpoint store holds no window checkpoint of ${topic} yet`
        : 'no checkpoint store yet (the ETL has not run with this storage.checkpoint_root)',
    };
  return {
    ...base,
    found: true,
    late_events_total: snapshot.lateEventsTotal,
    emitted_frontier_ms: numberOrNull(snapshot.emittedFrontierMs),
    global_watermark_ms: numberOrNull(snapshot.watermarks?.globalWatermarkMs),
    open_windows: Array.isArray(snapshot.openWindows) ? snapshot.openWindows.length : 0,
    checkpoint_seq: agg.seq,
    task_snapshots: null,
    tasks: null,
    note: null,
  };
}

/** Members mode: the stage-2 tasks' snapshots (undefined: none committed) of a repartition topic of `tasks`. Pure. */
export function windowStateFromStages(
  stages: StageWindowState | undefined,
  stateTopic: string,
  tasks: number,
): WindowStateReport {
  const base = { mode: 'members', source: 'pv_state_topic', location: stateTopic } as const;
  if (stages === undefined)
    return { ...base, ...NOTHING, tasks, note: `no stage-2 task has committed a snapshot to ${stateTopic} yet` };
  return {
    ...base,
    found: true,
    late_events_total: stages.lateEventsTotal,
    emitted_frontier_ms: stages.emittedFrontierMs,
    global_watermark_ms: stages.globalWatermarkMs,
    open_windows: stages.openWindows.length,
    checkpoint_seq: null,
    task_snapshots: stages.snapshots,
    tasks,
    // A task without a snapshot holds windows too: the figures are of the others only.
    note:
      stages.snapshots < tasks ? `only ${stages.snapshots} of ${tasks} stage-2 tasks have committed a snapshot` : null,
  };
}

/**
 * The report for `config`. `auto` and members mode ask Kafka: an unreachable cluster is SdpError(KAFKA_UNREACHABLE) within
 * kafka.unreachable_timeout (admin/adminSession.ts), never a wait without end.
 */
export async function collectWindowState(configured: Config, logger: Logger): Promise<WindowStateReport> {
  // `etl.windows: auto` asks the group where its windows are, as the ETL does (etl/windowsMode.ts).
  const storeFile = join(resolve(configured.storage.checkpoint_root), CHECKPOINT_FILE);
  const config = await withWindowsModeResolved(configured, logger, 'debug', storeFile);
  if (config.etl.windows === 'process') {
    const store = readCheckpointStore(storeFile);
    return windowStateFromStore(store.state, config.topics.clickstream, store.file, store.exists);
  }
  const names = windowTopicNames(config.etl.consumer_group);
  const ranges = await fetchTopicRanges(config, logger, [names.repartition, names.state]);
  const repartition = ranges.get(names.repartition);
  const missing = [names.repartition, names.state].filter((t) => ranges.get(t) === undefined);
  if (repartition === undefined || missing.length > 0)
    return {
      mode: 'members',
      source: 'pv_state_topic',
      location: names.state,
      ...NOTHING,
      tasks: repartition?.size ?? null,
      note: `${missing.join(' and ')} ${missing.length === 1 ? 'does' : 'do'} not exist: the ETL has not run with etl.windows: members and consumer group ${config.etl.consumer_group}`,
    };
  const stages = await readStageWindowState(config, logger, repartition.size, WINDOW_SIZE_MS);
  return windowStateFromStages(stages, names.state, repartition.size);
}

const time = (ms: number | null): string => (ms === null ? 'unknown' : new Date(ms).toISOString());

/** The human form: where the state was read, then one figure a line. Pure. */
export function renderWindowState(r: WindowStateReport): string {
  const where =
    r.source === 'checkpoint_store'
      ? `checkpoint store ${r.location}${r.checkpoint_seq === null ? '' : ` (window checkpoint ${r.checkpoint_seq})`}`
      : `pv-state topic ${r.location}${r.task_snapshots === null ? '' : ` (${r.task_snapshots} of ${r.tasks} task snapshots)`}`;
  const lines = [`windows: etl.windows ${r.mode}, state from the ${where}`];
  if (r.found) {
    lines.push(
      `late events total   ${r.late_events_total}`,
      `emitted frontier    ${time(r.emitted_frontier_ms)}`,
      `global watermark    ${time(r.global_watermark_ms)}`,
      `open windows        ${r.open_windows}`,
    );
  }
  if (r.note !== null) lines.push(r.found ? `note: ${r.note}` : `no window state: ${r.note}`);
  return lines.join('\n');
}
