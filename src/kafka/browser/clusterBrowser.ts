/**
 * The read-only view of a Kafka cluster behind the Kafka browser (ui.kafka_ui_port) and the
 * dashboard's log-end offsets: brokers, topics, partitions, consumer groups and messages. Admin
 * requests go through one kafkajs admin client; messages are read by a group-less Fetch
 * (partitionFetch.ts), so browsing never creates a consumer group.
 */
import kafkajs, { type Admin } from 'kafkajs';
import type { Config } from '../../config/schema.js';
import { ErrorCodes, SdpError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { createKafkaClient } from '../client.js';
import { displayBytes, type DisplayedBytes } from './displayBytes.js';
import { describeLogDirSizes } from '../wire/logDirSizes.js';
import { fetchPartitionRecords } from '../wire/partitionFetch.js';
import { connectionSecurity } from '../security.js';
import { withTimeout } from '../../system/withTimeout.js';
import { describeGroupMembers, groupMembersOf, type GroupMember, type GroupMembers } from '../admin/groupMembers.js';
import { windowTopicRole } from '../admin/windowTopics.js';

const { ConfigResourceTypes } = kafkajs;

export interface BrokerView {
  nodeId: number | null;
  address: string;
  controller: boolean;
  up: boolean;
}

export interface TopicSummary {
  name: string;
  /** Kafka's own (`__consumer_offsets`, …) or the window stages' (`<group>-pv-repartition`, `<group>-pv-state`). */
  internal: boolean;
  partitions: number;
  replicationFactor: number;
  /** Records between the start and end offsets of every partition (end − start, summed). */
  records: string;
  /** Bytes on disk over every replica (null when the brokers did not say: TLS/SASL, or no answer). */
  bytes: number | null;
}

export interface PartitionView {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  startOffset: string;
  endOffset: string;
}

export interface TopicDetail extends TopicSummary {
  partitionList: PartitionView[];
  configs: Array<{ name: string; value: string | null; isDefault: boolean }>;
}

export interface GroupSummary {
  groupId: string;
  state: string;
  protocolType: string;
  members: number;
}

export interface GroupDetail extends GroupSummary {
  memberList: GroupMember[];
  offsets: Array<{ topic: string; partition: number; committed: string; endOffset: string; lag: string }>;
}

export type MessageQuery =
  | { topic: string; partition: number; from: 'last'; limit: number }
  | { topic: string; partition: number; from: 'offset'; offset: bigint; limit: number }
  | { topic: string; partition: number; from: 'timestamp'; timestampMs: number; limit: number };

export interface MessageView {
  partition: number;
  offset: string;
  timestampMs: number;
  key: DisplayedBytes;
  headers: Array<{ key: string; value: DisplayedBytes }>;
  value: DisplayedBytes;
}

export interface ClusterBrowser {
  brokers(): Promise<BrokerView[]>;
  topics(): Promise<TopicSummary[]>;
  topic(name: string): Promise<TopicDetail>;
  groups(): Promise<GroupSummary[]>;
  group(groupId: string): Promise<GroupDetail>;
  /** Who holds which partition of one group (the dashboard's consumer-group panel). */
  groupMembers(groupId: string): Promise<GroupMembers>;
  messages(query: MessageQuery): Promise<MessageView[]>;
  /** Start and end (log end) offset of every partition of each topic; a topic that is missing maps to []. */
  topicOffsets(
    topics: readonly string[],
  ): Promise<Map<string, Array<{ partition: number; start: string; end: string }>>>;
  /** Up to `limit` records in [from, end): offsets and timestamps only (the dashboard's lag). */
  recordsFrom(
    topic: string,
    partition: number,
    from: bigint,
    end: bigint,
    limit: number,
  ): Promise<Array<{ offset: string; timestampMs: number }>>;
  close(): Promise<void>;
}

/** Most records a message query returns, whatever the limit asked. */
export const MAX_MESSAGES = 500;
const FETCH_MAX_BYTES = 1024 * 1024;
const LAG_FETCH_MAX_BYTES = 64 * 1024;

export function createClusterBrowser(
  config: Config,
  logger: Logger,
  options: { timeoutMs?: number } = {},
): ClusterBrowser {
  const timeoutMs = options.timeoutMs ?? Math.min(config.kafka.request_timeout, 10_000);
  const log = logger.child({ component: 'cluster-browser' });
  let admin: Admin | undefined;
  let connecting: Promise<Admin> | undefined;

  const bounded = <T>(what: string, p: Promise<T>): Promise<T> =>
    withTimeout(p, timeoutMs, `${what}: no answer from Kafka within ${timeoutMs} ms`);

  const connect = (): Promise<Admin> => {
    if (admin) return Promise.resolve(admin);
    connecting ??= (async () => {
      const a = createKafkaClient(config, log, {
        clientId: `${config.kafka.client_id}-ui`,
        level: 'error',
        retries: 1,
      }).admin();
      try {
        await bounded('connect', a.connect());
      } catch (err) {
        connecting = undefined;
        await a.disconnect().catch(() => undefined);
        throw err;
      }
      admin = a;
      return a;
    })();
    return connecting;
  };

  const call = async <T>(what: string, f: (a: Admin) => Promise<T>): Promise<T> => bounded(what, f(await connect()));

  const summarise = (
    t: { name: string; partitions: Array<{ replicas: number[] }> },
    offsets: Array<{ low: string; high: string }>,
  ): TopicSummary => ({
    name: t.name,
    internal: t.name.startsWith('__') || windowTopicRole(t.name) !== undefined,
    partitions: t.partitions.length,
    replicationFactor: t.partitions[0]?.replicas.length ?? 0,
    records: offsets.reduce((sum, o) => sum + (BigInt(o.high) - BigInt(o.low)), 0n).toString(),
    bytes: null,
  });

  // Raw requests (sizes, fetches) speak TLS and SASL as the kafkajs clients do.
  const security = connectionSecurity(config);
  const topicSizes = async (): Promise<Map<string, number>> => {
    const cluster = await call('describeCluster', (a) => a.describeCluster());
    return describeLogDirSizes(cluster.brokers, {
      timeoutMs,
      clientId: `${config.kafka.client_id}-ui`,
      security,
    }).catch((err: unknown) => {
      log.debug({ err }, 'log dir sizes not available');
      return new Map<string, number>();
    });
  };

  // Leaders change rarely; the dashboard asks every 2 s, so remember them for a few seconds.
  const leaders = new Map<string, { atMs: number; host: string; port: number }>();
  const LEADER_TTL_MS = 10_000;
  const cachedLeader = async (topic: string, partition: number): Promise<{ host: string; port: number }> => {
    const key = `${topic}\u0000${partition}`;
    const known = leaders.get(key);
    if (known && Date.now() - known.atMs < LEADER_TTL_MS) return known;
    const found = await leaderAddress(topic, partition);
    leaders.set(key, { atMs: Date.now(), ...found });
    return found;
  };

  const leaderAddress = async (topic: string, partition: number): Promise<{ host: string; port: number }> => {
    const [meta, cluster] = await Promise.all([
      call('fetchTopicMetadata', (a) => a.fetchTopicMetadata({ topics: [topic] })),
      call('describeCluster', (a) => a.describeCluster()),
    ]);
    const p = meta.topics[0]?.partitions.find((x) => x.partitionId === partition);
    if (!p) throw new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic ${topic} has no partition ${partition}`);
    const broker = cluster.brokers.find((b) => b.nodeId === p.leader);
    if (!broker)
      throw new SdpError(
        ErrorCodes.KAFKA_BROWSER_FAILED,
        `the leader of ${topic}/${partition} (broker ${p.leader}) is not available`,
      );
    return { host: broker.host, port: broker.port };
  };

  return {
    async brokers() {
      const cluster = await call('describeCluster', (a) => a.describeCluster());
      const up: BrokerView[] = cluster.brokers
        .map((b) => ({
          nodeId: b.nodeId,
          address: `${b.host}:${b.port}`,
          controller: b.nodeId === cluster.controller,
          up: true,
        }))
        .sort((a, b) => (a.nodeId ?? 0) - (b.nodeId ?? 0));
      // A configured bootstrap server that the metadata does not list is a broker that is down.
      const listed = new Set(up.map((b) => b.address));
      const down = config.kafka.bootstrap_servers
        .filter((s) => !listed.has(s))
        .map((address) => ({ nodeId: null, address, controller: false, up: false }));
      return [...up, ...down];
    },

    async topics() {
      const names = (await call('listTopics', (a) => a.listTopics())).sort();
      if (names.length === 0) return [];
      const meta = await call('fetchTopicMetadata', (a) => a.fetchTopicMetadata({ topics: names }));
      const [offsets, sizes] = await Promise.all([
        Promise.all(
          meta.topics.map((t) => call('fetchTopicOffsets', (a) => a.fetchTopicOffsets(t.name)).catch(() => [])),
        ),
        topicSizes(),
      ]);
      return meta.topics
        .map((t, i) => ({ ...summarise(t, offsets[i] ?? []), bytes: sizes.get(t.name) ?? null }))
        .sort((a, b) => a.name.localeCompare(b.name));
    },

    async topic(name) {
      const [meta, offsets, configs, sizes] = await Promise.all([
        call('fetchTopicMetadata', (a) => a.fetchTopicMetadata({ topics: [name] })),
        call('fetchTopicOffsets', (a) => a.fetchTopicOffsets(name)),
        call('describeConfigs', (a) =>
          a.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name }], includeSynonyms: false }),
        ),
        topicSizes(),
      ]);
      const t = meta.topics[0];
      if (!t) throw new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, `no topic ${name}`);
      const byPartition = new Map(offsets.map((o) => [o.partition, o]));
      return {
        ...summarise(t, offsets),
        bytes: sizes.get(name) ?? null,
        partitionList: t.partitions
          .map((p) => ({
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            startOffset: byPartition.get(p.partitionId)?.low ?? '0',
            endOffset: byPartition.get(p.partitionId)?.high ?? '0',
          }))
          .sort((a, b) => a.partition - b.partition),
        configs: (configs.resources[0]?.configEntries ?? [])
          .map((c) => ({
            name: c.configName,
            value: c.isSensitive ? '(sensitive)' : c.configValue,
            isDefault: c.isDefault,
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      };
    },

    async groups() {
      const { groups } = await call('listGroups', (a) => a.listGroups());
      if (groups.length === 0) return [];
      const described = await call('describeGroups', (a) => a.describeGroups(groups.map((g) => g.groupId)));
      return described.groups
        .map((g) => ({ groupId: g.groupId, state: g.state, protocolType: g.protocolType, members: g.members.length }))
        .sort((a, b) => a.groupId.localeCompare(b.groupId));
    },

    async group(groupId) {
      const described = await call('describeGroups', (a) => a.describeGroups([groupId]));
      const g = described.groups[0];
      if (!g) throw new SdpError(ErrorCodes.KAFKA_BROWSER_FAILED, `no group ${groupId}`);
      const memberList = groupMembersOf(g).members;
      const committed = await call('fetchOffsets', (a) => a.fetchOffsets({ groupId }));
      const offsets: GroupDetail['offsets'] = [];
      for (const t of committed) {
        const ends = await call('fetchTopicOffsets', (a) => a.fetchTopicOffsets(t.topic)).catch(() => []);
        const endOf = new Map(ends.map((e) => [e.partition, e.high]));
        for (const p of t.partitions) {
          const end = endOf.get(p.partition) ?? '0';
          const lag = p.offset === '-1' ? '' : (BigInt(end) - BigInt(p.offset)).toString();
          offsets.push({ topic: t.topic, partition: p.partition, committed: p.offset, endOffset: end, lag });
        }
      }
      offsets.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
      return {
        groupId: g.groupId,
        state: g.state,
        protocolType: g.protocolType,
        members: g.members.length,
        memberList,
        offsets,
      };
    },

    groupMembers(groupId) {
      return call('describeGroups', (a) => describeGroupMembers(a, groupId));
    },

    async messages(query) {
      const limit = Math.max(1, Math.min(MAX_MESSAGES, Math.floor(query.limit)));
      const offsets = await call('fetchTopicOffsets', (a) => a.fetchTopicOffsets(query.topic));
      const o = offsets.find((x) => x.partition === query.partition);
      if (!o)
        throw new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic ${query.topic} has no partition ${query.partition}`);
      const start = BigInt(o.low);
      const end = BigInt(o.high);
      let from: bigint;
      if (query.from === 'last') from = end - BigInt(limit);
      else if (query.from === 'offset') from = query.offset;
      else {
        const found = await call('fetchTopicOffsetsByTimestamp', (a) =>
          a.fetchTopicOffsetsByTimestamp(query.topic, query.timestampMs),
        );
        from = BigInt(found.find((x) => x.partition === query.partition)?.offset ?? o.high);
      }
      if (from < start) from = start;
      const leader = await leaderAddress(query.topic, query.partition);
      const out: MessageView[] = [];
      // Transaction markers take offsets too: keep fetching until `limit` records or the end.
      while (from < end && out.length < limit) {
        const { records } = await fetchPartitionRecords({
          ...leader,
          topic: query.topic,
          partition: query.partition,
          fetchOffset: from,
          maxBytes: FETCH_MAX_BYTES,
          timeoutMs,
          clientId: `${config.kafka.client_id}-ui`,
          security,
        });
        if (records.length === 0) break;
        for (const r of records) {
          if (out.length >= limit || BigInt(r.offset) >= end) break;
          out.push({
            partition: query.partition,
            offset: r.offset,
            timestampMs: r.timestampMs,
            key: displayBytes(r.key),
            headers: r.headers.map((h) => ({ key: h.key, value: displayBytes(h.value) })),
            value: displayBytes(r.value),
          });
        }
        from = BigInt(records[records.length - 1]!.offset) + 1n;
      }
      return out;
    },

    async topicOffsets(topics) {
      const result = new Map<string, Array<{ partition: number; start: string; end: string }>>();
      await Promise.all(
        topics.map(async (t) => {
          const offsets = await call('fetchTopicOffsets', (a) => a.fetchTopicOffsets(t)).catch(() => []);
          result.set(
            t,
            offsets
              .map((o) => ({ partition: o.partition, start: o.low, end: o.high }))
              .sort((a, b) => a.partition - b.partition),
          );
        }),
      );
      return result;
    },

    async recordsFrom(topic, partition, from, end, limit) {
      const leader = await cachedLeader(topic, partition);
      const out: Array<{ offset: string; timestampMs: number }> = [];
      let next = from;
      while (next < end && out.length < limit) {
        // Small fetches: the dashboard asks every 2 s for each lagging partition (a batch larger
        // than maxBytes still comes whole, so progress is guaranteed).
        const { records } = await fetchPartitionRecords({
          ...leader,
          topic,
          partition,
          fetchOffset: next,
          maxBytes: LAG_FETCH_MAX_BYTES,
          timeoutMs,
          clientId: `${config.kafka.client_id}-ui`,
          security,
        }).catch((err: unknown) => {
          leaders.delete(`${topic}\u0000${partition}`);
          throw err;
        });
        if (records.length === 0) break;
        for (const r of records) {
          if (out.length >= limit || BigInt(r.offset) >= end) break;
          out.push({ offset: r.offset, timestampMs: r.timestampMs });
        }
        next = BigInt(records[records.length - 1]!.offset) + 1n;
      }
      return out;
    },

    async close() {
      const a = admin ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      admin = undefined;
      connecting = undefined;
      await a?.disconnect().catch(() => undefined);
    },
  };
}
