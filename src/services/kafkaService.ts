/**
 * Kafka for `services up`/`down` (architecture.md, "Services and operating"): a cluster that
 * already answers on kafka.bootstrap_servers is used as it is; otherwise the Docker cluster when a
 * Docker engine answers, else the local brokers from Kafka's jars.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { renderDotEnv } from '../config/dotenv.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { classifySecurityError, connectionSecurity, scrubSecret } from '../kafka/security.js';
import { probeBrokerMetadata, type BrokerMetadata } from '../kafka/wire/brokerMetadataProbe.js';
import { localClusterDown, localClusterStatus, localClusterUp } from '../localKafka/localCluster.js';
import { describeStopOrder } from '../localKafka/stopOrder.js';
import { isPortListening } from '../system/processes.js';
import type { Logger } from '../log/logger.js';
import type { KafkaRecord } from './serviceState.js';

export const COMPOSE_FILE = 'docker-compose.kafka.yml';

export function bootstrapList(config: Config): string {
  return config.kafka.bootstrap_servers.join(',');
}

function splitHostPort(server: string): { host: string; port: number } {
  const i = server.lastIndexOf(':');
  return { host: server.slice(0, i), port: Number(server.slice(i + 1)) };
}

/**
 * Each bootstrap server's metadata, or undefined where it does not answer (plaintext probe; a TCP check with TLS/SASL).
 */
export async function probeBootstrap(
  config: Config,
  timeoutMs = 3_000,
): Promise<Array<{ server: string; metadata: BrokerMetadata | undefined; listening: boolean }>> {
  return Promise.all(
    config.kafka.bootstrap_servers.map(async (server) => {
      const { host, port } = splitHostPort(server);
      if (config.kafka.ssl || config.kafka.sasl) {
        const listening = host === '127.0.0.1' || host === 'localhost' ? await isPortListening(port, timeoutMs) : false;
        return { server, metadata: undefined, listening };
      }
      const metadata = await probeBrokerMetadata(host, port, [], timeoutMs, 'sdp-services-probe').catch(
        () => undefined,
      );
      return { server, metadata, listening: metadata !== undefined };
    }),
  );
}

/**
 * With kafka.ssl or kafka.sasl: one Metadata request over TLS and SASL, as the platform's clients
 * will connect, before anything else uses the cluster (architecture.md, "Security"). Returns what
 * it proved, undefined for a plaintext cluster; throws the one-line security error (untrusted CA,
 * wrong password, …) or KAFKA_UNREACHABLE when no bootstrap server answers.
 */
export async function checkKafkaLogin(config: Config, timeoutMs = 10_000): Promise<string | undefined> {
  const { ssl, sasl } = config.kafka;
  if (ssl === false && sasl === null) return undefined;
  const security = connectionSecurity(config);
  const reasons: string[] = [];
  for (const server of config.kafka.bootstrap_servers) {
    const { host, port } = splitHostPort(server);
    try {
      await probeBrokerMetadata(host, port, [], timeoutMs, 'sdp-services-login', security);
      const proved = [
        ...(ssl !== false ? ['TLS certificate trusted'] : []),
        ...(typeof ssl === 'object' && ssl.cert_file ? ['client certificate accepted'] : []),
        ...(sasl ? [`SASL login accepted (user ${sasl.username}, ${sasl.mechanism})`] : []),
      ];
      return `Kafka: ${proved.join(', ')} at ${server}`;
    } catch (err) {
      const security = classifySecurityError(err, config, server);
      if (security) throw security;
      reasons.push(`${server}: ${scrubSecret(err instanceof Error ? err.message : String(err), config)}`);
    }
  }
  throw new SdpError(
    ErrorCodes.KAFKA_UNREACHABLE,
    `Kafka is unreachable at ${bootstrapList(config)}: no bootstrap server completed the TLS and SASL handshake (${reasons.join('; ')})`,
    ['is the cluster running? `make kafka-status`; do kafka.ssl and kafka.sasl match its listener?'],
  );
}

