import { describe, expect, it } from 'vitest';
import { planAlter, planTopics, type ExistingTopic, type TopicSpec } from '../../../../src/kafka/admin/topicPlan.js';

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
      missing: ['c'],
    });
  });

  it('lists a lower partition count as impossible, never as a change', () => {
    const plan = planAlter([spec('a', 2)], new Map([have('a', 4, 2, 1)]));
    expect(plan.lowerPartitions).toEqual([{ topic: 'a', from: 4, to: 2 }]);
    expect(plan.raisePartitions).toEqual([]);
  });
});
