/** What `topics create` wants a topic to be. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** A topic as the cluster has it; min.insync.replicas is the effective value, undefined if unknown. */
export interface ExistingTopic {
  topic: string;
  partitions: number;
  replicationFactor: number;
  minInsyncReplicas: number | undefined;
}

export interface TopicPlan {
  toCreate: TopicSpec[];
  unchanged: TopicSpec[];
  /** One line per existing topic that differs from its spec; non-empty means: change nothing. */
  mismatches: string[];
}

/**
 * Decides what to create. An existing topic is never altered: any difference in partitions,
 * replication factor or min.insync.replicas is reported as a mismatch instead.
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
      differences.push(`${current.partitions} partitions, config wants ${spec.partitions}`);
    if (current.replicationFactor !== spec.replicationFactor)
      differences.push(`replication factor ${current.replicationFactor}, config wants ${spec.replicationFactor}`);
    if (current.minInsyncReplicas !== undefined && current.minInsyncReplicas !== spec.minInsyncReplicas) {
      differences.push(`min.insync.replicas ${current.minInsyncReplicas}, config wants ${spec.minInsyncReplicas}`);
    }
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
  missing: string[];
}

/** What `topics alter` changes: partitions only upwards, min.insync.replicas to the config's. */
export function planAlter(desired: readonly TopicSpec[], existing: ReadonlyMap<string, ExistingTopic>): AlterPlan {
  const plan: AlterPlan = {
    raisePartitions: [],
    setMinInsyncReplicas: [],
    lowerPartitions: [],
    replicationDiffers: [],
    missing: [],
  };
  for (const spec of desired) {
    const current = existing.get(spec.topic);
    if (!current) {
      plan.missing.push(spec.topic);
      continue;
    }
    if (current.partitions < spec.partitions)
      plan.raisePartitions.push({ topic: spec.topic, from: current.partitions, to: spec.partitions });
    if (current.partitions > spec.partitions)
      plan.lowerPartitions.push({ topic: spec.topic, from: current.partitions, to: spec.partitions });
    if (current.replicationFactor !== spec.replicationFactor)
      plan.replicationDiffers.push({ topic: spec.topic, from: current.replicationFactor, to: spec.replicationFactor });
    if (current.minInsyncReplicas !== spec.minInsyncReplicas)
      plan.setMinInsyncReplicas.push({
        topic: spec.topic,
        from: current.minInsyncReplicas,
        to: spec.minInsyncReplicas,
      });
  }
  return plan;
}
