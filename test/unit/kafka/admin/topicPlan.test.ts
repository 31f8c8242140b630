import { describe, expect, it } from 'vitest';
import { planTopics, type ExistingTopic, type TopicSpec } from '../../../../src/kafka/admin/topicPlan.js';

const spec = (topic: string): TopicSpec => ({ topic, partitions: 4, replicationFactor: 2, minInsyncReplicas: 1 });
const existing = (...topics: ExistingTopic[]) => new Map(topics.map((t) => [t.topic, t]));

describe('planTopics', () => {
  it('creates what is missing and leaves what matches', () => {
    const plan = planTopics(
      [spec('a'), spec('b')],
      existing({ topic: 'b', partitions: 4, replicationFactor: 2, minInsyncReplicas: 1 }),
    );
    expect(plan.toCreate.map((s) => s.topic)).toEqual(['a']);
    expect(plan.unchanged.map((s) => s.topic)).toEqual(['b']);
    expect(plan.mismatches).toEqual([]);
  });

  it('reports every difference of an existing topic instead of altering it', () => {
    const plan = planTopics(
      [spec('a'), spec('b')],
      existing({ topic: 'a', partitions: 6, replicationFactor: 3, minInsyncReplicas: 2 }),
    );
    expect(plan.mismatches).toEqual([
      'topic a exists with 6 partitions, config wants 4; replication factor 3, config wants 2; min.insync.replicas 2, config wants 1',
    ]);
    expect(plan.unchanged).toEqual([]);
    expect(plan.toCreate.map((s) => s.topic)).toEqual(['b']);
  });

  it('does not call an unknown min.insync.replicas a mismatch', () => {
    const plan = planTopics(
      [spec('a')],
      existing({ topic: 'a', partitions: 4, replicationFactor: 2, minInsyncReplicas: undefined }),
    );
    expect(plan.unchanged.map((s) => s.topic)).toEqual(['a']);
    expect(plan.mismatches).toEqual([]);
  });
});
