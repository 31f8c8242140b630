import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/load.js';
import type { ExistingTopic } from '../../../../src/kafka/admin/topicPlan.js';
import { platformTopicNames, platformTopicSpecs } from '../../../../src/kafka/admin/topicSpecs.js';

const configWith = (env: NodeJS.ProcessEnv = {}) =>
  parseConfig('', 'x.yml', { SDP_ETL__CONSUMER_GROUP: 'grp', SDP_KAFKA__MIN_INSYNC_REPLICAS: '2', ...env }).config;

const have = (topic: string, partitions: number): Map<string, ExistingTopic> =>
  new Map([[topic, { topic, partitions, replicationFactor: 2, minInsyncReplicas: 2 }]]);

describe('platformTopicSpecs: the four topics of `topics create`, from config', () => {
  it('names the input topics, then the internal topics of etl.consumer_group', () => {
    expect(platformTopicNames(configWith())).toEqual(['clickstream', 'iot', 'grp-pv-repartition', 'grp-pv-state']);
  });

  it('R auto: kafka.partitions for new internal topics, RF and min ISR of kafka.*', () => {
    const specs = platformTopicSpecs(configWith({ SDP_KAFKA__PARTITIONS: '5' }), new Map());
    expect(
      specs.map((s) => [s.topic, s.partitions, s.replicationFactor, s.minInsyncReplicas, s.cleanupPolicy]),
    ).toEqual([
      ['clickstream', 5, 2, 2, undefined],
      ['iot', 5, 2, 2, undefined],
      ['grp-pv-repartition', 5, 2, 2, 'delete'],
      ['grp-pv-state', 5, 2, 2, 'compact'],
    ]);
    expect(specs.map((s) => s.fixedPartitions ?? false)).toEqual([false, false, true, true]);
  });

  it('R auto keeps an existing repartition topic’s count when kafka.partitions is raised', () => {
    const specs = platformTopicSpecs(configWith({ SDP_KAFKA__PARTITIONS: '8' }), have('grp-pv-repartition', 4));
    expect(specs.map((s) => s.partitions)).toEqual([8, 8, 4, 4]);
  });

  it('R fixed: etl.window_partitions, whatever kafka.partitions and the cluster hold', () => {
    const specs = platformTopicSpecs(configWith({ SDP_ETL__WINDOW_PARTITIONS: '3' }), have('grp-pv-repartition', 4));
    expect(specs.map((s) => s.partitions)).toEqual([4, 4, 3, 3]);
  });
});
