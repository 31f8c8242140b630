/**
 * The Docker-free development cluster: `kafka.brokers` combined broker+controller KRaft nodes from
 * Apache Kafka's own jars, each a detached `java kafka.Kafka` process on 127.0.0.1. Everything of
 * a node (server.properties, data, logs, server.out, kafka.pid) lives in
 * `<kafka.local.data_dir>/node-<i>`, so a second cluster only needs other ports and another dir.
 *
 * up and down are idempotent: running nodes are left alone, stopped ones are not stopped again.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { probeBrokerMetadata } from '../kafka/wire/brokerMetadataProbe.js';
import { BROKER_LOG4J_FILE, resolveKafkaClasspath, TOOLS_LOG4J_FILE } from './classpath.js';
import {
  describePortOwner,
  ephemeralPortRange,
  findExecutable,
  isPidAlive,
  isPortFree,
  isPortListening,
  listProcesses,
  sleep,
} from '../system/processes.js';
import { localNodes, parseProperties, renderServerProperties, type LocalNode } from './serverProperties.js';
import { activeController, stopOrder } from './stopOrder.js';
import {
  ensureLocalTls,
  hasLocalTls,
  LOCAL_BROKER_USER,
  LOCAL_CLIENT_USER,
  localProbeSecurity,
  type LocalTls,
} from './tls.js';
import type { ConnectionSecurity } from '../kafka/security.js';

import { ensureRootMarker } from '../storage/rootMarker.js';

const COMPONENT = 'local-kafka';
const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;
const FORMAT_TIMEOUT_MS = 120_000;
const POLL_INTERVAL_MS = 500;

export interface LocalNodeStatus {
  nodeId: number;
  /** The pid of the node's java process, when one runs. */
  pid: number | undefined;
  alive: boolean;
  port: number;
  controllerPort: number;
  /** Whether the client port accepts connections. */
  listening: boolean;
  dir: string;
}

export interface LocalClusterStatus {
  dataDir: string;
  nodes: LocalNodeStatus[];
  /** Broker ids listed by a metadata request (describeCluster), empty when nobody answers. */
  metadataBrokerIds: number[];
  /** Every node runs and metadata lists all brokers and a controller. */
  ready: boolean;
  /** The client listener is SASL_SSL (`kafka up --secure`). */
  secure: boolean;
}

export interface LocalClusterUpResult {
  /** The CA, keystore and passwords when the client listener is SASL_SSL. */
  tls: LocalTls | undefined;
  started: number[];
  alreadyRunning: number[];
  durationMs: number;
}

export interface LocalClusterDownResult {
  /** Node processes that exited after SIGTERM. */
  stopped: number[];
  /** Node processes that had to be killed with SIGKILL. */
  killed: number[];
  /** The groups of nodes signalled one after the other (stopOrder.ts). */
  order: number[][];
  /** The active controller the nodes recorded, stopped in the last group. */
  activeController: number | undefined;
}

/** The absolute data dir of the local cluster (kafka.local.data_dir, relative to the working directory). */
export function localDataDir(config: Config): string {
  return resolve(config.kafka.local.data_dir);
}

function propertiesFile(node: LocalNode): string {
  return join(node.dir, 'server.properties');
}

/** Written when a node is formatted for `--secure`: its SCRAM users exist, its listener is SASL_SSL. */
function securityMarkerFile(node: LocalNode): string {
  return join(node.dir, 'data', 'sdp-security');
}

function isFormatted(node: LocalNode): boolean {
  return existsSync(join(node.dir, 'data', 'meta.properties'));
}

/**
 * Whether the nodes of this data dir are (to be) secured. Storage decides once formatted: the
 * SCRAM users exist only when it was formatted with --secure, so that mode sticks until `kafka clean`.
 */
function securedMode(nodes: readonly LocalNode[], dataDir: string, requested: boolean): boolean {
  const formatted = nodes.filter(isFormatted);
  if (formatted.length === 0) return requested;
  const secured = formatted.some((n) => existsSync(securityMarkerFile(n))) && hasLocalTls(dataDir);
  if (requested && !secured) {
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_START,
      `the local Kafka cluster in ${dataDir} was formatted without --secure: its storage has no SCRAM users`,
      ['run `make kafka-clean` (deletes all topics and messages), then `make kafka-up SECURE=1`'],
    );
  }
  return secured;
}

