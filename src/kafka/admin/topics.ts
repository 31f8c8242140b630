/**
 * Creating and describing the platform's topics through the Kafka admin API. Creation is
 * idempotent and never alters an existing topic: a topic that differs from config is reported.
 */
import '../patches/consumerFixes.js'; // before kafkajs loads
import kafkajs, { type Admin } from 'kafkajs';
import type { Config } from '../../config/schema.js';
import { ErrorCodes, SdpError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { probeBrokerMetadata, type BrokerMetadata } from '../wire/brokerMetadataProbe.js';
import { createKafkaClient } from '../client.js';
import { withKafkaDeadline } from '../reachability.js';
import { connectionSecurity } from '../security.js';
import { planAlter, planTopics, type AlterPlan, type ExistingTopic, type TopicSpec } from './topicPlan.js';
import { sleep } from '../../system/processes.js';

const { ConfigResourceTypes } = kafkajs;

/** Retries of one admin request: few enough that an unreachable cluster fails well inside kafka.unreachable_timeout. */
const ADMIN_RETRIES = 3;
const CREATE_TIMEOUT_MS = 15_000;

export interface TopicOptions {
  /** Topic names; default: config.topics.clickstream and config.topics.iot. */
  topics?: string[];
}

export interface CreateTopicsResult {
  created: TopicSpec[];
  unchanged: TopicSpec[];
  /** Brokers listed by the cluster's metadata when we asked. */
  liveBrokers: number;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicDescription {
  topic: string;
  exists: boolean;
  /** Sorted by partition id; empty when the topic does not exist. */
  partitions: PartitionDescription[];
  replicationFactor: number;
  /** The topic's effective min.insync.replicas (its own setting or the broker default). */
  minInsyncReplicas: number | undefined;
}

function topicNames(config: Config, options: TopicOptions): string[] {
  return options.topics ?? [config.topics.clickstream, config.topics.iot];
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Connects an admin client and runs `op`. Reaching the cluster (connect + metadata) must succeed
 * within kafka.unreachable_timeout, else SdpError(KAFKA_UNREACHABLE) names the bootstrap servers.
 * Other failures of `op` become SdpError(KAFKA_ADMIN_FAILED). The client is always disconnected,
 * so a command never lingers on retry timers.
 */
async function withAdmin<T>(
  config: Config,
  logger: Logger,
  what: string,
  op: (admin: Admin, liveBrokers: number) => Promise<T>,
): Promise<T> {
  // kafkajs logs every failed connection attempt as an error; the one SdpError we throw says it
  // better, so its lines are shown only when debugging.
  const kafkajsLogger = logger.isLevelEnabled('debug') ? logger : logger.child({}, { level: 'fatal' });
  const admin = createKafkaClient(config, kafkajsLogger, {
    clientId: `${config.kafka.client_id}-admin`,
    retries: ADMIN_RETRIES,
  }).admin();
  const { bootstrap_servers: bootstrap, unreachable_timeout: timeoutMs } = config.kafka;
  try {
    const liveBrokers = await withKafkaDeadline(
      bootstrap,
      timeoutMs,
      what,
      async () => {
        await admin.connect();
        return (await admin.describeCluster()).brokers.length;
      },
      config,
    );
    try {
      return await op(admin, liveBrokers);
    } catch (err) {
      if (err instanceof SdpError) throw err;
      throw new SdpError(
        ErrorCodes.KAFKA_ADMIN_FAILED,
        `${what} failed at ${bootstrap.join(',')}: ${reasonOf(err)}`,
        [],
        { cause: err },
      );
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function fetchMinInsyncReplicas(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  if (topics.length === 0) return result;
  const response = await admin.describeConfigs({
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
    includeSynonyms: false,
  });
  for (const resource of response.resources) {
    const entry = resource.configEntries.find((e) => e.configName === 'min.insync.replicas');
    if (entry) result.set(resource.resourceName, Number(entry.configValue));
  }
  return result;
}

async function fetchExisting(admin: Admin, names: readonly string[]): Promise<TopicDescription[]> {
  const all = new Set(await admin.listTopics());
  const present = names.filter((n) => all.has(n));
  const metadata = present.length > 0 ? (await admin.fetchTopicMetadata({ topics: present })).topics : [];
  const minIsr = await fetchMinInsyncReplicas(admin, present);
  return names.map((topic): TopicDescription => {
    const meta = metadata.find((t) => t.name === topic);
    if (!meta) return { topic, exists: false, partitions: [], replicationFactor: 0, minInsyncReplicas: undefined };
    const partitions = meta.partitions
      .map((p) => ({
        partition: p.partitionId,
        leader: p.leader,
        replicas: [...p.replicas],
        isr: [...p.isr],
        offlineReplicas: [...(p.offlineReplicas ?? [])],
      }))
      .sort((a, b) => a.partition - b.partition);
    return {
      topic,
      exists: true,
      partitions,
      replicationFactor: Math.max(0, ...partitions.map((p) => p.replicas.length)),
      minInsyncReplicas: minIsr.get(topic),
    };
  });
}

const POLL_INTERVAL_MS = 100;

function servesAll(metadata: BrokerMetadata, specs: readonly TopicSpec[]): boolean {
  return specs.every((spec) => {
    const topic = metadata.topics.find((t) => t.topic === spec.topic);
    return (
      topic !== undefined &&
      topic.errorCode === 0 &&
      topic.partitions.length === spec.partitions &&
      topic.partitions.every((p) => p.leader >= 0)
    );
  });
}

/**
 * Waits until EVERY broker's metadata has the new topics with a leader for each partition, so the
 * next client (a producer, a consumer, `topics describe`) sees them whichever broker it asks. Brokers
 * apply the controller's records independently; on a busy machine one can lag by a second.
 */
async function waitUntilServed(
  config: Config,
  admin: Admin,
  specs: readonly TopicSpec[],
  timeoutMs: number,
): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  const timedOut = () =>
    new Error(
      `the new topics are not served with a leader for every partition by every broker after ${Math.round(timeoutMs / 1000)} s`,
    );
  const { brokers } = await admin.describeCluster();
  const security = connectionSecurity(config);
  await Promise.all(
    brokers.map(async ({ host, port }) => {
      for (;;) {
        const remainingMs = Math.max(1, deadlineMs - Date.now());
        const metadata = await probeBrokerMetadata(
          host,
          port,
          specs.map((spec) => spec.topic),
          Math.min(remainingMs, 5_000),
          `${config.kafka.client_id}-probe`,
          security,
        ).catch(() => undefined);
        if (metadata && servesAll(metadata, specs)) return;
        if (Date.now() > deadlineMs) throw timedOut();
        await sleep(POLL_INTERVAL_MS);
      }
    }),
  );
}

function asExisting(descriptions: readonly TopicDescription[]): Map<string, ExistingTopic> {
  const map = new Map<string, ExistingTopic>();
  for (const d of descriptions) {
    if (d.exists)
      map.set(d.topic, {
        topic: d.topic,
        partitions: d.partitions.length,
        replicationFactor: d.replicationFactor,
        minInsyncReplicas: d.minInsyncReplicas,
      });
  }
  return map;
}

function mismatchError(mismatches: readonly string[]): SdpError {
  return new SdpError(
    ErrorCodes.KAFKA_TOPIC_MISMATCH,
    `${mismatches.length} existing topic${mismatches.length === 1 ? '' : 's'} differ${mismatches.length === 1 ? 's' : ''} from config; nothing was changed`,
    [
      ...mismatches,
      'topics are never altered automatically: `topics alter` raises partitions and sets min.insync.replicas; `topics recreate --yes` deletes and recreates them (their data is lost); or change kafka.partitions / kafka.replication_factor / kafka.min_insync_replicas to match',
    ],
  );
}

/**
 * Creates the topics that do not exist with kafka.partitions, kafka.replication_factor and
 * min.insync.replicas = kafka.min_insync_replicas. Throws SdpError KAFKA_RF_TOO_HIGH (more replicas
 * than live brokers, checked before any creation), KAFKA_TOPIC_MISMATCH (an existing topic differs;
 * nothing is created then), KAFKA_UNREACHABLE or KAFKA_ADMIN_FAILED.
 */
export async function createTopics(
  config: Config,
  logger: Logger,
  options: TopicOptions = {},
): Promise<CreateTopicsResult> {
  const log = logger.child({ component: 'topics' });
  const specs: TopicSpec[] = topicNames(config, options).map((topic) => ({
    topic,
    partitions: config.kafka.partitions,
    replicationFactor: config.kafka.replication_factor,
    minInsyncReplicas: config.kafka.min_insync_replicas,
  }));
  return withAdmin(config, logger, 'topics create', async (admin, liveBrokers) => {
    const rf = config.kafka.replication_factor;
    if (rf > liveBrokers) {
      throw new SdpError(
        ErrorCodes.KAFKA_RF_TOO_HIGH,
        `replication factor ${rf} (kafka.replication_factor) is more than the ${liveBrokers} live broker${liveBrokers === 1 ? '' : 's'} at ${config.kafka.bootstrap_servers.join(',')}`,
        [
          `set kafka.replication_factor to at most ${liveBrokers}, or start the missing brokers (\`make kafka-status\`)`,
        ],
      );
    }
    const plan = planTopics(
      specs,
      asExisting(
        await fetchExisting(
          admin,
          specs.map((s) => s.topic),
        ),
      ),
    );
    if (plan.mismatches.length > 0) throw mismatchError(plan.mismatches);

    const created: TopicSpec[] = [];
    const unchanged = [...plan.unchanged];
    if (plan.toCreate.length > 0) {
      const allNew = await admin.createTopics({
        // kafkajs's own wait gives up when the broker it asks has not yet heard of the new topic
        // (UNKNOWN_TOPIC_OR_PARTITION, usual with KRaft): waitUntilServed asks every broker.
        waitForLeaders: false,
        timeout: CREATE_TIMEOUT_MS,
        topics: plan.toCreate.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(s.minInsyncReplicas) }],
        })),
      });
      if (allNew) {
        await waitUntilServed(config, admin, plan.toCreate, CREATE_TIMEOUT_MS);
        created.push(...plan.toCreate);
      } else {
        // Someone created them between our look and our request: they must still match.
        const again = planTopics(
          plan.toCreate,
          asExisting(
            await fetchExisting(
              admin,
              plan.toCreate.map((s) => s.topic),
            ),
          ),
        );
        if (again.mismatches.length > 0) throw mismatchError(again.mismatches);
        unchanged.push(...again.unchanged);
      }
    }
    for (const s of created)
      log.info(
        {
          topic: s.topic,
          partitions: s.partitions,
          replicationFactor: s.replicationFactor,
          minInsyncReplicas: s.minInsyncReplicas,
        },
        'topic created',
      );
    for (const s of unchanged)
      log.info(
        { topic: s.topic, partitions: s.partitions, replicationFactor: s.replicationFactor },
        'topic exists as configured: unchanged',
      );
    return { created, unchanged, liveBrokers };
  });
}

