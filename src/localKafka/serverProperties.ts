import type { Config } from '../config/schema.js';
import { LOCAL_BROKER_USER, LOCAL_PLAIN_USER, type LocalTls } from './tls.js';

/** One node of the local cluster: node ids start at 1, ports come from config by position. */
/** With --secure, the mutual-TLS and the SASL/PLAIN listeners sit this far above the client port. */
export const MTLS_PORT_OFFSET = 2;
export const PLAIN_PORT_OFFSET = 3;

export interface LocalNode {
  nodeId: number;
  /** Client listener (PLAINTEXT, or SASL_SSL with SCRAM when secured), the port in kafka.bootstrap_servers. */
  port: number;
  /** Secured only: the listener that asks for a client certificate (SSL, no SASL). */
  mtlsPort: number;
  /** Secured only: SASL/PLAIN over TLS. */
  plainPort: number;
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
    nodes.push({
      nodeId: i + 1,
      port,
      mtlsPort: port + MTLS_PORT_OFFSET,
      plainPort: port + PLAIN_PORT_OFFSET,
      controllerPort,
      dir: `${dataDir}/node-${i + 1}`,
    });
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
/**
 * The listener entries of a secured node (`kafka up --secure`), TLS with the private CA's broker
 * certificate everywhere (architecture.md, "Security"): SASL_SSL with SCRAM on the client port,
 * which clients and brokers share (brokers log in as their own SCRAM user); CLIENT_MTLS on port + 2,
 * which asks for a client certificate signed by the CA and no SASL; CLIENT_PLAIN on port + 3,
 * SASL/PLAIN over TLS. The controller quorum stays PLAINTEXT on 127.0.0.1.
 */
function secureListenerEntries(node: LocalNode, tls: LocalTls): Array<[string, string | number | boolean]> {
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${LOCAL_BROKER_USER}" password="${tls.brokerPassword}";`;
  const plainJaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${LOCAL_PLAIN_USER}="${tls.plainPassword}";`;
  const clients = `SASL_SSL://127.0.0.1:${node.port},CLIENT_MTLS://127.0.0.1:${node.mtlsPort},CLIENT_PLAIN://127.0.0.1:${node.plainPort}`;
  return [
    ['listeners', `${clients},CONTROLLER://127.0.0.1:${node.controllerPort}`],
    ['advertised.listeners', clients],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'SASL_SSL'],
    ['listener.security.protocol.map', 'SASL_SSL:SASL_SSL,CLIENT_MTLS:SSL,CLIENT_PLAIN:SASL_SSL,CONTROLLER:PLAINTEXT'],
    ['listener.name.client_mtls.ssl.client.auth', 'required'],
    ['listener.name.client_plain.sasl.enabled.mechanisms', 'PLAIN'],
    ['listener.name.client_plain.plain.sasl.jaas.config', plainJaas],
    ['sasl.enabled.mechanisms', 'SCRAM-SHA-256,SCRAM-SHA-512'],
    ['sasl.mechanism.inter.broker.protocol', 'SCRAM-SHA-512'],
    ['listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config', jaas],
    ['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config', jaas],
    ['ssl.keystore.type', 'PKCS12'],
    ['ssl.keystore.location', escapeValue(tls.keystoreFile)],
    ['ssl.keystore.password', tls.keystorePassword],
    ['ssl.key.password', tls.keystorePassword],
    ['ssl.truststore.type', 'PEM'],
    ['ssl.truststore.location', escapeValue(tls.caCertFile)],
    ['ssl.endpoint.identification.algorithm', 'https'],
  ];
}

export function renderServerProperties(
  config: Config,
  node: LocalNode,
  nodes: readonly LocalNode[],
  tls?: LocalTls,
): string {
  const brokers = nodes.length;
  const voters = nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(',');
  const listenerEntries: Array<[string, string | number | boolean]> = tls
    ? secureListenerEntries(node, tls)
    : [
        ['listeners', `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`],
        ['advertised.listeners', `PLAINTEXT://127.0.0.1:${node.port}`],
        ['controller.listener.names', 'CONTROLLER'],
        ['inter.broker.listener.name', 'PLAINTEXT'],
        ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'],
      ];
  const entries: Array<[string, string | number | boolean]> = [
    ['process.roles', 'broker,controller'],
    ['node.id', node.nodeId],
    ['controller.quorum.voters', voters],
    ...listenerEntries,
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
