import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { localNodes, parseProperties, renderServerProperties } from '../../../src/localKafka/serverProperties.js';

const baseText = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');

describe('local node server.properties', () => {
  const { config } = parseConfig(baseText, 'config.yml', {});
  const nodes = localNodes(config, '/srv/sdp/kafka');

  it('gives each broker its node id, ports and directory by position', () => {
    expect(nodes).toEqual([
      {
        nodeId: 1,
        port: 19092,
        mtlsPort: 19094,
        plainPort: 19095,
        controllerPort: 19093,
        dir: '/srv/sdp/kafka/node-1',
      },
      {
        nodeId: 2,
        port: 29092,
        mtlsPort: 29094,
        plainPort: 29095,
        controllerPort: 29093,
        dir: '/srv/sdp/kafka/node-2',
      },
      {
        nodeId: 3,
        port: 39092,
        mtlsPort: 39094,
        plainPort: 39095,
        controllerPort: 39093,
        dir: '/srv/sdp/kafka/node-3',
      },
    ]);
  });

  it('renders a combined KRaft node listening on 127.0.0.1 with three voters', () => {
    const node = nodes[1];
    if (!node) throw new Error('no node 2');
    const props = parseProperties(renderServerProperties(config, node, nodes));
    expect(Object.fromEntries(props)).toEqual({
      'process.roles': 'broker,controller',
      'node.id': '2',
      'controller.quorum.voters': '1@127.0.0.1:19093,2@127.0.0.1:29093,3@127.0.0.1:39093',
      listeners: 'PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:29092',
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': '/srv/sdp/kafka/node-2/data',
      'num.partitions': '4',
      'default.replication.factor': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
      'min.insync.replicas': '2',
      'group.initial.rebalance.delay.ms': '0',
      'auto.create.topics.enable': 'false',
    });
  });

  it('caps internal topic replication on a one-broker cluster so that it can start', () => {
    const { config: one } = parseConfig(baseText, 'config.yml', {
      SDP_KAFKA__BROKERS: '1',
      SDP_KAFKA__EXTERNAL_PORTS: '19092',
      SDP_KAFKA__LOCAL__CONTROLLER_PORTS: '19093',
      SDP_KAFKA__REPLICATION_FACTOR: '1',
    });
    const single = localNodes(one, '/d');
    expect(single).toHaveLength(1);
    const props = parseProperties(renderServerProperties(one, single[0]!, single));
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
    expect(props.get('min.insync.replicas')).toBe('1');
    expect(props.get('default.replication.factor')).toBe('1');
  });

  it('doubles backslashes in paths, as .properties files require', () => {
    const [node] = localNodes(config, 'C:\\kafka');
    const text = renderServerProperties(config, node!, nodes);
    expect(text).toContain('log.dirs=C:\\\\kafka/node-1/data\n');
  });

  it('renders a secured node: SASL_SSL for clients and brokers, mutual TLS and SASL/PLAIN for clients, the controller quorum plaintext', () => {
    const node = nodes[0];
    if (!node) throw new Error('no node 1');
    const tls = {
      dir: '/d/tls',
      caCertFile: '/d/tls/ca.crt',
      keystoreFile: '/d/tls/broker.p12',
      clientPasswordFile: '/d/tls/client.password',
      keystorePassword: 'ks',
      brokerPassword: 'bp',
      clientPassword: 'client-secret-9',
      clientCertFile: '/d/tls/client.crt',
      clientKeyFile: '/d/tls/client.key',
      plainPasswordFile: '/d/tls/plain.password',
      plainPassword: 'plain-secret-3',
    };
    const text = renderServerProperties(config, node, nodes, tls);
    const props = parseProperties(text);
    const clients = 'SASL_SSL://127.0.0.1:19092,CLIENT_MTLS://127.0.0.1:19094,CLIENT_PLAIN://127.0.0.1:19095';
    expect(props.get('listeners')).toBe(`${clients},CONTROLLER://127.0.0.1:19093`);
    expect(props.get('advertised.listeners')).toBe(clients);
    expect(props.get('inter.broker.listener.name')).toBe('SASL_SSL');
    expect(props.get('listener.security.protocol.map')).toBe(
      'SASL_SSL:SASL_SSL,CLIENT_MTLS:SSL,CLIENT_PLAIN:SASL_SSL,CONTROLLER:PLAINTEXT',
    );
    expect(props.get('listener.name.client_mtls.ssl.client.auth')).toBe('required');
    expect(props.get('listener.name.client_plain.sasl.enabled.mechanisms')).toBe('PLAIN');
    expect(props.get('listener.name.client_plain.plain.sasl.jaas.config')).toContain('user_sdp-plain="plain-secret-3"');
    expect(props.get('sasl.mechanism.inter.broker.protocol')).toBe('SCRAM-SHA-512');
    expect(props.get('ssl.keystore.location')).toBe('/d/tls/broker.p12');
    expect(props.get('ssl.truststore.type')).toBe('PEM');
    // Brokers log in as their own user; the clients' password is never in the file.
    expect(props.get('listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config')).toContain(
      'username="sdp-broker" password="bp"',
    );
    expect(text).not.toContain('client-secret-9');
  });
});

describe('parseProperties', () => {
  it('reads key=value and key:value lines and skips comments', () => {
    const props = parseProperties('# comment\n! also\ncluster.id=qZanELgsau7iUtmb-1hAvw\nnode.id : 3\n\nversion=1\r\n');
    expect(Object.fromEntries(props)).toEqual({ 'cluster.id': 'qZanELgsau7iUtmb-1hAvw', 'node.id': '3', version: '1' });
  });
});
