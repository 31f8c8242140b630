/**
 * Integration tests run against a real three-broker cluster, never a mock. This starts the local
 * one (Apache Kafka jars, see src/localKafka/localCluster.ts) unless the configured bootstrap servers
 * already answer with every broker (a cluster left running, or the Docker one), and stops it
 * afterwards only if it was started here. It builds nothing: `npm run build` runs before vitest.
 */
import { loadConfig } from '../../src/config/load.js';
import { localClusterDown, localClusterStatus, localClusterUp } from '../../src/localKafka/localCluster.js';
import { createLogger } from '../../src/log/logger.js';
import { PROJECT_CONFIG } from './helpers/projectRoot.js';

let startedHere = false;

function setupLogger() {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', format: 'json', fd: 2 });
}

export async function setup(): Promise<void> {
  const { config } = loadConfig(PROJECT_CONFIG);
  const status = await localClusterStatus(config);
  if (status.metadataBrokerIds.length >= config.kafka.brokers) return;
  const logger = setupLogger();
  const result = await localClusterUp(config, logger);
  startedHere = result.started.length > 0;
  logger.warn(
    { component: 'integration-setup', started: result.started, durationMs: result.durationMs },
    'local Kafka cluster started for the integration tests',
  );
}

export async function teardown(): Promise<void> {
  if (!startedHere) return;
  const { config } = loadConfig(PROJECT_CONFIG);
  await localClusterDown(config, setupLogger());
}