/** Leader, replicas and ISR of every partition, plus min.insync.replicas, of each topic. */
export async function describeTopics(
  config: Config,
  logger: Logger,
  options: TopicOptions = {},
): Promise<TopicDescription[]> {
  return withAdmin(config, logger, 'topics describe', (admin) => fetchExisting(admin, topicNames(config, options)));
}

function specsOf(config: Config, options: TopicOptions): TopicSpec[] {
  return topicNames(config, options).map((topic) => ({
    topic,
    partitions: config.kafka.partitions,
    replicationFactor: config.kafka.replication_factor,
    minInsyncReplicas: config.kafka.min_insync_replicas,
  }));
}

/**
 * Raises partition counts to kafka.partitions and sets min.insync.replicas to
 * kafka.min_insync_replicas. Throws SdpError KAFKA_PARTITIONS_LOWER (checked before any change)
 * when config asks for fewer partitions than a topic has, KAFKA_TOPIC_MISSING for a topic that
 * does not exist. A different replication factor is reported in the plan, not changed.
 */
export async function alterTopics(config: Config, logger: Logger, options: TopicOptions = {}): Promise<AlterPlan> {
  const specs = specsOf(config, options);
  const log = logger.child({ component: 'topics' });
  return withAdmin(config, logger, 'topics alter', async (admin) => {
    const plan = planAlter(
      specs,
      asExisting(
        await fetchExisting(
          admin,
          specs.map((s) => s.topic),
        ),
      ),
    );
    if (plan.lowerPartitions.length > 0) {
      throw new SdpError(
        ErrorCodes.KAFKA_PARTITIONS_LOWER,
        'Kafka cannot lower the number of partitions of a topic; nothing was changed',
        [
          ...plan.lowerPartitions.map(
            (l) => `topic ${l.topic} has ${l.from} partitions, config wants ${l.to} (kafka.partitions)`,
          ),
          `set kafka.partitions back to at least ${Math.max(...plan.lowerPartitions.map((l) => l.from))}, or \`topics recreate --yes\` (deletes every record of the topics)`,
        ],
      );
    }
    if (plan.missing.length > 0) {
      throw new SdpError(
        ErrorCodes.KAFKA_TOPIC_MISSING,
        `topic${plan.missing.length === 1 ? '' : 's'} ${plan.missing.join(', ')} do${plan.missing.length === 1 ? 'es' : ''} not exist; nothing was changed`,
        ['`topics create` creates them'],
      );
    }
    if (plan.raisePartitions.length > 0) {
      await admin.createPartitions({
        timeout: CREATE_TIMEOUT_MS,
        topicPartitions: plan.raisePartitions.map((r) => ({ topic: r.topic, count: r.to })),
      });
      await waitUntilServed(
        config,
        admin,
        specs.filter((s) => plan.raisePartitions.some((r) => r.topic === s.topic)),
        CREATE_TIMEOUT_MS,
      );
      for (const r of plan.raisePartitions) log.info({ topic: r.topic, from: r.from, to: r.to }, 'partitions raised');
    }
    if (plan.setMinInsyncReplicas.length > 0) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: plan.setMinInsyncReplicas.map((m) => ({
          type: ConfigResourceTypes.TOPIC,
          name: m.topic,
          configEntries: [{ name: 'min.insync.replicas', value: String(m.to) }],
        })),
      });
      // Brokers apply the controller's config record independently: wait until a describe shows it.
      const deadlineMs = Date.now() + CREATE_TIMEOUT_MS;
      for (;;) {
        const current = await fetchMinInsyncReplicas(
          admin,
          plan.setMinInsyncReplicas.map((m) => m.topic),
        );
        if (plan.setMinInsyncReplicas.every((m) => current.get(m.topic) === m.to)) break;
        if (Date.now() > deadlineMs)
          throw new Error(`min.insync.replicas not applied after ${CREATE_TIMEOUT_MS / 1000} s`);
        await sleep(POLL_INTERVAL_MS);
      }
    }
    return plan;
  });
}

