/**
 * Creating and describing the platform's topics through the Kafka admin API: the input topics and the window stages'
 * internal topics (topicSpecs.ts). Creation is idempotent and never alters an existing topic: a topic that differs
 * from config is reported.
 */
import '../patches/consumerFixes.js'; // before kafkajs loads
import kafkajs, { type Admin } from 'kafkajs';
import type { Config } from '../../config/schema.js';
import { ErrorCodes, SdpError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { probeBrokerMetadata, type BrokerMetadata } from '../wire/brokerMetadataProbe.js';
import { createKafkaClient } from '../client.js';
import { isLeaderMove, retryWhileLeadersMove } from './leaderMoves.js';
import { withKafkaDeadline } from '../reachability.js';
import { connectionSecurity } from '../security.js';
import {
  creationConfigEntries,
  planAlter,
  planTopics,
  type AlterPlan,
  type ExistingTopic,
  type TopicSpec,
} from './topicPlan.js';
import { inputTopicSpecs, platformTopicNames, platformTopicSpecs } from './topicSpecs.js';
import { windowTopicNames, windowTopicRole, type WindowTopicRole } from './windowTopics.js';
import { sleep } from '../../system/processes.js';

const { ConfigResourceTypes } = kafkajs;
/** describeConfigs' configSource of a value set on the topic itself (Kafka's ConfigSource.TOPIC_CONFIG). */
const TOPIC_CONFIG_SOURCE = 1;

/** Retries of one admin request: few enough that an unreachable cluster fails well inside kafka.unreachable_timeout. */
const ADMIN_RETRIES = 3;
const CREATE_TIMEOUT_MS = 15_000;

export interface TopicOptions {
  /**
   * Topic names, each made like an input topic (kafka.partitions); default: the platform's topics, the input topics
   * config.topics.clickstream and config.topics.iot and the window stages' internal topics of etl.consumer_group.
   */
  topics?: string[];
  /**
   * Only the window stages' internal topics of etl.consumer_group (what an ETL with etl.windows: members makes for
   * itself at start when they are missing, as Kafka Streams makes its internal topics).
   */
  windowTopicsOnly?: boolean;
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
  /** The topic's effective cleanup.policy. */
  cleanupPolicy: string | undefined;
  /** Which internal topic of the window stages it is, by its name; undefined for any other topic. */
  internal: WindowTopicRole | undefined;
}

function topicNames(config: Config, options: TopicOptions): string[] {
  if (options.windowTopicsOnly) {
    const internal = windowTopicNames(config.etl.consumer_group);
    return [internal.repartition, internal.state];
  }
  return options.topics ?? platformTopicNames(config);
}

/** What each named topic should be: R of the internal topics (auto) depends on what the cluster holds. */
function specsOf(config: Config, options: TopicOptions, existing: ReadonlyMap<string, ExistingTopic>): TopicSpec[] {
  if (options.windowTopicsOnly) {
    const names = new Set(topicNames(config, options));
    return platformTopicSpecs(config, existing).filter((spec) => names.has(spec.topic));
  }
  return options.topics ? inputTopicSpecs(config, options.topics) : platformTopicSpecs(config, existing);
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Connects an admin client and runs `op`. Reaching the cluster (connect + metadata) must succeed
 * within kafka.unreachable_timeout, else SdpError(KAFKA_UNREACHABLE) names the bootstrap servers.
 * Other failures of `op` become SdpError(KAFKA_ADMIN_FAILED). The client is always disconnected,
 * so a command never lingers on retry timers. A broker that just died (kafkajs asks the controller
 * or a leader its stale metadata names, and gives up at once) is waited out on fresh clients
 * (leaderMoves.ts): `op` describes what exists before it changes anything, so running it again is safe.
 * Not an admin session (adminSession.ts): the deadline bounds reaching the cluster only, since creating topics and
 * waiting until every broker serves them may take longer, and a failure of `op` is KAFKA_ADMIN_FAILED.
 */
async function withAdmin<T>(
  config: Config,
  logger: Logger,
  what: string,
  op: (admin: Admin, liveBrokers: number) => Promise<T>,
): Promise<T> {
  // Only a failure of `op` may be a leader move: an unreachable cluster was already given its time.
  const leaderMoved = (err: unknown): boolean =>
    err instanceof SdpError && err.code === ErrorCodes.KAFKA_ADMIN_FAILED && isLeaderMove(err.cause);
  return retryWhileLeadersMove(
    { deadlineMs: config.kafka.unreachable_timeout, logger, what, isRetriable: leaderMoved },
    () => withOneAdmin(config, logger, what, op),
  );
}

async function withOneAdmin<T>(
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

interface TopicConfigs {
  minInsyncReplicas: number | undefined;
  cleanupPolicy: string | undefined;
  /** Values set on the topic itself (not inherited); a sensitive one, whose value Kafka never tells, is left out. */
  overrides: Map<string, string>;
}

async function fetchTopicConfigs(admin: Admin, topics: readonly string[]): Promise<Map<string, TopicConfigs>> {
  const result = new Map<string, TopicConfigs>();
  if (topics.length === 0) return result;
  const response = await admin.describeConfigs({
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    includeSynonyms: false,
  });
  for (const resource of response.resources) {
    const value = (name: string) => resource.configEntries.find((e) => e.configName === name)?.configValue;
    const minIsr = value('min.insync.replicas');
    const overrides = new Map<string, string>();
    for (const e of resource.configEntries) {
      if (e.configSource === TOPIC_CONFIG_SOURCE && !e.isSensitive && e.configValue !== null)
        overrides.set(e.configName, e.configValue);
    }
    result.set(resource.resourceName, {
      minInsyncReplicas: minIsr === undefined || minIsr === null ? undefined : Number(minIsr),
      cleanupPolicy: value('cleanup.policy') ?? undefined,
      overrides,
    });
  }
  return result;
}

async function fetchExisting(admin: Admin, names: readonly string[]): Promise<TopicDescription[]> {
  const all = new Set(await admin.listTopics());
  const present = names.filter((n) => all.has(n));
  const metadata = present.length > 0 ? (await admin.fetchTopicMetadata({ topics: present })).topics : [];
  const configs = await fetchTopicConfigs(admin, present);
  return names.map((topic): TopicDescription => {
    const meta = metadata.find((t) => t.name === topic);
    const internal = windowTopicRole(topic);
    if (!meta)
      return {
        topic,
        exists: false,
        partitions: [],
        replicationFactor: 0,
        minInsyncReplicas: undefined,
        cleanupPolicy: undefined,
        internal,
      };
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
      minInsyncReplicas: configs.get(topic)?.minInsyncReplicas,
      cleanupPolicy: configs.get(topic)?.cleanupPolicy,
      internal,
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
 * apply the controller's records independently; on a busy machine one can lag by a second. A broker
 * that just died is still listed until the controller fences it: one refusing connections is skipped.
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
        ).catch((err: unknown) => ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'gone' : undefined));
        // A broker that refuses connections has died (the controller has not fenced it yet): it serves no client.
        if (metadata === 'gone') return;
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
        cleanupPolicy: d.cleanupPolicy,
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
      'topics are never altered automatically: `topics alter` raises partitions (never R of the internal topics) and sets min.insync.replicas and cleanup.policy; `topics recreate --yes` deletes and recreates them (their data is lost); or change kafka.partitions / etl.window_partitions / kafka.replication_factor / kafka.min_insync_replicas to match',
    ],
  );
}

/**
 * Creates the topics that do not exist: the input topics with kafka.partitions, the internal ones with R
 * (etl.window_partitions) and their cleanup.policy, all with kafka.replication_factor and min.insync.replicas =
 * kafka.min_insync_replicas. Throws SdpError KAFKA_RF_TOO_HIGH (more replicas than live brokers, checked before any
 * creation), KAFKA_TOPIC_MISMATCH (an existing topic differs; nothing is created then), KAFKA_UNREACHABLE or
 * KAFKA_ADMIN_FAILED.
 */
export async function createTopics(
  config: Config,
  logger: Logger,
  options: TopicOptions = {},
): Promise<CreateTopicsResult> {
  const log = logger.child({ component: 'topics' });
  const names = topicNames(config, options);
  return withAdmin(config, logger, 'topics create', async (admin, liveBrokers) => {
    const existing = asExisting(await fetchExisting(admin, names));
    const plan = planTopics(specsOf(config, options, existing), existing);
    if (plan.mismatches.length > 0) throw mismatchError(plan.mismatches);
    // Only a topic to create needs the brokers for its replicas: existing ones are fine with one broker down.
    const rf = config.kafka.replication_factor;
    if (plan.toCreate.length > 0 && rf > liveBrokers) {
      throw new SdpError(
        ErrorCodes.KAFKA_RF_TOO_HIGH,
        `replication factor ${rf} (kafka.replication_factor) is more than the ${liveBrokers} live broker${liveBrokers === 1 ? '' : 's'} at ${config.kafka.bootstrap_servers.join(',')}`,
        [
          `set kafka.replication_factor to at most ${liveBrokers}, or start the missing brokers (\`make kafka-status\`)`,
        ],
      );
    }

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
          configEntries: creationConfigEntries(s),
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
          ...(s.cleanupPolicy === undefined ? {} : { cleanupPolicy: s.cleanupPolicy }),
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

/** Leader, replicas and ISR of every partition, plus min.insync.replicas and cleanup.policy, of each topic. */
export async function describeTopics(
  config: Config,
  logger: Logger,
  options: TopicOptions = {},
): Promise<TopicDescription[]> {
  return withAdmin(config, logger, 'topics describe', (admin) => fetchExisting(admin, topicNames(config, options)));
}

/**
 * Raises partition counts of the input topics to kafka.partitions, sets min.insync.replicas to
 * kafka.min_insync_replicas and the internal topics' cleanup.policy to theirs. Throws SdpError KAFKA_PARTITIONS_LOWER
 * (checked before any change) when config asks for fewer partitions than an input topic has, KAFKA_TOPIC_MISSING for
 * a topic that does not exist. A different replication factor, and R of an existing internal topic, are reported in
 * the plan, never changed.
 */
export async function alterTopics(config: Config, logger: Logger, options: TopicOptions = {}): Promise<AlterPlan> {
  const names = topicNames(config, options);
  const log = logger.child({ component: 'topics' });
  return withAdmin(config, logger, 'topics alter', async (admin) => {
    const existing = asExisting(await fetchExisting(admin, names));
    const specs = specsOf(config, options, existing);
    const plan = planAlter(specs, existing);
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
    const changes = new Map<string, Record<string, string>>();
    const change = (topic: string, name: string, value: string) =>
      changes.set(topic, { ...changes.get(topic), [name]: value });
    for (const m of plan.setMinInsyncReplicas) change(m.topic, 'min.insync.replicas', String(m.to));
    for (const c of plan.setCleanupPolicy) change(c.topic, 'cleanup.policy', c.to);
    if (changes.size > 0) await alterTopicConfigs(admin, changes);
    return plan;
  });
}

/**
 * Sets topic configs. AlterConfigs (the only one kafkajs speaks) replaces every value set on a topic with the ones
 * it is given: each topic's own values are sent along, so that setting min.insync.replicas keeps, say, the state
 * topic's cleanup.policy=compact and the repartition topic's retention.ms.
 */
async function alterTopicConfigs(admin: Admin, changes: ReadonlyMap<string, Record<string, string>>): Promise<void> {
  const topics = [...changes.keys()];
  const before = await fetchTopicConfigs(admin, topics);
  await admin.alterConfigs({
    validateOnly: false,
    resources: topics.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configEntries: Object.entries({
        ...Object.fromEntries(before.get(name)?.overrides ?? []),
        ...changes.get(name),
      }).map(([configName, value]) => ({ name: configName, value })),
    })),
  });
  // Brokers apply the controller's config record independently: wait until a describe shows it.
  const deadlineMs = Date.now() + CREATE_TIMEOUT_MS;
  for (;;) {
    const current = await fetchTopicConfigs(admin, topics);
    const applied = topics.every((t) =>
      Object.entries(changes.get(t) ?? {}).every(([name, value]) => current.get(t)?.overrides.get(name) === value),
    );
    if (applied) return;
    if (Date.now() > deadlineMs) throw new Error(`topic configs not applied after ${CREATE_TIMEOUT_MS / 1000} s`);
    await sleep(POLL_INTERVAL_MS);
  }
}

export interface RecreateResult {
  deleted: string[];
  created: TopicSpec[];
}

/**
 * Deletes the topics (every record is lost; by default the internal topics too, whose window state counts offsets of
 * the old input topics) and creates them again from config.
 */
export async function recreateTopics(
  config: Config,
  logger: Logger,
  options: TopicOptions = {},
): Promise<RecreateResult> {
  const names = topicNames(config, options);
  // R as at a first creation (auto: kafka.partitions), never read from a broker that still lists a deleted topic.
  const { window_partitions: r } = config.etl;
  const fresh: Config = {
    ...config,
    etl: { ...config.etl, window_partitions: r === 'auto' ? config.kafka.partitions : r },
  };
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
      const result = await createTopics(fresh, logger, options);
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
      // A broker that still lists a just-deleted topic with its old partition count makes the plan report a
      // mismatch (an internal topic recreated with another R): the same transient state.
      const staleListing =
        err instanceof SdpError && err.code === ErrorCodes.KAFKA_TOPIC_MISMATCH && deleted.length > 0;
      if (
        attempt >= 30 ||
        !(err instanceof SdpError) ||
        !(staleListing || /already exists|marked for deletion|does not host this topic-partition/i.test(err.message))
      )
        throw err;
      await sleep(500);
    }
  }
}
