/**
 * The `services ps` table (architecture.md, "Services and operating"): one row per broker, one
 * for the platform and one per local ETL member of `services scale`, each with one per stream under it;
 * then the ETL's consumer group as Kafka describes it, one row per member. Pure: rows in, text out.
 */
import { formatAssignment, type GroupMember, type GroupMembers } from '../kafka/admin/groupMembers.js';
import { renderTable } from '../system/textTable.js';

export interface BrokerRow {
  name: string;
  nodeId: number | null;
  port: number;
  /** `pid 1234`, a container name, or undefined when not known (a cluster started elsewhere). */
  process?: string;
  up: boolean;
  /** Partitions this broker leads whose ISR is smaller than their replica set; null when not known. */
  underReplicated: number | null;
}

export interface StreamRow {
  name: string;
  /** Produced by this platform's generators, events/s. */
  producedPerSecond: number | null;
  /** Processed by the ETL (valid + rejected), events/s. */
  processedPerSecond: number | null;
  lag: number | null;
}

export interface PlatformRow {
  state: 'ready' | 'starting' | 'stopped' | 'stale pid file' | 'not answering';
  pid?: number;
  port?: number;
  uptimeSeconds?: number;
  lastCheckpointAgeSeconds?: number | null;
  streams: StreamRow[];
}

/** An ETL member of `services scale` on this machine: a row like the platform's, named `member-<i>`. */
export interface MemberRow extends PlatformRow {
  index: number;
}

export const PS_HEADER = [
  'SERVICE',
  'NODE',
  'PORT',
  'PID/CONTAINER',
  'STATE',
  'UNDER-REPLICATED',
  'UPTIME',
  'EVENTS/S PRODUCED/PROCESSED',
  'LAG',
  'LAST CHECKPOINT',
] as const;

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

function rate(n: number | null): string {
  return n === null ? '-' : String(Math.round(n * 10) / 10);
}

function processRows(name: string, row: PlatformRow): string[][] {
  const checkpoint =
    row.lastCheckpointAgeSeconds === undefined
      ? '-'
      : row.lastCheckpointAgeSeconds === null
        ? 'none yet'
        : `${formatDuration(row.lastCheckpointAgeSeconds)} ago`;
  const rows: string[][] = [
    [
      name,
      '-',
      row.port === undefined ? '-' : String(row.port),
      row.pid === undefined ? '-' : `pid ${row.pid}`,
      row.state,
      '-',
      row.uptimeSeconds === undefined ? '-' : formatDuration(row.uptimeSeconds),
      '-',
      '-',
      checkpoint,
    ],
  ];
  for (const s of row.streams) {
    rows.push([
      `  ${s.name}`,
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      `${rate(s.producedPerSecond)} / ${rate(s.processedPerSecond)}`,
      s.lag === null ? '-' : String(s.lag),
      '-',
    ]);
  }
  return rows;
}

/** Brokers, the platform, then the local ETL members of `services scale` (those with a pid file). */
export function renderPs(
  brokers: readonly BrokerRow[],
  platform: PlatformRow,
  members: readonly MemberRow[] = [],
): string {
  const rows: string[][] = brokers.map((b) => [
    b.name,
    b.nodeId === null ? '-' : String(b.nodeId),
    String(b.port),
    b.process ?? '-',
    b.up ? 'up' : 'down',
    b.underReplicated === null ? '-' : String(b.underReplicated),
    '-',
    '-',
    '-',
    '-',
  ]);
  rows.push(...processRows('platform', platform));
  for (const m of members) rows.push(...processRows(`member-${m.index}`, m));
  return renderTable(PS_HEADER, rows);
}

/** `ps` exits 0 only when every broker is up, the platform is ready and so is every local member listed. */
export function allUp(
  brokers: readonly BrokerRow[],
  platform: PlatformRow,
  members: readonly MemberRow[] = [],
): boolean {
  return (
    brokers.length > 0 &&
    brokers.every((b) => b.up) &&
    platform.state === 'ready' &&
    members.every((m) => m.state === 'ready')
  );
}

/** Under-replicated partitions per leader id, over topic metadata. */
export function underReplicatedByLeader(
  topics: ReadonlyArray<{
    partitions: ReadonlyArray<{ leader: number; replicas: readonly number[]; isr: readonly number[] }>;
  }>,
): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of topics) {
    for (const p of t.partitions) {
      if (p.leader < 0 || p.isr.length >= p.replicas.length) continue;
      counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
    }
  }
  return counts;
}

/** What `ps` knows of the ETL's consumer group: Kafka's description, or why there is none. */
export type GroupView = { groupId: string; members: GroupMembers } | { groupId: string; error: string };

/**
 * Member ids of one local process: its ETL client ids (`<prefix><topic>`: `<kafka.client_id>-etl-` for the
 * platform, `<kafka.client_id>-member-<i>-etl-` for member i) from a local address. Two local processes with
 * the same client id cannot be told apart: then none.
 */
export function localMemberIds(
  members: readonly GroupMember[],
  etlClientIdPrefix: string,
  localHosts: ReadonlySet<string>,
): Set<string> {
  const mine = members.filter(
    (m) => m.clientId.startsWith(etlClientIdPrefix) && localHosts.has(m.host.replace(/^\//, '')),
  );
  const ids = mine.map((m) => m.clientId);
  if (new Set(ids).size !== ids.length) return new Set();
  return new Set(mine.map((m) => m.memberId));
}

export const GROUP_HEADER = ['CLIENT ID', 'HOST', 'PARTITIONS', ''] as const;

/** `labels`: member id → which local process it is (`this platform`, `member 2`). */
export function renderGroup(view: GroupView, labels: ReadonlyMap<string, string> = new Map()): string {
  if ('error' in view) return `consumer group ${view.groupId}: not known (${view.error})`;
  const { state, members } = view.members;
  const title = `consumer group ${view.groupId} (${state})`;
  if (members.length === 0) return `${title}: no members`;
  const rows = members.map((m) => [
    m.clientId,
    m.host.replace(/^\//, ''),
    formatAssignment(m.assignment),
    labels.has(m.memberId) ? `<- ${labels.get(m.memberId)}` : '',
  ]);
  return `${title}\n${renderTable(GROUP_HEADER, rows)}`;
}
