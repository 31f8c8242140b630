/**
 * The two internal topics of the page-view window stages (architecture.md, "Windows across members"), named after
 * the consumer group: `<group>-pv-repartition` (stage 1 → stage 2 counts and marks) and `<group>-pv-state` (stage 2's
 * snapshots, compacted). Both have R partitions, etl.window_partitions. Pure: what they should be, given what the
 * cluster holds.
 */
import { repartitionTopicName } from '../../windows/repartitionRecords.js';
import { stateTopicName } from '../../windows/stage2Windows.js';
import type { ExistingTopic, TopicSpec } from './topicPlan.js';

export type WindowTopicRole = 'repartition' | 'state';

/**
 * retention.ms of the repartition topic, set at creation: 7 days. Stage 2 reads a record within seconds of its
 * commit, and the window stage deletes what its tasks committed past (DeleteRecords every
 * etl.repartition_purge_interval, windows/repartitionPurgePlan.ts), so the log normally holds seconds of records.
 * The retention is the backstop for what the purge leaves: a stage-2 task that is down (it replays from its
 * committed offset when it comes back, and a week covers an outage over a long weekend), a member stopped before its
 * next purge, a purge that keeps failing. Set explicitly, not left to the broker's log.retention, so that it does not
 * depend on how the cluster was set up.
 */
export const REPARTITION_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * segment.ms of the repartition topic, set at creation: 10 minutes (as Kafka Streams sets on its repartition
 * topics). The purge only moves a partition's log start; the broker frees disk by deleting whole closed segments
 * below it, and with its default (a segment closes after 7 days or 1 GiB) the purged records would stay on disk as
 * long as the retention kept them anyway.
 */
export const REPARTITION_SEGMENT_MS = 10 * 60 * 1000;

/**
 * segment.ms and segment.bytes of the state topic, set at creation: 10 minutes, 16 MiB. A takeover reads its task's
 * partition whole (kafka/stateTopicReader.ts), and Kafka compacts only closed segments: with the broker's defaults (a
 * segment closes after 7 days or 1 GiB) that read would grow with every snapshot for a week, and failover with it.
 * Short segments keep it to the last minutes of snapshots plus one per task.
 */
export const STATE_SEGMENT_MS = 10 * 60 * 1000;
export const STATE_SEGMENT_BYTES = 16 * 1024 * 1024;

export interface WindowTopicNames {
  readonly repartition: string;
  readonly state: string;
}

export function windowTopicNames(group: string): WindowTopicNames {
  return { repartition: repartitionTopicName(group), state: stateTopicName(group) };
}

/** Which internal topic a name is, of any consumer group (the Kafka browser marks them), else undefined. */
export function windowTopicRole(topic: string): WindowTopicRole | undefined {
  for (const role of ['repartition', 'state'] as const) {
    const suffix = windowTopicNames('')[role];
    if (topic.length > suffix.length && topic.endsWith(suffix)) return role;
  }
  return undefined;
}

export interface WindowTopicSettings {
  readonly group: string;
  /** etl.window_partitions. */
  readonly windowPartitions: number | 'auto';
  readonly kafkaPartitions: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

/**
 * R: a number in config is R; `auto` is the count the repartition topic already has (else the state topic's), so
 * that raising kafka.partitions never changes it, and kafka.partitions for topics yet to be created. R never follows
 * a change of config on its own: a url's counts must always reach the stage-2 partition that holds its open windows.
 */
export function windowPartitions(
  settings: Pick<WindowTopicSettings, 'group' | 'windowPartitions' | 'kafkaPartitions'>,
  existing: ReadonlyMap<string, ExistingTopic>,
): number {
  if (settings.windowPartitions !== 'auto') return settings.windowPartitions;
  const names = windowTopicNames(settings.group);
  return (
    existing.get(names.repartition)?.partitions ?? existing.get(names.state)?.partitions ?? settings.kafkaPartitions
  );
}

/** The specs of both internal topics: R partitions each, never changed once they exist. */
export function windowTopicSpecs(
  settings: WindowTopicSettings,
  existing: ReadonlyMap<string, ExistingTopic>,
): TopicSpec[] {
  const names = windowTopicNames(settings.group);
  const common = {
    partitions: windowPartitions(settings, existing),
    replicationFactor: settings.replicationFactor,
    minInsyncReplicas: settings.minInsyncReplicas,
    fixedPartitions: true,
  };
  return [
    {
      ...common,
      topic: names.repartition,
      cleanupPolicy: 'delete',
      creationConfigs: {
        'retention.ms': String(REPARTITION_RETENTION_MS),
        'segment.ms': String(REPARTITION_SEGMENT_MS),
      },
    },
    // Compacted: stage 2 restores each partition's latest snapshot, older ones are garbage.
    {
      ...common,
      topic: names.state,
      cleanupPolicy: 'compact',
      creationConfigs: { 'segment.ms': String(STATE_SEGMENT_MS), 'segment.bytes': String(STATE_SEGMENT_BYTES) },
    },
  ];
}