/** How the local cluster's own probes connect: plaintext, or as the SCRAM client user over TLS. */
function probeSecurity(tls: LocalTls | undefined): ConnectionSecurity | undefined {
  return tls ? localProbeSecurity(tls) : undefined;
}

function pidFile(node: LocalNode): string {
  return join(node.dir, 'kafka.pid');
}

/** Our broker processes are recognised by their command line: the main class and this node's properties file. */
function isNodeCommandLine(commandLine: string, node: LocalNode): boolean {
  return commandLine.includes(' kafka.Kafka ') && commandLine.includes(propertiesFile(node));
}

/** The pid of a node's broker: from its pid file, else found among running processes. */
function findNodePid(node: LocalNode): number | undefined {
  const processes = listProcesses();
  try {
    const pid = Number(readFileSync(pidFile(node), 'utf8').trim());
    const p = processes.find((x) => x.pid === pid);
    if (Number.isInteger(pid) && p && isNodeCommandLine(p.commandLine, node) && isPidAlive(pid)) return pid;
  } catch {
    // no pid file
  }
  return processes.find((p) => isNodeCommandLine(p.commandLine, node) && isPidAlive(p.pid))?.pid;
}

/** Every java process started for this data dir (brokers and storage formatting), by command line. */
function findDataDirPids(dataDir: string): number[] {
  const marker = `${dataDir}/node-`;
  return listProcesses()
    .filter(
      (p) =>
        p.pid !== process.pid &&
        p.commandLine.includes(marker) &&
        /\bkafka\.(Kafka|tools\.StorageTool)\b/.test(p.commandLine),
    )
    .filter((p) => isPidAlive(p.pid))
    .map((p) => p.pid);
}

function tailOf(file: string, lines: number): string[] {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      const length = Math.min(size, 16_384);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}

function javaExecutable(): string {
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  if (fromHome && existsSync(fromHome)) return fromHome;
  const java = findExecutable('java');
  if (!java) {
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_START,
      'java is not on PATH: the local Kafka brokers need a Java runtime (11 or later, 17 recommended)',
      [
        'install a JDK (e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME, or run Kafka with Docker: `make up`',
      ],
    );
  }
  return java;
}

/**
 * Asks every node for its metadata (a bare Metadata request each, over TLS + SASL as the local
 * client user when the cluster is secured). A broker counts only when every node that answers lists it: each broker
 * applies the metadata log on its own, and a client that asks a lagging node right after `up` must
 * not see a smaller cluster. Ready callers also require every node to answer.
 */
async function describeLocalCluster(
  nodes: readonly LocalNode[],
  timeoutMs: number,
  security?: ConnectionSecurity,
): Promise<{ brokerIds: number[]; answering: number; hasController: boolean }> {
  const views = (
    await Promise.all(
      nodes.map((n) =>
        probeBrokerMetadata('127.0.0.1', n.port, [], timeoutMs, 'sdp-local-probe', security).catch(() => undefined),
      ),
    )
  ).filter((v) => v !== undefined);
  const [first, ...rest] = views;
  if (first === undefined) return { brokerIds: [], answering: 0, hasController: false };
  const listedByAll = first.brokers
    .map((b) => b.nodeId)
    .filter((id) => rest.every((v) => v.brokers.some((b) => b.nodeId === id)));
  return {
    brokerIds: listedByAll.sort((a, b) => a - b),
    answering: views.length,
    hasController: views.every((v) => v.controllerId >= 0),
  };
}

export async function localClusterStatus(config: Config): Promise<LocalClusterStatus> {
  const dataDir = localDataDir(config);
  const nodes = localNodes(config, dataDir);
  const statuses = await Promise.all(
    nodes.map(async (node): Promise<LocalNodeStatus> => {
      const pid = findNodePid(node);
      return {
        nodeId: node.nodeId,
        pid,
        alive: pid !== undefined,
        port: node.port,
        controllerPort: node.controllerPort,
        listening: await isPortListening(node.port),
        dir: node.dir,
      };
    }),
  );
  const anyListening = statuses.some((s) => s.listening);
  const secure = securedMode(nodes, dataDir, false);
  const security = probeSecurity(secure ? ensureLocalTls(dataDir) : undefined);
  const { brokerIds, answering, hasController } = anyListening
    ? await describeLocalCluster(nodes, 5_000, security)
    : { brokerIds: [], answering: 0, hasController: false };
  const ready =
    statuses.every((s) => s.alive && s.listening) &&
    answering === nodes.length &&
    nodes.every((n) => brokerIds.includes(n.nodeId)) &&
    hasController;
  return { dataDir, nodes: statuses, metadataBrokerIds: brokerIds, ready, secure };
}

