import kafkajs, { type GroupDescription } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { decodeAssignment, formatAssignment, groupMembersOf } from '../../../../src/kafka/admin/groupMembers.js';

const { AssignerProtocol } = kafkajs;

const encoded = (assignment: Record<string, number[]>): Buffer =>
  AssignerProtocol.MemberAssignment.encode({ version: 0, assignment, userData: Buffer.alloc(0) });

describe('decodeAssignment', () => {
  it('decodes a consumer assignment into topics by name with ascending partitions, empty topics left out', () => {
    expect(decodeAssignment('consumer', encoded({ iot: [3, 2], clickstream: [1, 0], other: [] }))).toEqual([
      { topic: 'clickstream', partitions: [0, 1] },
      { topic: 'iot', partitions: [2, 3] },
    ]);
  });

  it('is empty for no bytes (a rebalance) or a protocol that is not consumer', () => {
    expect(decodeAssignment('consumer', Buffer.alloc(0))).toEqual([]);
    expect(decodeAssignment('connect', encoded({ iot: [0] }))).toEqual([]);
  });
});

describe('formatAssignment', () => {
  it('lists topics and partitions, or a dash when nothing is assigned', () => {
    expect(
      formatAssignment([
        { topic: 'clickstream', partitions: [0, 1] },
        { topic: 'iot', partitions: [2, 3] },
      ]),
    ).toBe('clickstream 0,1 · iot 2,3');
    expect(formatAssignment([])).toBe('-');
  });
});

describe('groupMembersOf', () => {
  it('sorts members by client id, then host, then member id, and decodes each one', () => {
    const member = (memberId: string, clientId: string, clientHost: string, a: Record<string, number[]>) => ({
      memberId,
      clientId,
      clientHost,
      memberMetadata: Buffer.alloc(0),
      memberAssignment: encoded(a),
    });
    const g: GroupDescription = {
      groupId: 'g',
      state: 'Stable',
      protocolType: 'consumer',
      protocol: 'SubscriptionAwareAssigner',
      members: [
        member('m3', 'sdp-etl-iot', '/10.0.0.2', { iot: [1] }),
        member('m2', 'sdp-etl-iot', '/10.0.0.1', { iot: [0] }),
        member('m1', 'sdp-etl-clickstream', '/10.0.0.9', { clickstream: [0, 1] }),
      ],
    };
    const out = groupMembersOf(g);
    expect(out).toMatchObject({ groupId: 'g', state: 'Stable', protocol: 'SubscriptionAwareAssigner' });
    expect(out.members.map((m) => m.memberId)).toEqual(['m1', 'm2', 'm3']);
    expect(out.members[2]).toEqual({
      memberId: 'm3',
      clientId: 'sdp-etl-iot',
      host: '/10.0.0.2',
      assignment: [{ topic: 'iot', partitions: [1] }],
    });
  });
});
