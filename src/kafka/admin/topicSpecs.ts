/**
 * Which topics the `topics` commands manage and what each should be, from config: the two input topics
 * (kafka.partitions) and the window stages' internal topics of etl.consumer_group (R partitions, windowTopics.ts).
 * Pure.
 */
import type { Config } from '../../config/schema.js';
import type { ExistingTopic, TopicSpec } from './topicPlan.js';
import { windowTopicNames, windowTopicSpecs } from './windowTopics.js';

/** The input topics, in order: config.topics.clickstream, config.topics.iot. */
export function inputTopicNames(config: Config): string[] {
  return [config.topics.clickstream, config.topics.iot];
}

/** Every topic of the platform: the input topics, then `<group>-pv-repartition` and `<group>-pv-state`. */
export function platformTopicNames(config: Config): string[] {
  const internal = windowTopicNames(config.etl.consumer_group);
  return [...inputTopicNames(config), internal.repartition, internal.state];
}

/** Topics with kafka.partitions, kafka.replication_factor and kafka.min_insync_replicas, cluster defaults else. */
export function inputTopicSpecs(config: Config, topics: readonly string[] = inputTopicNames(config)): TopicSpec[] {
  return topics.map((topic) => ({
    topic,
    partitions: config.kafka.partitions,
    replicationFactor: config.kafka.replication_factor,
    minInsyncReplicas: config.kafka.min_insync_replicas,
  }));
}

/** The specs of {@link platformTopicNames}; R (auto) depends on what `existing` holds. */
export function platformTopicSpecs(config: Config, existing: ReadonlyMap<string, ExistingTopic>): TopicSpec[] {
  return [
    ...inputTopicSpecs(config),
    ...windowTopicSpecs(
      {
        group: config.etl.consumer_group,
        windowPartitions: config.etl.window_partitions,
        kafkaPartitions: config.kafka.partitions,
        replicationFactor: config.kafka.replication_factor,
        minInsyncReplicas: config.kafka.min_insync_replicas,
      },
      existing,
    ),
  ];
}
