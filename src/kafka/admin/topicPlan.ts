export type CleanupPolicy = 'delete' | 'compact';

/** What `topics create` wants a topic to be. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
  /** cleanup.policy it must have (compared, and set by `topics alter`); unset: the cluster's default, not compared. */
  cleanupPolicy?: CleanupPolicy;
  /** Topic configs given at creation only, never compared nor altered: an operator may tune them after. */
  creationConfigs?: Readonly<Record<string, string>>;
  /**
   * Its partition count never changes once it exists (the window stages' R, architecture.md "Windows across
   * members"): `topics alter` reports a difference and changes nothing of it, neither up nor down.
   */
  fixedPartitions?: boolean;
}

/**
 * A topic as the cluster has it; min.insync.replicas and cleanup.policy are the effective values, undefined if
 * unknown.
 */
export interface ExistingTopic {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number | undefined;
  cleanupPolicy?: string | undefined;
}

/** The topic configs a spec creates the topic with. */
export function creationConfigEntries(spec: TopicSpec): Array<{ name: string; value: string }> {
  const entries: Record<string, string> = {
    'min.insync.replicas': String(spec.minInsyncReplicas),
    ...(spec.cleanupPolicy === undefined ? {} : { 'cleanup.policy': spec.cleanupPolicy }),
    ...spec.creationConfigs,
  };
  return Object.entries(entries).map(([name, value]) => ({ name, value }));
}

/** Whether the cluster's cleanup.policy (maybe a list such as `compact,delete`) differs from the spec's. */
function cleanupDiffers(spec: TopicSpec, current: ExistingTopic): boolean {
  return (
    spec.cleanupPolicy !== undefined &&
    current.cleanupPolicy !== undefined &&
    current.cleanupPolicy !== spec.cleanupPolicy
  );
}

const FIXED_PARTITIONS_WHY =
  'etl.window_partitions (R) is fixed once window state exists: a new etl.consumer_group starts with new internal topics';

export interface TopicPlan {
  toCreate: TopicSpec[];
  unchanged: TopicSpec[];
  /** One line per existing topic that differs from its spec; non-empty means: change nothing. */
  mismatches: string[];
}

/**
 * Decides what to create. An existing topic is never altered: any difference in partitions,
 * replication factor, min.insync.replicas or cleanup.policy is reported as a mismatch instead.
 */
export function planTopics(desired: readonly TopicSpec[], existing: ReadonlyMap<string, ExistingTopic>): TopicPlan {
  const plan: TopicPlan = { toCreate: [], unchanged: [], mismatches: [] };
  for (const spec of desired) {
    const current = existing.get(spec.topic);
    if (!current) {
      plan.toCreate.push(spec);
      continue;
    }
    const differences: string[] = [];
    if (current.partitions !== spec.partitions)
      differences.push(
        `${current.partitions} partitions, config wants ${spec.partitions}${spec.fixedPartitions ? ` (${FIXED_PARTITIONS_WHY})` : ''}`,
      );
    if (current.replicationFactor !== spec.replicationFactor)
      differences.push(`replication factor ${current.replicationFactor}, config wants ${spec.replicationFactor}`);
    if (current.minInsyncReplicas !== undefined && current.minInsyncReplicas !== spec.minInsyncReplicas) {
      differences.push(`min.insync.replicas ${current.minInsyncReplicas}, config wants ${spec.minInsyncReplicas}`);
    }
    if (cleanupDiffers(spec, current))
      differences.push(`cleanup.policy ${current.cleanupPolicy}, the platform wants ${spec.cleanupPolicy}`);
    if (differences.length === 0) plan.unchanged.push(spec);
    else plan.mismatches.push(`topic ${spec.topic} exists with ${differences.join('; ')}`);
  }
  return plan;
}

export interface AlterPlan {
  raisePartitions: Array<{ topic: string; from: number; to: number }>;
  setMinInsyncReplicas: Array<{ topic: string; from: number | undefined; to: number }>;
  /** Config asks for fewer partitions than the topic has: Kafka cannot do it. */
  lowerPartitions: Array<{ topic: string; from: number; to: number }>;
  /** The replication factor differs: `topics alter` does not reassign replicas. */
  replicationDiffers: Array<{ topic: string; from: number; to: number }>;
  /** A topic of fixed partitions (the window stages' R) whose count differs: reported, never changed. */
  fixedPartitionsDiffer: Array<{ topic: string; from: number; to: number }>;
  setCleanupPolicy: Array<{ topic: string; from: string | undefined; to: CleanupPolicy }>;
  missing: string[];
}

/**
 * What `topics alter` changes: partitions only upwards and never of a topic of fixed partitions, min.insync.replicas
 * and cleanup.policy to the config's.
 */
export function planAlter(desired: readonly TopicSpec[], existing: ReadonlyMap<string, ExistingTopic>): AlterPlan {
  const plan: AlterPlan = {
    raisePartitions: [],
    setMinInsyncReplicas: [],
    lowerPartitions: [],
    replicationDiffers: [],
    fixedPartitionsDiffer: [],
    setCleanupPolicy: [],
    missing: [],
  };
  for (const spec of desired) {
    const current = existing.get(spec.topic);
    if (!current) {
      plan.missing.push(spec.topic);
      continue;
    }
    const partitions = { topic: spec.topic, from: current.partitions, to: spec.partitions };
    if (current.partitions !== spec.partitions && spec.fixedPartitions) plan.fixedPartitionsDiffer.push(partitions);
    else if (current.partitions < spec.partitions) plan.raisePartitions.push(partitions);
    else if (current.partitions > spec.partitions) plan.lowerPartitions.push(partitions);
    if (current.replicationFactor !== spec.replicationFactor)
      plan.replicationDiffers.push({ topic: spec.topic, from: current.replicationFactor, to: spec.replicationFactor });
    if (current.minInsyncReplicas !== spec.minInsyncReplicas)
      plan.setMinInsyncReplicas.push({
        topic: spec.topic,
        from: current.minInsyncReplicas,
        to: spec.minInsyncReplicas,
      });
    if (spec.cleanupPolicy !== undefined && current.cleanupPolicy !== spec.cleanupPolicy)
      plan.setCleanupPolicy.push({ topic: spec.topic, from: current.cleanupPolicy, to: spec.cleanupPolicy });
  }
  return plan;
}
