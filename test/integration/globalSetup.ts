/**
 * Integration tests run against a real three-broker cluster, never a mock. This starts the local
 * one (Apache Kafka jars, see src/localKafka/localCluster.ts) unless the configured bootstrap servers
 * already answer with every broker (a cluster left running, or the Docker one), and stops it
 * afterwards only if it was started here. It builds nothing: `npm run build` runs before vitest.
 *
 * Each run tags the names its tests make (helpers/randomName.ts); its teardown deletes the topics that carry the tag
 * (input topics, and the internal topics of its groups) that a test left, so a cluster kept running between runs does
 * not pile them up, while other runs on the same cluster keep theirs.
 */
import { loadConfig } from '../../src/config/load.js';
import { localClusterDown, localClusterStatus, localClusterUp } from '../../src/localKafka/localCluster.js';
import { createLogger } from '../../src/log/logger.js';
import { createKafkaClient } from '../../src/kafka/client.js';
import { PROJECT_CONFIG } from './helpers/projectRoot.js';
import { newTestRunTag, TEST_RUN_TAG_ENV } from './helpers/randomName.js';

let startedHere = false;

function setupLogger() {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn', format: 'json', fd: 2 });
}

export async function setup(): Promise<void> {
  process.env[TEST_RUN_TAG_ENV] ??= newTestRunTag(); // the workers inherit it
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
  const { config } = loadConfig(PROJECT_CONFIG);
  if (startedHere) {
    await localClusterDown(config, setupLogger());
    return;
  }
  await deleteRunTopics(config, process.env[TEST_RUN_TAG_ENV]).catch((err: unknown) =>
    setupLogger().warn({ component: 'integration-setup', err }, 'could not delete the topics this run left'),
  );
}

async function deleteRunTopics(
  config: ReturnType<typeof loadConfig>['config'],
  tag: string | undefined,
): Promise<void> {
  if (!tag) return;
  const admin = createKafkaClient(config, setupLogger(), { clientId: 'sdp-test-teardown' }).admin({
    retry: { retries: 1 },
  });
  await admin.connect();
  try {
    // One at a time: a test's own clean-up may be deleting one of them still (listed, but unknown to the broker asked),
    // which would fail a request naming it with the others.
    const mine = (await admin.listTopics()).filter((t) => t.includes(`-${tag}`));
    for (const topic of mine) await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
