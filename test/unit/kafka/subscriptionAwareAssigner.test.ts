import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  assignRanges,
  SUBSCRIPTION_AWARE_ASSIGNER,
  subscriptionAwareAssigner,
} from '../../../src/kafka/subscriptionAwareAssigner.js';

const { AssignerProtocol } = kafkajs;

const partitions =
  (counts: Record<string, number>) =>
  (topic: string): number[] =>
    Array.from({ length: counts[topic] ?? 0 }, (_, i) => i);

function asObject(result: Map<string, Record<string, number[]>>): Record<string, Record<string, number[]>> {
  return Object.fromEntries(result);
}

describe('assignRanges', () => {
  it('gives each member the partitions of its own topic only', () => {
    const result = assignRanges(
      new Map([
        ['etl-clickstream', ['clickstream']],
        ['etl-iot', ['iot']],
      ]),
      partitions({ clickstream: 4, iot: 3 }),
    );
    expect(asObject(result)).toEqual({
      'etl-clickstream': { clickstream: [0, 1, 2, 3] },
      'etl-iot': { iot: [0, 1, 2] },
    });
  });

  it('splits a shared topic in contiguous ranges, the first members taking one more', () => {
    const result = assignRanges(
      new Map([
        ['c', ['clickstream']],
        ['a', ['clickstream']],
        ['b', ['clickstream', 'iot']],
      ]),
      partitions({ clickstream: 7, iot: 2 }),
    );
    // Members in id order: a, b, c; 7 = 3 + 2 + 2.
    expect(asObject(result)).toEqual({
      a: { clickstream: [0, 1, 2] },
      b: { clickstream: [3, 4], iot: [0, 1] },
      c: { clickstream: [5, 6] },
    });
  });

  it('leaves members without partitions when they outnumber them, and still lists them', () => {
    const result = assignRanges(
      new Map([
        ['m1', ['iot']],
        ['m2', ['iot']],
        ['m3', ['iot']],
      ]),
      partitions({ iot: 2 }),
    );
    expect(asObject(result)).toEqual({ m1: { iot: [0] }, m2: { iot: [1] }, m3: {} });
  });

  it('assigns every partition exactly once whatever the partition order the metadata gives', () => {
    const result = assignRanges(
      new Map([
        ['x', ['t']],
        ['y', ['t']],
      ]),
      () => [3, 0, 2, 1, 4],
    );
    expect(asObject(result)).toEqual({ x: { t: [0, 1, 2] }, y: { t: [3, 4] } });
  });
});

describe('subscriptionAwareAssigner', () => {
  it("reads each member's subscription from its metadata and encodes the ranges for kafkajs", async () => {
    const targeted: string[][] = [];
    let refreshes = 0;
    const cluster = {
      async addMultipleTargetTopics(topics: string[]) {
        targeted.push([...topics].sort());
      },
      // Partitions added since the leader's last refresh must be seen: refreshed at every assignment.
      async refreshMetadata() {
        refreshes += 1;
      },
      findTopicPartitionMetadata(topic: string) {
        return partitions({ clickstream: 4, iot: 2 })(topic).map((partitionId) => ({ partitionId }));
      },
    };
    const assigner = subscriptionAwareAssigner({ cluster } as unknown as Parameters<
      typeof subscriptionAwareAssigner
    >[0]);
    const protocolOf = (topics: string[]) => assigner.protocol({ topics });
    expect(protocolOf(['iot']).name).toBe(SUBSCRIPTION_AWARE_ASSIGNER);

    const members = [
      { memberId: 'click-1', memberMetadata: protocolOf(['clickstream']).metadata },
      { memberId: 'iot-1', memberMetadata: protocolOf(['iot']).metadata },
      { memberId: 'click-2', memberMetadata: protocolOf(['clickstream']).metadata },
    ];
    const assignment = await assigner.assign({ members, topics: ['clickstream'] } as unknown as Parameters<
      typeof assigner.assign
    >[0]);

    expect(targeted).toEqual([['clickstream', 'iot']]);
    expect(refreshes).toBe(1);
    const decoded = Object.fromEntries(
      assignment.map((a) => [a.memberId, AssignerProtocol.MemberAssignment.decode(a.memberAssignment)?.assignment]),
    );
    expect(decoded).toEqual({
      'click-1': { clickstream: [0, 1] },
      'click-2': { clickstream: [2, 3] },
      'iot-1': { iot: [0, 1] },
    });
  });

  it('puts the partition counts it knows into its member metadata, so a grown topic changes it (and forces a rebalance)', () => {
    let clickPartitions = 2;
    const cluster = {
      findTopicPartitionMetadata(topic: string) {
        return Array.from({ length: topic === 'clickstream' ? clickPartitions : 1 }, (_, partitionId) => ({
          partitionId,
        }));
      },
    };
    const assigner = subscriptionAwareAssigner({ cluster } as unknown as Parameters<
      typeof subscriptionAwareAssigner
    >[0]);
    const before = assigner.protocol({ topics: ['clickstream'] }).metadata;
    expect(assigner.protocol({ topics: ['clickstream'] }).metadata.equals(before)).toBe(true);
    clickPartitions = 4;
    const after = assigner.protocol({ topics: ['clickstream'] }).metadata;
    expect(after.equals(before)).toBe(false);
    expect(AssignerProtocol.MemberMetadata.decode(after)?.topics).toEqual(['clickstream']);
  });
});
