import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../src/config/load.js';
import { renderDotEnv } from '../../../src/config/dotenv.js';
import { localNodes, parseProperties, renderServerProperties } from '../../../src/localKafka/serverProperties.js';

// No Docker engine here: this checks the compose file against config.yml, the .env that
// `config env` writes and the server.properties of the Docker-free cluster, so that the two
// ways of running Kafka cannot drift apart unnoticed.

const root = join(__dirname, '../../..');
const { config } = parseConfig(readFileSync(join(root, 'config.yml'), 'utf8'), 'config.yml', {});

interface Service {
  image?: string;
  hostname?: string;
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
}

/** Compose's `${VAR:-default}` interpolation, from `vars` or else the default. */
function interpolate(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
    const value = vars.get(name) ?? fallback;
    if (value === undefined) throw new Error(`\${${name}} has neither a value nor a default`);
    return value;
  });
}

function composeWith(vars: Map<string, string>): Record<string, Service> {
  const text = interpolate(readFileSync(join(root, 'docker-compose.kafka.yml'), 'utf8'), vars);
  return (parse(text, { merge: true }) as { services: Record<string, Service> }).services;
}

/** What the apache/kafka image writes into server.properties: KAFKA_FOO_BAR becomes foo.bar. */
function imageProperties(env: Record<string, string | number>): Map<string, string> {
  const notProperties = new Set(['KAFKA_HEAP_OPTS', 'KAFKA_OPTS', 'KAFKA_VERSION', 'KAFKA_LOG4J_OPTS']);
  const props = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('KAFKA_') || notProperties.has(name)) continue;
    const key = name
      .slice('KAFKA_'.length)
      .toLowerCase()
      .replace(/___/g, '\u0000')
      .replace(/__/g, '-')
      .replace(/_/g, '.')
      .replace(/\u0000/g, '_');
    props.set(key, String(value));
  }
  return props;
}

const dotEnv = new Map(
  renderDotEnv(config)
    .split('\n')
    .filter((l) => l.includes('=') && !l.startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
);
const kafkaServices = ['kafka-1', 'kafka-2', 'kafka-3'];

describe('docker-compose.kafka.yml', () => {
  it('falls back, without .env, to the values of config.yml', () => {
    expect(composeWith(new Map())).toEqual(composeWith(dotEnv));
  });

  it('runs three combined KRaft nodes of the Kafka version the local cluster uses', () => {
    const services = composeWith(dotEnv);
    const pom = readFileSync(join(root, 'pom.xml'), 'utf8');
    expect(pom).toContain(`<kafka.version>${config.kafka.local.kafka_version}</kafka.version>`);
    expect(config.kafka.local.kafka_version).toMatch(/^3\.9\.\d+$/);
    const voters = new Set<string>();
    kafkaServices.forEach((name, i) => {
      const s = services[name];
      expect(s?.image).toBe(`apache/kafka:${config.kafka.local.kafka_version}`);
      const env = s?.environment ?? {};
      expect(env.CLUSTER_ID).toBe(config.kafka.cluster_id);
      const props = imageProperties(env);
      expect(props.get('node.id')).toBe(String(i + 1));
      expect(props.get('process.roles')).toBe('broker,controller');
      for (const v of (props.get('controller.quorum.voters') ?? '').split(',')) voters.add(v);
      // Every listener named has a protocol, and the controller/inter-broker ones exist.
      const protocols = new Map(
        (props.get('listener.security.protocol.map') ?? '').split(',').map((p) => p.split(':') as [string, string]),
      );
      const listeners = (props.get('listeners') ?? '').split(',').map((l) => l.split(':')[0]!);
      for (const l of listeners) expect(protocols.has(l), l).toBe(true);
      expect(listeners).toContain(props.get('controller.listener.names'));
      expect(listeners).toContain(props.get('inter.broker.listener.name'));
      expect(s?.healthcheck?.test?.join(' ')).toContain(`${name}:9094`);
      expect(s?.volumes).toEqual([`./data/docker/${name}:${props.get('log.dirs')}`]);
    });
    expect([...voters].sort()).toEqual(['1@kafka-1:9093', '2@kafka-2:9093', '3@kafka-3:9093']);
  });

  it('publishes and advertises each node on 127.0.0.1 at the port config.yml gives it', () => {
    const services = composeWith(dotEnv);
    kafkaServices.forEach((name, i) => {
      const port = config.kafka.external_ports[i];
      expect(config.kafka.bootstrap_servers[i]).toBe(`127.0.0.1:${port}`);
      expect(services[name]?.ports).toEqual([`127.0.0.1:${port}:9092`]);
      const advertised = imageProperties(services[name]?.environment ?? {}).get('advertised.listeners');
      expect(advertised).toBe(`INTERNAL://${name}:9094,EXTERNAL://127.0.0.1:${port}`);
    });
  });

  it('sets the cluster-wide settings exactly as the Docker-free cluster does', () => {
    const services = composeWith(dotEnv);
    const nodes = localNodes(config, '/d');
    const local = parseProperties(renderServerProperties(config, nodes[0]!, nodes));
    const shared = [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'min.insync.replicas',
      'group.initial.rebalance.delay.ms',
      'auto.create.topics.enable',
    ];
    for (const name of kafkaServices) {
      const props = imageProperties(services[name]?.environment ?? {});
      for (const key of shared) expect(props.get(key), `${name} ${key}`).toBe(local.get(key));
    }
    // The contract for the internal topics on three brokers.
    expect(local.get('offsets.topic.replication.factor')).toBe('3');
    expect(local.get('transaction.state.log.min.isr')).toBe('2');
    expect(local.get('min.insync.replicas')).toBe('2');
  });

  it('points Kafka UI at every node, on the configured port, once they are healthy', () => {
    const ui = composeWith(dotEnv)['kafka-ui'];
    expect(ui?.ports).toEqual([`127.0.0.1:${config.ui.kafka_ui_port}:8080`]);
    expect(ui?.environment?.KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS).toBe('kafka-1:9094,kafka-2:9094,kafka-3:9094');
    for (const name of kafkaServices) expect(ui?.depends_on?.[name]).toEqual({ condition: 'service_healthy' });
  });
});
