import type { Config } from '../config/schema.js';

/** One node of the local cluster: node ids start at 1, ports come from config by position. */
export interface LocalNode {
  nodeId: number;
  /** Client listener (PLAINTEXT), the port in kafka.bootstrap_servers. */
  port: number;
  controllerPort: number;
  /** Absolute directory holding everything of this node (properties, data, logs, pid). */
  dir: string;
}

/** The nodes of the local cluster, one per broker, under `<dataDir>/node-<i>`. */
export function localNodes(config: Config, dataDir: string): LocalNode[] {
  const nodes: LocalNode[] = [];
  for (let i = 0; i < config.kafka.brokers; i++) {
    const port = config.kafka.external_ports[i];
    const controllerPort = config.kafka.local.controller_ports[i];
    // The schema guarantees one port of each kind per broker.
    if (port === undefined || controllerPort === undefined) throw new Error(`no ports configured for broker ${i + 1}`);
    nodes.push({ nodeId: i + 1, port, controllerPort, dir: `${dataDir}/node-${i + 1}` });
  }
  return nodes;
}

/** Java .properties values: a backslash starts an escape, so it must be doubled. */
function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\');
}

/**
 * server.properties of one combined broker+controller node of the local KRaft cluster. Every node
 * listens on 127.0.0.1 only; clients and brokers share the PLAINTEXT listener.
 */
export function renderServerProperties(config: Config, node: LocalNode, nodes: readonly LocalNode[]): string {
  const brokers = nodes.length;
  const voters = nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(',');
  const entries: Array<[string, string | number | boolean]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', node.nodeId],
    ['controller.quorum.voters', voters],
    ['listeners', `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`],
    ['advertised.listeners', `PLAINTEXT://127.0.0.1:${node.port}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'],
    ['log.dirs', escapeValue(`${node.dir}/data`)],
    ['num.partitions', config.kafka.partitions],
    ['default.replication.factor', Math.min(config.kafka.replication_factor, brokers)],
    // As on a real three-broker cluster; capped so a one-broker dev cluster can still start.
    ['offsets.topic.replication.factor', Math.min(3, brokers)],
    ['transaction.state.log.replication.factor', Math.min(3, brokers)],
    ['transaction.state.log.min.isr', Math.min(2, brokers)],
    // The broker default, which __consumer_offsets takes; our own topics set theirs from config.
    ['min.insync.replicas', Math.min(2, brokers)],
    // Consumer groups in tests join at once instead of waiting the default 3 s.
    ['group.initial.rebalance.delay.ms', 0],
    // Topics are created by `sdp topics create` with the configured partitions and RF, never by accident.
    ['auto.create.topics.enable', false],
  ];
  const lines = ['# Written by `sdp kafka up` from config.yml; rewritten at every start of this node.'];
  for (const [key, value] of entries) lines.push(`${key}=${String(value)}`);
  return `${lines.join('\n')}\n`;
}

/** Reads `key=value` lines of a Java .properties file (enough for meta.properties). */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const eq = line.search(/[=:]/);
    if (eq < 0) continue;
    result.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return result;
}
