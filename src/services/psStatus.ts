/**
 * Gathers the rows of `services ps` (architecture.md, "Services and operating"): brokers from a
 * metadata probe of each bootstrap server, the local cluster's pids and the topics' ISR; the
 * platform and each ETL member of `services scale` from its pid file, /readyz and /api/status; the ETL's
 * consumer group from Kafka (DescribeGroups).
 */
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/schema.js';
import { fetchGroupMembers } from '../kafka/admin/groupMembers.js';
import { createKafkaClient } from '../kafka/client.js';
import { localClusterStatus } from '../localKafka/localCluster.js';
import { withKafkaDeadline } from '../kafka/reachability.js';
import type { Logger } from '../log/logger.js';
import type { PlatformMetrics } from '../platform/platformMetrics.js';
import { probeBootstrap } from './kafkaService.js';
import { httpJson, httpStatus, inspectPlatform, logFileOf, runDirOf, statusUrlFromLog } from './platformService.js';
import { memberEtlClientIdPrefix } from './memberLayout.js';
import { listLocalMembers } from './memberService.js';
import {
  localMemberIds,
  type MemberRow,
  underReplicatedByLeader,
  type BrokerRow,
  type GroupView,
  type PlatformRow,
  type StreamRow,
} from './psTable.js';
import { readServicesState } from './serviceState.js';

const GROUP_TIMEOUT_MS = 12_000;

