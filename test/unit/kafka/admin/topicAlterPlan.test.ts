import { describe, expect, it } from 'vitest';
import {
  creationConfigEntries,
  planAlter,
  planTopics,
  type ExistingTopic,
  type TopicSpec,
} from '../../../../src/kafka/admin/topicPlan.js';

const spec = (topic: string, partitions = 4, replicationFactor = 2, minInsyncReplicas = 1): TopicSpec => ({
  topic,
  partitions,
  replicationFactor,
  minInsyncReplicas,
});
const have = (
  topic: string,
  partitions: number,
  replicationFactor: number,
  minInsyncReplicas: number | undefined,
): [string, ExistingTopic] => [topic, { topic, partitions, replicationFactor, minInsyncReplicas }];

describe('planTopics: topics create reports every difference', () => {
  it('names partitions, replication factor and min.insync.replicas of one topic in one line', () => {
    const plan = planTopics([spec('a', 6, 3, 2)], new Map([have('a', 4, 2, 1)]));
    expect(plan.mismatches).toEqual([
      'topic a exists with 4 partitions, config wants 6; replication factor 2, config wants 3; min.insync.replicas 1, config wants 2',
    ]);
  });
});

describe('planAlter', () => {
  it('raises partitions, sets min.insync.replicas, reports a replication factor it will not change and missing topics', () => {
    const plan = planAlter(
      [spec('a', 6, 3, 2), spec('b'), spec('c')],
      new Map([have('a', 4, 2, 1), have('b', 4, 2, 1)]),
    );
    expect(plan).toEqual({
      raisePartitions: [{ topic: 'a', from: 4, to: 6 }],
      setMinInsyncReplicas: [{ topic: 'a', from: 1, to: 2 }],
      lowerPartitions: [],
      replicationDiffers: [{ topic: 'a', from: 2, to: 3 }],
      fixedPartitionsDiffer: [],
      setCleanupPolicy: [],
      missing: ['c'],
    });
  });

  it('lists a lower partition count as impossible, never as a change', () => {
    const plan = planAlter([spec('a', 2)], new Map([have('a', 4, 2, 1)]));
    expect(plan.lowerPartitions).toEqual([{ topic: 'a', from: 4, to: 2 }]);
    expect(plan.raisePartitions).toEqual([]);
  });
});

describe('the internal topics: R and cleanup.policy', () => {
  const internal = (topic: string, partitions: number, cleanupPolicy: 'delete' | 'compact'): TopicSpec => ({
    ...spec(topic, partitions),
    cleanupPolicy,
    fixedPartitions: true,
  });
  const existing = (topic: string, partitions: number, cleanupPolicy: string): [string, ExistingTopic] => [
    topic,
    { topic, partitions, replicationFactor: 2, minInsyncReplicas: 1, cleanupPolicy },
  ];

  it('topics create reports an R or a cleanup.policy that differs, and says why R is fixed', () => {
    const plan = planTopics(
      [internal('g-pv-repartition', 6, 'delete'), internal('g-pv-state', 4, 'compact')],
      new Map([existing('g-pv-repartition', 4, 'delete'), existing('g-pv-state', 4, 'delete')]),
    );
    expect(plan.mismatches).toEqual([
      expect.stringMatching(
        /^topic g-pv-repartition exists with 4 partitions, config wants 6 \(etl\.window_partitions \(R\) is fixed once window state exists/,
      ),
      'topic g-pv-state exists with cleanup.policy delete, the platform wants compact',
    ]);
  });

  it('topics alter never changes R, up or down: it reports it', () => {
    for (const [has, wants] of [
      [4, 6],
      [6, 4],
    ] as const) {
      const plan = planAlter(
        [internal('g-pv-repartition', wants, 'delete')],
        new Map([existing('g-pv-repartition', has, 'delete')]),
      );
      expect(plan.fixedPartitionsDiffer).toEqual([{ topic: 'g-pv-repartition', from: has, to: wants }]);
      expect(plan.raisePartitions).toEqual([]);
      expect(plan.lowerPartitions).toEqual([]);
    }
  });

  it('topics alter sets a cleanup.policy that differs, next to min.insync.replicas', () => {
    const plan = planAlter(
      [{ ...internal('g-pv-state', 4, 'compact'), minInsyncReplicas: 2 }, internal('g-pv-repartition', 4, 'delete')],
      new Map([existing('g-pv-state', 4, 'delete'), existing('g-pv-repartition', 4, 'delete')]),
    );
    expect(plan.setCleanupPolicy).toEqual([{ topic: 'g-pv-state', from: 'delete', to: 'compact' }]);
    expect(plan.setMinInsyncReplicas).toEqual([{ topic: 'g-pv-state', from: 1, to: 2 }]);
    expect(plan.fixedPartitionsDiffer).toEqual([]);
  });

  it('an input topic keeps the cluster’s cleanup.policy: none is compared or set', () => {
    const plan = planAlter([spec('a')], new Map([existing('a', 4, 'compact')]));
    expect(plan.setCleanupPolicy).toEqual([]);
    expect(planTopics([spec('a')], new Map([existing('a', 4, 'compact')])).unchanged.map((s) => s.topic)).toEqual([
      'a',
    ]);
  });

  it('creates them with min.insync.replicas, cleanup.policy and the creation-only configs', () => {
    expect(
      creationConfigEntries({ ...internal('g-pv-repartition', 4, 'delete'), creationConfigs: { 'retention.ms': '9' } }),
    ).toEqual([
      { name: 'min.insync.replicas', value: '1' },
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: '9' },
    ]);
    expect(creationConfigEntries(spec('a'))).toEqual([{ name: 'min.insync.replicas', value: '1' }]);
  });
});