export function dockerAnswers(): boolean {
  const r = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

export function compose(args: string[]): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('docker', ['compose', '-f', COMPOSE_FILE, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('close', resolvePromise);
  });
}

/**
 * Makes sure a cluster answers; `say` prints what it waits for and what it did. Throws what
 * localClusterUp throws, or LOCAL_KAFKA_START when docker compose fails.
 */
export async function ensureKafka(config: Config, logger: Logger, say: (line: string) => void): Promise<KafkaRecord> {
  const bootstrap = bootstrapList(config);
  const local = await localClusterStatus(config);
  const ourNodes = local.nodes.filter((n) => n.alive).length;
  if (ourNodes === 0) {
    const answers = (await probeBootstrap(config)).filter((p) => p.listening);
    if (answers.length > 0) {
      const brokers = answers.find((a) => a.metadata)?.metadata?.brokers.length;
      say(
        `Kafka: a cluster already answers on ${bootstrap}${brokers !== undefined ? ` (${brokers} brokers)` : ''}, not started from this checkout: using it (\`make down\` leaves it running)`,
      );
      return { mode: 'external', startedByUs: false, bootstrap };
    }
    if (dockerAnswers()) {
      say('Kafka: Docker answers: starting the compose cluster (docker compose up -d --wait) …');
      writeFileSync(resolve('.env'), renderDotEnv(config));
      const code = await compose(['up', '-d', '--wait']);
      if (code !== 0)
        throw new SdpError(ErrorCodes.LOCAL_KAFKA_START, `docker compose up failed (exit ${String(code)})`, [
          `\`docker compose -f ${COMPOSE_FILE} logs\` tells why`,
        ]);
      say(`Kafka: Docker cluster ready on ${bootstrap}`);
      return { mode: 'docker', startedByUs: true, bootstrap };
    }
    say(
      `Kafka: starting the local brokers on ${bootstrap} (first start fetches the Kafka jars with Maven; waiting until all ${config.kafka.brokers} brokers answer, at most 120 s) …`,
    );
  } else {
    say(`Kafka: ${ourNodes} of ${local.nodes.length} local brokers already run; waiting until all answer …`);
  }
  const result = await localClusterUp(config, logger);
  const started = result.started.length > 0;
  say(
    started
      ? `Kafka: local cluster ready, started node${result.started.length === 1 ? '' : 's'} ${result.started.join(', ')} in ${(result.durationMs / 1000).toFixed(1)} s`
      : `Kafka: local cluster already running on ${bootstrap}`,
  );
  return { mode: 'local', startedByUs: result.alreadyRunning.length === 0 && started, bootstrap };
}

/** Stops the cluster when this `up` started it; otherwise says why it stays. Returns the line to print. */
export async function stopKafka(config: Config, logger: Logger, record: KafkaRecord | undefined): Promise<string> {
  if (!record)
    return 'Kafka: no record of a cluster started by `make up`: left as it is (`make kafka-down` stops the local one)';
  if (!record.startedByUs)
    return `Kafka: the cluster on ${record.bootstrap} was not started by \`make up\`: left running`;
  if (record.mode === 'docker') {
    const code = await compose(['down']);
    return code === 0
      ? 'Kafka: Docker cluster stopped (docker compose down)'
      : `Kafka: docker compose down failed (exit ${String(code)})`;
  }
  const result = await localClusterDown(config, logger);
  const nodes = [...result.stopped, ...result.killed].sort((a, b) => a - b);
  if (nodes.length === 0) return 'Kafka: the local cluster had already stopped';
  return `Kafka: local cluster stopped (nodes ${nodes.join(', ')}${result.killed.length > 0 ? `; killed after the timeout: ${result.killed.join(', ')}` : ''}): ${describeStopOrder(result.order, result.activeController)}`;
}