async function topicMetadata(config: Config, logger: Logger): Promise<Map<number, number> | undefined> {
  const admin = createKafkaClient(config, logger, { retries: 1, level: 'error' }).admin();
  try {
    return await withKafkaDeadline(config.kafka.bootstrap_servers, 8_000, 'reading topic metadata', async () => {
      await admin.connect();
      const names = await admin.listTopics();
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      return underReplicatedByLeader(
        topics.map((t) => ({
          partitions: t.partitions.map((p) => ({ leader: p.leader, replicas: p.replicas, isr: p.isr })),
        })),
      );
    });
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function containerOnPort(port: number): string | undefined {
  const r = spawnSync('docker', ['ps', '--filter', `publish=${port}`, '--format', '{{.Names}}'], {
    encoding: 'utf8',
    timeout: 5_000,
  });
  const name = r.status === 0 ? r.stdout.trim().split('\n')[0] : undefined;
  return name ? `container ${name}` : undefined;
}

export async function brokerRows(config: Config, logger: Logger): Promise<BrokerRow[]> {
  const [probes, local] = await Promise.all([probeBootstrap(config), localClusterStatus(config)]);
  const anyUp = probes.some((p) => p.listening);
  const under = anyUp ? await topicMetadata(config, logger) : undefined;
  const brokers = probes.flatMap((p) => p.metadata?.brokers ?? []);
  const docker = readServicesState(runDirOf(config))?.kafka?.mode === 'docker';
  return probes.map((probe, i) => {
    const port = Number(probe.server.slice(probe.server.lastIndexOf(':') + 1));
    const nodeId = brokers.find((b) => b.port === port)?.nodeId ?? null;
    const localNode = local.nodes.find((n) => n.port === port && n.alive);
    const processName =
      localNode?.pid !== undefined ? `pid ${localNode.pid}` : docker ? containerOnPort(port) : undefined;
    return {
      name: `kafka-${i + 1}`,
      nodeId,
      port,
      ...(processName ? { process: processName } : {}),
      up: probe.listening,
      underReplicated: nodeId !== null && under ? (under.get(nodeId) ?? 0) : null,
    };
  });
}

export async function platformRow(config: Config, nowMs = Date.now()): Promise<PlatformRow> {
  return processRow(config, runDirOf(config), logFileOf(config), nowMs);
}

/** The ETL members of `services scale` on this machine: one row each, as the platform's. */
export async function memberRows(config: Config, nowMs = Date.now()): Promise<MemberRow[]> {
  const members = listLocalMembers(config).filter((m) => m.record !== undefined);
  return Promise.all(
    members.map(async (m) => ({
      index: m.paths.index,
      ...(await processRow(config, m.paths.runDir, m.paths.logFile, nowMs)),
    })),
  );
}

/** A process of `services` from its pid file, the status URL it logged, its /readyz and /api/status. */
async function processRow(config: Config, runDir: string, logFile: string, nowMs: number): Promise<PlatformRow> {
  const { record, verdict } = inspectPlatform(runDir);
  if (!record || !verdict) return { state: 'stopped', streams: [] };
  if (verdict.state !== 'running') return { state: 'stale pid file', pid: record.pid, streams: [] };
  const url = statusUrlFromLog(logFile, record.pid);
  const startedMs = Date.parse(record.startedAt);
  const base: PlatformRow = {
    state: 'starting',
    pid: record.pid,
    ...(Number.isFinite(startedMs) ? { uptimeSeconds: (nowMs - startedMs) / 1000 } : {}),
    streams: [],
  };
  if (!url) return base;
  const port = Number(new URL(url).port);
  const [ready, status] = await Promise.all([
    httpStatus(new URL('/readyz', url).toString()),
    httpJson<PlatformMetrics>(new URL('/api/status', url).toString()),
  ]);
  if (ready === undefined) return { ...base, port, state: 'not answering' };
  const streams: StreamRow[] = [];
  if (status) {
    const topics = { clickstream: config.topics.clickstream, iot: config.topics.iot } as const;
    for (const [stream, topic] of Object.entries(topics)) {
      const produced = status.producer?.streams.find((s) => s.stream === stream)?.eventsPerSecond ?? null;
      const progress = status.etl?.progress?.find((p) => p.topic === topic);
      const lag = status.etl?.ingest.find((i) => i.topic === topic)?.lag ?? progress?.lag ?? null;
      streams.push({
        name: stream,
        producedPerSecond: produced,
        processedPerSecond: progress ? progress.eventsPerSecond : null,
        lag,
      });
    }
  }
  const lastMs = status?.etl?.lastCheckpointMs;
  return {
    ...base,
    port,
    state: ready === 200 ? 'ready' : 'starting',
    ...(status?.startedAtMs ? { uptimeSeconds: (nowMs - status.startedAtMs) / 1000 } : {}),
    ...(status?.etl
      ? { lastCheckpointAgeSeconds: lastMs === null || lastMs === undefined ? null : (nowMs - lastMs) / 1000 }
      : {}),
    streams,
  };
}

/**
 * The ETL's consumer group as Kafka describes it; a Kafka that does not answer is a line, not a failure of ps. The
 * bound outlasts a coordinator that just died (architecture.md, "A broker that just died": fenced within the brokers'
 * 9 s session timeout, then the session's next try, at most 2 s later, finds the new one).
 */
export async function groupView(config: Config, logger: Logger): Promise<GroupView> {
  const groupId = config.etl.consumer_group;
  try {
    return { groupId, members: await fetchGroupMembers(config, logger, groupId, GROUP_TIMEOUT_MS) };
  } catch (err) {
    return { groupId, error: err instanceof Error ? err.message : String(err) };
  }
}

/** This machine's addresses, as a broker would see a connection from it. */
export function localAddresses(): Set<string> {
  return new Set(
    Object.values(networkInterfaces())
      .flat()
      .flatMap((i) => (i ? [i.address] : [])),
  );
}

/**
 * The group members that are this machine's processes, by member id: its running platform (`this platform`)
 * and the ETL members of `services scale` (`member <i>`), told apart by their client ids.
 */
export function localGroupLabels(
  config: Config,
  view: GroupView,
  platform: PlatformRow,
  members: readonly MemberRow[],
): Map<string, string> {
  const labels = new Map<string, string>();
  if ('error' in view) return labels;
  const hosts = localAddresses();
  const mark = (row: PlatformRow, prefix: string, label: string) => {
    if (row.pid === undefined || row.state === 'stale pid file') return;
    for (const id of localMemberIds(view.members.members, prefix, hosts)) labels.set(id, label);
  };
  mark(platform, `${config.kafka.client_id}-etl-`, 'this platform');
  for (const m of members) mark(m, memberEtlClientIdPrefix(config.kafka.client_id, m.index), `member ${m.index}`);
  return labels;
}
