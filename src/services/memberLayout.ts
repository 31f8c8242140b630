/**
 * Where a local ETL member of `services scale` lives (architecture.md, "Services and operating"). Member i
 * (1, 2, …) is `node dist/main.js etl` with its own run dir `<services.run_dir>/members/<i>` (pid file, log),
 * its own checkpoint store `<storage.checkpoint_root>/members/<i>` (one process per store, "The checkpoint
 * protocol"), its own status port and client id; the lake, the topics and `etl.consumer_group` are shared
 * ("Growing past one machine"). Pure: paths, ports and environment in, no I/O.
 */
import { join } from 'node:path';

export const MEMBERS_DIR = 'members';
export const MEMBER_LOG_FILE = 'etl.log';
/** The member's own stdout/stderr (errors printed outside the logger); truncated at each start. */
export const MEMBER_OUT_FILE = 'etl.out';
/** More members than this on one machine is a typo, not a plan. */
export const MAX_MEMBERS = 64;

export interface MemberPaths {
  index: number;
  /** Holds its pid file (`sdp.pid`, services/pidFile.ts), its log and its stdout. */
  runDir: string;
  logFile: string;
  outFile: string;
  /** Its checkpoint store: a storage root of kind `checkpoints` of its own. */
  checkpointRoot: string;
}

export function membersDirOf(dir: string): string {
  return join(dir, MEMBERS_DIR);
}

/** `runDir` and `checkpointRoot` as resolved from services.run_dir and storage.checkpoint_root. */
export function memberPaths(runDir: string, checkpointRoot: string, index: number): MemberPaths {
  const own = join(membersDirOf(runDir), String(index));
  return {
    index,
    runDir: own,
    logFile: join(own, MEMBER_LOG_FILE),
    outFile: join(own, MEMBER_OUT_FILE),
    checkpointRoot: join(membersDirOf(checkpointRoot), String(index)),
  };
}

/** The member index a directory under `members/` names (`1` … `64`), or undefined for anything else. */
export function parseMemberDirName(name: string): number | undefined {
  if (!/^[1-9]\d{0,2}$/.test(name)) return undefined;
  const index = Number(name);
  return index <= MAX_MEMBERS ? index : undefined;
}

/**
 * `<kafka.client_id>-member-<i>`: its consumers are `…-member-<i>-etl-<topic>` in DescribeGroups, so `ps` can
 * tell which group member is which local process (the client id is only a label: the transactional ids
 * `<group>-<topic>-<p>` do not contain it).
 */
export function memberClientId(clientId: string, index: number): string {
  return `${clientId}-member-${index}`;
}

/** The ETL consumer client id prefix of member `index` (kafka/topicConsumer.ts adds `-etl-<topic>`). */
export function memberEtlClientIdPrefix(clientId: string, index: number): string {
  return `${memberClientId(clientId, index)}-etl-`;
}

export interface PortChoice {
  port: number;
  /** ui.status_port + index; false when that one was taken and the next free one was chosen. */
  preferred: boolean;
}

/**
 * A status port per member to start: ui.status_port + index, or the next port above it that is neither busy
 * nor given to another member of this call. `base` 0 (tests) gives every member 0: the OS picks, the member
 * logs it. An index without a port below 65536 is left out (the caller reports it).
 */
export function assignStatusPorts(
  indexes: readonly number[],
  base: number,
  busy: (port: number) => boolean,
): Map<number, PortChoice> {
  const chosen = new Map<number, PortChoice>();
  const given = new Set<number>();
  for (const index of [...indexes].sort((a, b) => a - b)) {
    if (base === 0) {
      chosen.set(index, { port: 0, preferred: true });
      continue;
    }
    const preferred = base + index;
    let port = preferred;
    while (port <= 65_535 && (busy(port) || given.has(port))) port += 1;
    if (port > 65_535) continue;
    given.add(port);
    chosen.set(index, { port, preferred: port === preferred });
  }
  return chosen;
}

/** The ports `assignStatusPorts` may look at for these members: what the caller must probe first. */
export function candidatePorts(indexes: readonly number[], base: number, spare = 32): number[] {
  if (base === 0 || indexes.length === 0) return [];
  const low = base + Math.min(...indexes);
  const high = Math.min(65_535, base + Math.max(...indexes) + indexes.length + spare);
  return Array.from({ length: Math.max(0, high - low + 1) }, (_, i) => low + i);
}

/**
 * The SDP_* overrides that make the shared config this member's (config/envOverrides.ts): its checkpoint
 * store, status port, client id and the window stages. Everything else (lake, topics, group, Kafka) stays as configured.
 */
export function memberEnv(paths: MemberPaths, statusPort: number, clientId: string): Record<string, string> {
  return {
    SDP_STORAGE__CHECKPOINT_ROOT: paths.checkpointRoot,
    SDP_UI__STATUS_PORT: String(statusPort),
    SDP_KAFKA__CLIENT_ID: memberClientId(clientId, paths.index),
    // Several members: the windows must be the two stages across members (architecture.md, "Windows across members").
    SDP_ETL__WINDOWS: 'members',
  };
}

/** `main.js [--config f] etl --log-file <log>`: the log path makes each member's command line its own. */
export function memberArgs(cli: string, logFile: string, configFile?: string): string[] {
  return [cli, ...(configFile ? ['--config', configFile] : []), 'etl', '--log-file', logFile];
}

/** How a member's status port came about, for the lines of `services scale`. */
export function describePort(port: number, base: number, index: number): string {
  if (base === 0) return 'a free port (ui.status_port is 0)';
  if (port === base + index) return `ui.status_port + ${index}`;
  return `the next free port (ui.status_port + ${index} = ${base + index} was taken)`;
}
