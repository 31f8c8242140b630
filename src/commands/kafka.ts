import type { Command } from 'commander';
import { ErrorCodes, SdpError } from '../errors.js';
import {
  localClusterClean,
  localClusterDown,
  localClusterStatus,
  localClusterUp,
  type LocalClusterStatus,
} from '../localKafka/localCluster.js';
import { localClientSettings, localMtlsSettings, localPlainSettings } from '../localKafka/tls.js';
import { MTLS_PORT_OFFSET, PLAIN_PORT_OFFSET } from '../localKafka/serverProperties.js';
import { describeStopOrder } from '../localKafka/stopOrder.js';
import type { CommandContext } from './context.js';
import { renderTable } from '../system/textTable.js';

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

export function renderClusterStatus(status: LocalClusterStatus): string {
  const rows = status.nodes.map((n) => [
    String(n.nodeId),
    n.pid === undefined ? '-' : String(n.pid),
    yesNo(n.alive),
    String(n.port),
    yesNo(n.listening),
    String(n.controllerPort),
  ]);
  const metadata =
    status.metadataBrokerIds.length > 0 ? `brokers [${status.metadataBrokerIds.join(', ')}]` : 'no answer';
  return [
    `local Kafka cluster in ${status.dataDir}`,
    renderTable(['node', 'pid', 'alive', 'port', 'listening', 'controller port'], rows),
    `metadata: ${metadata}; ${status.ready ? 'ready' : 'NOT ready'}${status.secure ? '; client listener SASL_SSL' : ''}`,
  ].join('\n');
}

export function registerKafkaCommands(program: Command, context: CommandContext): void {
  const kafka = program
    .command('kafka')
    .description('the Docker-free local three-broker Kafka cluster (Apache Kafka jars via Maven)');

  kafka
    .command('up')
    .description('start the local cluster (nodes already running are left alone) and wait until every broker answers')
    .option(
      '--secure',
      'secured client listeners: SASL_SSL with SCRAM on the client ports, mutual TLS on port + 2, SASL/PLAIN over TLS on port + 3; private CA and certificates under <data_dir>/tls/; prints the client settings',
    )
    .action(async (opts: { secure?: boolean }) => {
      const { config } = context.config();
      const result = await localClusterUp(config, context.logger(2), { secure: opts.secure === true });
      const servers = config.kafka.external_ports.map((p) => `127.0.0.1:${p}`).join(',');
      const listener = result.tls ? ' (SASL_SSL)' : '';
      if (result.started.length === 0) {
        process.stdout.write(
          `local Kafka cluster already running: ${config.kafka.brokers} brokers on ${servers}${listener} (checked in ${seconds(result.durationMs)})\n`,
        );
      } else {
        process.stdout.write(
          `local Kafka cluster ready: ${config.kafka.brokers} brokers on ${servers}${listener}; started node${result.started.length === 1 ? '' : 's'} ${result.started.join(', ')} in ${seconds(result.durationMs)}\n`,
        );
      }
      if (result.tls) {
        process.stdout.write(
          [
            'clients connect with these settings under kafka: in config.yml (the password stays in its file):',
            ...localClientSettings(result.tls),
            `or with a client certificate (mutual TLS, no SASL) on ${config.kafka.external_ports.map((p) => `127.0.0.1:${p + MTLS_PORT_OFFSET}`).join(',')} (kafka.bootstrap_servers):`,
            ...localMtlsSettings(result.tls),
            `or with SASL/PLAIN over TLS on ${config.kafka.external_ports.map((p) => `127.0.0.1:${p + PLAIN_PORT_OFFSET}`).join(',')}:`,
            ...localPlainSettings(result.tls),
            '',
          ].join('\n'),
        );
      }
    });

  kafka
    .command('down')
    .description(
      'stop the local cluster one node at a time, the active controller with the last majority (SIGTERM, then SIGKILL after 30 s); does nothing when it is stopped',
    )
    .action(async () => {
      const { config } = context.config();
      const result = await localClusterDown(config, context.logger(2));
      if (result.stopped.length === 0 && result.killed.length === 0) {
        process.stdout.write('local Kafka cluster is not running\n');
        return;
      }
      const killed = result.killed.length > 0 ? `; killed after the timeout: ${result.killed.join(', ')}` : '';
      process.stdout.write(
        `local Kafka cluster stopped (nodes ${[...result.stopped, ...result.killed].sort().join(', ')}${killed}): ${describeStopOrder(result.order, result.activeController)}\n`,
      );
    });

  kafka
    .command('status')
    .description('show each node (pid, ports) and whether metadata lists every broker; exits 1 unless all are up')
    .action(async () => {
      const { config } = context.config();
      const status = await localClusterStatus(config);
      process.stdout.write(`${renderClusterStatus(status)}\n`);
      if (!status.ready) {
        const running = status.nodes.filter((n) => n.alive).length;
        throw new SdpError(
          ErrorCodes.LOCAL_KAFKA_NOT_READY,
          `the local Kafka cluster is not ready: ${running} of ${status.nodes.length} nodes running, ${status.metadataBrokerIds.length} brokers in metadata`,
          ['`make kafka-up` starts it'],
        );
      }
    });

  kafka
    .command('clean')
    .description('stop the local cluster and delete its data dir (all topics and messages)')
    .action(async () => {
      const { config } = context.config();
      const { dataDir } = await localClusterClean(config, context.logger(2));
      process.stdout.write(`local Kafka cluster stopped and ${dataDir} deleted\n`);
    });
}