/** Fails with LOCAL_KAFKA_PORT_TAKEN when another process holds a port a node needs. */
async function assertPortsFree(nodes: readonly LocalNode[], secure: boolean): Promise<void> {
  for (const node of nodes) {
    const ports: Array<readonly [number, string]> = [
      [node.port, 'client'],
      [node.controllerPort, 'controller'],
      ...(secure
        ? ([
            [node.mtlsPort, 'mutual-TLS client'],
            [node.plainPort, 'SASL/PLAIN client'],
          ] as const)
        : []),
    ];
    for (const [port, role] of ports) {
      if (await isPortFree(port)) continue;
      const owner = describePortOwner(port);
      const range = ephemeralPortRange();
      const ephemeral = range !== undefined && port >= range[0] && port <= range[1];
      throw new SdpError(
        ErrorCodes.LOCAL_KAFKA_PORT_TAKEN,
        `port ${port} (${role} port of local Kafka node ${node.nodeId}) is already taken${owner ? ` by ${owner}` : ' by another process'}`,
        [
          `stop that process, or choose other ports (kafka.external_ports, kafka.local.controller_ports and kafka.bootstrap_servers in config.yml)`,
          `a cluster started with Docker (\`make up\`) uses the same ports: stop it with \`make down\``,
          ...(ephemeral && range
            ? [
                `port ${port} is in the ephemeral range ${range[0]}-${range[1]} that outgoing connections borrow; a connection that just closed holds it for up to 60 s (TIME-WAIT): retry in a minute`,
              ]
            : []),
        ],
      );
    }
  }
}

/** Formats a node's storage once; a node formatted for another cluster id is refused. */
async function formatStorage(
  config: Config,
  node: LocalNode,
  java: string,
  classpath: string,
  logger: Logger,
  tls: LocalTls | undefined,
): Promise<void> {
  const metaFile = join(node.dir, 'data', 'meta.properties');
  if (existsSync(metaFile)) {
    const clusterId = parseProperties(readFileSync(metaFile, 'utf8')).get('cluster.id');
    if (clusterId === config.kafka.cluster_id) return;
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_START,
      `local Kafka node ${node.nodeId} was formatted for cluster id ${clusterId ?? '(none)'}, not kafka.cluster_id ${config.kafka.cluster_id}`,
      [
        `its data is in ${join(node.dir, 'data')}`,
        'run `make kafka-clean` to delete the local cluster data (all topics and messages), then `make kafka-up`',
      ],
    );
  }
  const args = [
    '-Xmx256m',
    `-Dlog4j.configuration=file:${TOOLS_LOG4J_FILE}`,
    '-cp',
    classpath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    config.kafka.cluster_id,
    '-c',
    propertiesFile(node),
    '--ignore-formatted',
    // KRaft keeps SCRAM credentials in the metadata log: they must exist before the first start (KIP-900).
    ...(tls
      ? [
          '--add-scram',
          `SCRAM-SHA-512=[name=${LOCAL_BROKER_USER},password=${tls.brokerPassword}]`,
          '--add-scram',
          `SCRAM-SHA-512=[name=${LOCAL_CLIENT_USER},password=${tls.clientPassword}]`,
          '--add-scram',
          `SCRAM-SHA-256=[name=${LOCAL_CLIENT_USER},password=${tls.clientPassword}]`,
        ]
      : []),
  ];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolvePromise, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: FORMAT_TIMEOUT_MS });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (exitCode) => resolvePromise({ code: exitCode, output: text }));
  });
  if (code !== 0) {
    const scrub = (line: string) =>
      tls
        ? [tls.brokerPassword, tls.clientPassword].reduce((l, secret) => l.split(secret).join('[redacted]'), line)
        : line;
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_START,
      `formatting the storage of local Kafka node ${node.nodeId} failed (exit ${String(code)})`,
      output.trim().split('\n').slice(-15).map(scrub),
    );
  }
  if (tls) writeFileSync(securityMarkerFile(node), 'SASL_SSL\n');
  logger.info(
    { nodeId: node.nodeId, clusterId: config.kafka.cluster_id, secure: tls !== undefined },
    'storage formatted',
  );
}

