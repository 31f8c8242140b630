import { describe, expect, it } from 'vitest';
import type { ExistingTopic } from '../../../../src/kafka/admin/topicPlan.js';
import {
  REPARTITION_RETENTION_MS,
  windowPartitions,
  windowTopicNames,
  windowTopicRole,
  windowTopicSpecs,
} from '../../../../src/kafka/admin/windowTopics.js';
import { repartitionTopicName } from '../../../../src/windows/repartitionRecords.js';
import { stateTopicName } from '../../../../src/windows/stage2Windows.js';

const have = (...topics: Array<[string, number]>): Map<string, ExistingTopic> =>
  new Map(
    topics.map(([topic, partitions]) => [
      topic,
      { topic, partitions, replicationFactor: 2, minInsyncReplicas: 1, cleanupPolicy: undefined },
    ]),
  );

const settings = {
  group: 'g',
  windowPartitions: 'auto' as number | 'auto',
  kafkaPartitions: 4,
  replicationFactor: 2,
  minInsyncReplicas: 1,
};

describe('the window stages’ internal topics', () => {
  it('are named after the consumer group, as the stages name them', () => {
    expect(windowTopicNames('sdp-etl')).toEqual({
      repartition: repartitionTopicName('sdp-etl'),
      state: stateTopicName('sdp-etl'),
    });
    expect(windowTopicNames('sdp-etl')).toEqual({ repartition: 'sdp-etl-pv-repartition', state: 'sdp-etl-pv-state' });
  });

  it('are told apart by name, of any group, from every other topic', () => {
    expect(windowTopicRole('sdp-etl-pv-repartition')).toBe('repartition');
    expect(windowTopicRole('other-group-pv-state')).toBe('state');
    expect(windowTopicRole('clickstream')).toBeUndefined();
    expect(windowTopicRole('__consumer_offsets')).toBeUndefined();
    expect(windowTopicRole('-pv-state')).toBeUndefined();
    expect(windowTopicRole('g-pv-state-old')).toBeUndefined();
  });
});

describe('windowPartitions (R)', () => {
  it('auto: kafka.partitions for topics yet to be created', () => {
    expect(windowPartitions(settings, new Map())).toBe(4);
  });

  it('auto: the count the repartition topic has, whatever kafka.partitions became', () => {
    expect(windowPartitions({ ...settings, kafkaPartitions: 8 }, have(['g-pv-repartition', 4]))).toBe(4);
    // The repartition topic decides over the state topic; without it the state topic does.
    expect(windowPartitions(settings, have(['g-pv-repartition', 3], ['g-pv-state', 5]))).toBe(3);
    expect(windowPartitions(settings, have(['g-pv-state', 5]))).toBe(5);
    // Another group's topics are not this group's R.
    expect(windowPartitions(settings, have(['h-pv-repartition', 7]))).toBe(4);
  });

  it('a number is R, whatever exists', () => {
    expect(windowPartitions({ ...settings, windowPartitions: 6 }, new Map())).toBe(6);
    expect(windowPartitions({ ...settings, windowPartitions: 6 }, have(['g-pv-repartition', 4]))).toBe(6);
  });
});

describe('windowTopicSpecs', () => {
  it('gives both topics R partitions, RF and min ISR from config, delete with a retention and compact', () => {
    expect(windowTopicSpecs({ ...settings, replicationFactor: 3, minInsyncReplicas: 2 }, new Map())).toEqual([
      {
        topic: 'g-pv-repartition',
        partitions: 4,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        fixedPartitions: true,
        cleanupPolicy: 'delete',
        // Segments that close: the purge's records leave the disk with them.
        creationConfigs: { 'retention.ms': String(7 * 24 * 3600 * 1000), 'segment.ms': '600000' },
      },
      {
        topic: 'g-pv-state',
        partitions: 4,
        replicationFactor: 3,
        minInsyncReplicas: 2,
        fixedPartitions: true,
        cleanupPolicy: 'compact',
        // Short segments: a takeover reads the partition whole, and Kafka compacts only closed segments.
        creationConfigs: { 'segment.ms': '600000', 'segment.bytes': String(16 * 1024 * 1024) },
      },
    ]);
    expect(REPARTITION_RETENTION_MS).toBe(604_800_000);
  });

  it('keeps the state topic at the repartition topic’s R when only one of them exists', () => {
    const specs = windowTopicSpecs({ ...settings, kafkaPartitions: 6 }, have(['g-pv-repartition', 2]));
    expect(specs.map((s) => [s.topic, s.partitions])).toEqual([
      ['g-pv-repartition', 2],
      ['g-pv-state', 2],
    ]);
  });
});
