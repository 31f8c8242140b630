/**
 * A partition assigner for a group whose members subscribe to different topics (one ingest
 * consumer per topic, all in `etl.consumer_group`). kafkajs's built-in round-robin assigner only
 * looks at the leader's own subscription and hands every member partitions of the leader's topics;
 * this one reads each member's subscription from its metadata and, per topic, splits the topic's
 * partitions in contiguous ranges over the members subscribed to it (as Kafka's RangeAssignor).
 */
import './patches/consumerFixes.js'; // before kafkajs loads
import kafkajs, { type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;

export const SUBSCRIPTION_AWARE_ASSIGNER = 'SubscriptionAwareRangeAssigner';

/** Pure part: topic → member ids subscribed, partitions per topic → member → topic → partitions. */
export function assignRanges(
  subscriptions: ReadonlyMap<string, readonly string[]>,
  partitionsOf: (topic: string) => number[],
): Map<string, Record<string, number[]>> {
  const result = new Map<string, Record<string, number[]>>();
  for (const memberId of subscriptions.keys()) result.set(memberId, {});
  const topics = [...new Set([...subscriptions.values()].flat())].sort();
  for (const topic of topics) {
    const members = [...subscriptions]
      .filter(([, t]) => t.includes(topic))
      .map(([id]) => id)
      .sort();
    const partitions = partitionsOf(topic).sort((a, b) => a - b);
    const per = Math.floor(partitions.length / members.length);
    const extra = partitions.length % members.length;
    let next = 0;
    members.forEach((memberId, i) => {
      const count = per + (i < extra ? 1 : 0);
      if (count > 0) result.get(memberId)![topic] = partitions.slice(next, next + count);
      next += count;
    });
  }
  return result;
}

export const subscriptionAwareAssigner: PartitionAssigner = ({ cluster }) => ({
  name: SUBSCRIPTION_AWARE_ASSIGNER,
  version: 0,
  async assign({ members }) {
    const subscriptions = new Map<string, string[]>();
    for (const member of members) {
      const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
      subscriptions.set(member.memberId, metadata?.topics ?? []);
    }
    const topics = [...new Set([...subscriptions.values()].flat())];
    // The leader only has metadata for its own topics until asked for the others.
    await cluster.addMultipleTargetTopics(topics);
    // Fresh metadata at every assignment: partitions added to a topic since the leader's last
    // refresh (it may be another topic's member, whose metadata of this topic is old) get assigned.
    await cluster.refreshMetadata();
    const ranges = assignRanges(subscriptions, (topic) =>
      cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId),
    );
    return [...ranges].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    // The partition counts this member knows go with its subscription: a member that saw a topic
    // grow rejoins with different metadata, which makes the coordinator rebalance (a rejoin with
    // unchanged metadata just gets the old assignment back, when the leader is another member).
    const counts: Record<string, number> = {};
    for (const topic of topics) {
      try {
        counts[topic] = cluster.findTopicPartitionMetadata(topic).length;
      } catch {
        counts[topic] = 0; // metadata not loaded yet
      }
    }
    const userData = Buffer.from(JSON.stringify(counts));
    return {
      name: SUBSCRIPTION_AWARE_ASSIGNER,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData }),
    };
  },
});
