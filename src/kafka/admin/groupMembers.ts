/**
 * Who holds which partition of a consumer group, as Kafka says (DescribeGroups), not as the local
 * process believes: `services ps`, the dashboard and the Kafka browser (architecture.md, "Services
 * and operating"). The ETL may run as several processes in one group, so only Kafka knows them all.
 */
import kafkajs, { type Admin, type GroupDescription } from 'kafkajs';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import { withAdminSession } from './adminSession.js';

const { AssignerProtocol } = kafkajs;

export interface TopicAssignment {
  topic: string;
  /** Ascending. */
  partitions: number[];
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  /** As the broker saw the connection, e.g. `/127.0.0.1`. */
  host: string;
  /** By topic name; empty while the group rebalances or when the protocol is not `consumer`. */
  assignment: TopicAssignment[];
}

export interface GroupMembers {
  groupId: string;
  /** Kafka's group state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead. */
  state: string;
  protocolType: string;
  /** The assignor's name (e.g. `SubscriptionAwareAssigner`); empty when the group has no members. */
  protocol: string;
  /** Sorted by client id, then host, then member id. */
  members: GroupMember[];
}

/** A member's assignment bytes as topics and sorted partitions; [] when there is none to decode. */
export function decodeAssignment(protocolType: string, bytes: Buffer): TopicAssignment[] {
  if (protocolType !== 'consumer' || bytes.length === 0) return [];
  const decoded = AssignerProtocol.MemberAssignment.decode(bytes);
  return Object.entries(decoded?.assignment ?? {})
    .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
    .filter((t) => t.partitions.length > 0)
    .sort((a, b) => a.topic.localeCompare(b.topic));
}

export function compareMembers(a: GroupMember, b: GroupMember): number {
  return a.clientId.localeCompare(b.clientId) || a.host.localeCompare(b.host) || a.memberId.localeCompare(b.memberId);
}

/** One described group as members; a group Kafka does not know comes back `Dead` with no members. */
export function groupMembersOf(g: GroupDescription): GroupMembers {
  return {
    groupId: g.groupId,
    state: g.state,
    protocolType: g.protocolType,
    protocol: g.protocol,
    members: g.members
      .map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: decodeAssignment(g.protocolType, m.memberAssignment),
      }))
      .sort(compareMembers),
  };
}

/** DescribeGroups through an admin client the caller owns (the Kafka browser keeps one open). */
export async function describeGroupMembers(admin: Admin, groupId: string): Promise<GroupMembers> {
  const { groups } = await admin.describeGroups([groupId]);
  const g = groups[0];
  return g ? groupMembersOf(g) : { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] };
}

/**
 * The members of `groupId` within `timeoutMs` (default kafka.unreachable_timeout); a Kafka that
 * does not answer is an SdpError (KAFKA_UNREACHABLE), an unknown or empty group is no error.
 */
export async function fetchGroupMembers(
  config: Config,
  logger: Logger,
  groupId: string,
  timeoutMs: number = config.kafka.unreachable_timeout,
): Promise<GroupMembers> {
  return withAdminSession(
    config,
    logger,
    { clientSuffix: 'admin', retries: 1, what: `describing consumer group ${groupId}`, timeoutMs },
    (admin) => describeGroupMembers(admin, groupId),
  );
}

/** `clickstream 0,1 · iot 2,3`; `-` when nothing is assigned. */
export function formatAssignment(assignment: readonly TopicAssignment[]): string {
  if (assignment.length === 0) return '-';
  return assignment.map((t) => `${t.topic} ${t.partitions.join(',')}`).join(' · ');
}