export interface RecreateResult {
  deleted: string[];
  created: TopicSpec[];
}

/** Deletes the topics (every record is lost) and creates them again from config. */
export async function recreateTopics(
  config: Config,
  logger: Logger,
  options: TopicOptions = {},
): Promise<RecreateResult> {
  const names = topicNames(config, options);
  const deleted = await withAdmin(config, logger, 'topics recreate', async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: CREATE_TIMEOUT_MS });
    // Deletion is asynchronous in the controller: wait until no broker lists them any more.
    const deadlineMs = Date.now() + CREATE_TIMEOUT_MS;
    for (;;) {
      const still = (await admin.listTopics()).filter((t) => present.includes(t));
      if (still.length === 0) break;
      if (Date.now() > deadlineMs)
        throw new Error(`topics ${still.join(', ')} still listed ${CREATE_TIMEOUT_MS / 1000} s after deletion`);
      await sleep(200);
    }
    return present;
  });
  // Brokers apply the deletion independently: one that still lists a deleted topic makes
  // createTopics take it as unchanged and create nothing, so a round counts only what it created.
  const created = new Map<string, TopicSpec>();
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await createTopics(config, logger, options);
      for (const spec of result.created) created.set(spec.topic, spec);
      const missing = deleted.filter((name) => !created.has(name));
      if (missing.length === 0) return { deleted, created: [...created.values()] };
      if (attempt >= 30)
        throw new SdpError(
          ErrorCodes.KAFKA_ADMIN_FAILED,
          `topics ${missing.join(', ')} were deleted but a broker still lists them; not created again`,
        );
      await sleep(500);
    } catch (err) {
      // Brokers apply the deletion independently: for a moment one still lists the old topic
      // (then answers UNKNOWN_TOPIC_OR_PARTITION about it) or refuses TOPIC_ALREADY_EXISTS.
      if (
        attempt >= 30 ||
        !(err instanceof SdpError) ||
        !/already exists|marked for deletion|does not host this topic-partition/i.test(err.message)
      )
        throw err;
      await sleep(500);
    }
  }
}