function startNode(config: Config, node: LocalNode, java: string, classpath: string): number {
  const heap = config.kafka.local.heap;
  const args = [
    `-Xmx${heap}`,
    `-Xms${heap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${BROKER_LOG4J_FILE}`,
    `-Dkafka.logs.dir=${join(node.dir, 'logs')}`,
    '-cp',
    classpath,
    'kafka.Kafka',
    propertiesFile(node),
  ];
  const out = openSync(join(node.dir, 'server.out'), 'a');
  try {
    // Own process group, no terminal, no pipe to us: the broker outlives this command.
    const child = spawn(java, args, { detached: true, stdio: ['ignore', out, out], cwd: node.dir });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined)
      throw new SdpError(ErrorCodes.LOCAL_KAFKA_START, `could not start ${java} for local Kafka node ${node.nodeId}`);
    writeFileSync(pidFile(node), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** server.out holds what the JVM printed and the broker's ERROR lines (see kafka/log4j.properties). */
function deathReport(node: LocalNode): string[] {
  const out = tailOf(join(node.dir, 'server.out'), 20);
  return [
    `node ${node.nodeId} (port ${node.port}) exited; last lines of ${join(node.dir, 'server.out')}:`,
    ...(out.length > 0 ? out.map((l) => `  ${l}`) : ['  (empty)']),
    `full log: ${join(node.dir, 'logs', 'server.log')}`,
  ];
}

/**
 * Starts the nodes that are not running and waits until metadata lists every broker and a
 * controller. Throws SdpError LOCAL_KAFKA_JARS (no Maven, jars unresolvable), LOCAL_KAFKA_PORT_TAKEN
 * (a port held by another process) or LOCAL_KAFKA_START (no java, storage of another cluster, a
 * node died, or not ready within `timeoutMs`).
 */
export async function localClusterUp(
  config: Config,
  logger: Logger,
  options: { timeoutMs?: number; secure?: boolean } = {},
): Promise<LocalClusterUpResult> {
  const startedMs = Date.now();
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const dataDir = localDataDir(config);
  const nodes = localNodes(config, dataDir);
  const log = logger.child({ component: COMPONENT });

  const running = new Map<number, number>();
  for (const node of nodes) {
    const pid = findNodePid(node);
    if (pid !== undefined) running.set(node.nodeId, pid);
  }
  const toStart = nodes.filter((n) => !running.has(n.nodeId));
  const tls = securedMode(nodes, dataDir, options.secure === true) ? ensureLocalTls(dataDir) : undefined;
  const security = probeSecurity(tls);
  for (const node of nodes) {
    const pid = running.get(node.nodeId);
    if (pid !== undefined) log.info({ nodeId: node.nodeId, port: node.port, brokerPid: pid }, 'node already running');
  }

  const started = new Map<number, number>();
  if (toStart.length > 0) {
    const java = javaExecutable();
    await assertPortsFree(toStart, tls !== undefined);
    ensureRootMarker(dataDir, 'kafka');
    const classpath = await resolveKafkaClasspath(dataDir, config.kafka.local.kafka_version, log);
    for (const node of toStart) {
      mkdirSync(join(node.dir, 'logs'), { recursive: true });
      // Secured, the file holds the keystore and broker passwords: readable by this user only.
      writeFileSync(propertiesFile(node), renderServerProperties(config, node, nodes, tls), { mode: 0o600 });
      chmodSync(propertiesFile(node), 0o600);
      rmSync(pidFile(node), { force: true });
    }
    await Promise.all(toStart.map((node) => formatStorage(config, node, java, classpath, log, tls)));
    for (const node of toStart) {
      const pid = startNode(config, node, java, classpath);
      started.set(node.nodeId, pid);
      log.info(
        {
          nodeId: node.nodeId,
          port: node.port,
          controllerPort: node.controllerPort,
          brokerPid: pid,
          heap: config.kafka.local.heap,
        },
        'node started',
      );
    }
  }

  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    for (const node of nodes) {
      const pid = started.get(node.nodeId) ?? running.get(node.nodeId);
      if (pid !== undefined && !isPidAlive(pid)) {
        rmSync(pidFile(node), { force: true });
        throw new SdpError(
          ErrorCodes.LOCAL_KAFKA_START,
          `local Kafka node ${node.nodeId} died while the cluster was starting`,
          deathReport(node),
        );
      }
    }
    const { brokerIds, answering, hasController } = await describeLocalCluster(nodes, 3_000, security);
    if (hasController && answering === nodes.length && nodes.every((n) => brokerIds.includes(n.nodeId))) break;
    if (Date.now() > deadlineMs) {
      throw new SdpError(
        ErrorCodes.LOCAL_KAFKA_START,
        `the local Kafka cluster did not list all ${nodes.length} brokers within ${Math.round(timeoutMs / 1000)} s (${answering} of ${nodes.length} nodes answer metadata; they agree on brokers [${brokerIds.join(', ')}])`,
        [
          ...nodes.map((n) => `node ${n.nodeId}: port ${n.port}, logs in ${join(n.dir, 'logs', 'server.log')}`),
          'the nodes keep running: `make kafka-status` tells when they are ready, `make kafka-down` stops them',
        ],
      );
    }
    await sleep(POLL_INTERVAL_MS);
  }
  const durationMs = Date.now() - startedMs;
  log.info(
    { brokers: nodes.length, started: [...started.keys()], durationMs, secure: tls !== undefined },
    'local Kafka cluster ready',
  );
  return { tls, started: [...started.keys()], alreadyRunning: [...running.keys()], durationMs };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Each broker leads its own process group (detached); a stray one found by command line may not.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function waitForExit(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadlineMs = Date.now() + timeoutMs;
  let alive = pids.filter(isPidAlive);
  while (alive.length > 0 && Date.now() < deadlineMs) {
    await sleep(200);
    alive = alive.filter(isPidAlive);
  }
  return alive;
}

/**
 * Stops every broker of this data dir in the order of stopOrder.ts: SIGTERM (controlled shutdown)
 * to one group at a time, waiting for it to exit; SIGKILL to those still running after `timeoutMs`.
 * Stopping a stopped cluster does nothing.
 */
export async function localClusterDown(
  config: Config,
  logger: Logger,
  options: { timeoutMs?: number } = {},
): Promise<LocalClusterDownResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const dataDir = localDataDir(config);
  const nodes = localNodes(config, dataDir);
  const log = logger.child({ component: COMPONENT });

  const pidOf = new Map<number, number>();
  for (const node of nodes) {
    const pid = findNodePid(node);
    if (pid !== undefined) pidOf.set(node.nodeId, pid);
  }
  const known = new Set(pidOf.values());
  // Strays too: a node left by a run whose pid file is gone, or a storage format in progress.
  const strays = findDataDirPids(dataDir).filter((pid) => !known.has(pid));

  const controller = activeController(nodes.map((n) => n.dir));
  const order = stopOrder([...pidOf.keys()], nodes.length, controller);
  const stopped: number[] = [];
  const killed: number[] = [];
  const groups: Array<{ nodeIds: number[]; pids: number[] }> = order.map((ids) => ({
    nodeIds: ids,
    pids: ids.map((id) => pidOf.get(id) as number),
  }));
  if (strays.length > 0) {
    if (groups[0]) groups[0].pids.push(...strays);
    else groups.push({ nodeIds: [], pids: strays });
  }
  const nodeOf = (pid: number) => [...pidOf].find(([, p]) => p === pid)?.[0];
  for (const group of groups) {
    for (const pid of group.pids) {
      log.info({ brokerPid: pid, nodeId: nodeOf(pid), activeController: controller }, 'stopping node');
      signalGroup(pid, 'SIGTERM');
    }
    const stubborn = await waitForExit(group.pids, timeoutMs);
    for (const pid of stubborn) {
      log.warn({ brokerPid: pid, nodeId: nodeOf(pid), timeoutMs }, 'node did not stop in time: killing it');
      signalGroup(pid, 'SIGKILL');
    }
    const left = await waitForExit(stubborn, 5_000);
    if (left.length > 0) {
      throw new SdpError(ErrorCodes.LOCAL_KAFKA_START, `local Kafka processes ${left.join(', ')} survived SIGKILL`, [
        'check them with `ps -fp <pid>`',
      ]);
    }
    for (const id of group.nodeIds) (stubborn.includes(pidOf.get(id) as number) ? killed : stopped).push(id);
  }
  for (const node of nodes) rmSync(pidFile(node), { force: true });
  return { stopped, killed, order, activeController: controller };
}

/** Stops the cluster and deletes its data dir (all topics and messages, the class path file). */
export async function localClusterClean(config: Config, logger: Logger): Promise<{ dataDir: string }> {
  await localClusterDown(config, logger);
  const dataDir = localDataDir(config);
  rmSync(dataDir, { recursive: true, force: true });
  logger.child({ component: COMPONENT }).info({ dataDir }, 'local Kafka data deleted');
  return { dataDir };
}
