/**
 * The I/O of `etl.windows: auto` (etl/windowsMode.ts holds the rule): what the consumer group holds in Kafka, read once
 * per command or ETL start. Topics that do not exist yet (a new installation) are facts too, not errors.
 */
import { decodeCommitMetadata } from '../checkpoint/commitMetadata.js';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { withAdminSession } from '../kafka/admin/adminSession.js';
import { leaderNotAvailable } from '../kafka/admin/leaderMoves.js';
import { readPartitionLogs, type PartitionLog } from '../kafka/admin/partitionLeaders.js';
import { fetchHighWatermarks } from '../kafka/wire/highWatermarks.js';
import type { Logger } from '../log/logger.js';
import { repartitionTopicName } from '../windows/repartitionRecords.js';
import { aggSinkId } from '../checkpoint/checkpointState.js';
import { readCheckpointStore } from '../checkpoint/storeReader.js';
import { countsPageViews, decideWindowsMode, type GroupWindowFacts, type WindowsMode } from './windowsMode.js';
import { openProcessWindows } from './windowsSwitch.js';

/**
 * Whether the group's stage 1 wrote; if not, the `win` it committed per clickstream partition.
 * @throws SdpError(KAFKA_UNREACHABLE) when Kafka does not answer within kafka.unreachable_timeout.
 */
export async function readGroupWindowFacts(
  config: Config,
  logger: Logger,
  storeFile?: string,
): Promise<GroupWindowFacts> {
  const group = config.etl.consumer_group;
  const clickTopic = config.topics.clickstream;
  const repartition = repartitionTopicName(group);
  // One session, one deadline: a leader that moved or died meanwhile is tried again with fresh metadata.
  const { stage1Wrote, committedWins } = await withAdminSession(
    config,
    logger,
    { clientSuffix: 'windows-mode', retries: 2, what: `reading where group ${group} keeps its windows` },
    async (admin) => {
      const logs = await readPartitionLogs(admin, [repartition, clickTopic]);
      if (await repartitionWritten(config, repartition, logs.get(repartition)))
        return { stage1Wrote: true, committedWins: [] };
      const partitions = new Set((logs.get(clickTopic) ?? []).map((l) => l.partition));
      if (partitions.size === 0) return { stage1Wrote: false, committedWins: [] };
      // kafkajs's OffsetFetch (before v7) does not require stable offsets: a killed member's pending commit (aborted
      // once its partition is taken over) does not hold the answer for the transaction timeout, and it is of the same
      // mode as the commits before it.
      const [entry] = await admin.fetchOffsets({ groupId: group, topics: [clickTopic] });
      const wins = (entry?.partitions ?? [])
        .filter((p) => partitions.has(p.partition))
        .map((p) => decodeCommitMetadata(p.metadata ?? '', `${clickTopic} in group ${group}`)?.win ?? null);
      return { stage1Wrote: false, committedWins: wins };
    },
  );
  if (stage1Wrote) return { stage1Wrote, committedWins: [] };
  // Only when Kafka says nothing: the store is read whole, and what Kafka says wins over it.
  if (countsPageViews(committedWins) || storeFile === undefined) return { stage1Wrote, committedWins };
  const state = readCheckpointStore(storeFile).state.aggregators[aggSinkId(clickTopic)]?.state;
  return { stage1Wrote, committedWins, localOpenWindows: openProcessWindows(state).windows };
}

/**
 * Whether the group's stage 1 ever produced to its repartition topic: some partition's log ends above 0. The last
 * stable offset says so unless a transaction is still open at the log's start (a killed member's, until its partition
 * is taken over or the transaction timeout); then the high watermark, open records included, is asked for. Records
 * of an aborted transaction count too: only stage 1 ever writes there.
 */
async function repartitionWritten(
  config: Config,
  repartition: string,
  logs: readonly PartitionLog[] | undefined,
): Promise<boolean> {
  if (logs === undefined) return false;
  if (logs.some((l) => l.logEnd > 0n)) return true;
  try {
    return [...(await fetchHighWatermarks(config, repartition, logs)).values()].some((end) => end > 0n);
  } catch (err) {
    // A leader that moved or a broker that just died: the admin session reads the leaders again and retries.
    throw leaderNotAvailable(
      `the high watermarks of ${repartition}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A config whose `etl.windows` is decided: what every rule that depends on the mode takes, so `auto` cannot reach it. */
export type ResolvedConfig = Config & { etl: { windows: WindowsMode } };

/**
 * `config` with `etl.windows` decided: itself unless it says `auto`, else a copy with the mode the group's facts give
 * (logged with the reason: info for the ETL, debug for a command that only reads). Everything after reads
 * `etl.windows` as `process` or `members`. With the facts read, if any: the `members` start check takes them
 * (etl/windowsSwitchCheck.ts) rather than asking Kafka twice.
 */
export async function resolveWindowsMode(
  config: Config,
  logger: Logger,
  level: 'info' | 'debug' = 'info',
  storeFile?: string,
): Promise<{ config: ResolvedConfig; facts?: GroupWindowFacts }> {
  const configured = config.etl.windows;
  if (configured !== 'auto') return { config: { ...config, etl: { ...config.etl, windows: configured } } };
  const facts = await readGroupWindowFactsFor(config, logger, 'deciding etl.windows: auto', storeFile);
  const decision = decideWindowsMode(facts);
  logger[level](
    { component: 'etl', configured, mode: decision.mode, group: config.etl.consumer_group, reason: decision.reason },
    `etl.windows: auto chose ${decision.mode}`,
  );
  return { config: { ...config, etl: { ...config.etl, windows: decision.mode } }, facts };
}

/** {@link resolveWindowsMode}'s config alone. */
export async function withWindowsModeResolved(
  config: Config,
  logger: Logger,
  level: 'info' | 'debug' = 'info',
  storeFile?: string,
): Promise<ResolvedConfig> {
  return (await resolveWindowsMode(config, logger, level, storeFile)).config;
}

/**
 * {@link readGroupWindowFacts}, its errors saying what they were for (`purpose`). The cause keeps its code
 * (KAFKA_UNREACHABLE, …) and whether a restart may heal it: a malformed metadata reads the same the next time.
 */
export async function readGroupWindowFactsFor(
  config: Config,
  logger: Logger,
  purpose: string,
  storeFile?: string,
): Promise<GroupWindowFacts> {
  try {
    return await readGroupWindowFacts(config, logger, storeFile);
  } catch (err) {
    const cause = err instanceof SdpError ? err : undefined;
    throw new SdpError(
      cause?.code ?? ErrorCodes.KAFKA_UNREACHABLE,
      `${purpose} for group ${config.etl.consumer_group}: ${err instanceof Error ? err.message : String(err)}`,
      cause?.details ?? [],
      {
        cause: err,
        retriable: cause?.retriable !== false && cause?.code !== ErrorCodes.CHECKPOINT_METADATA_INVALID,
      },
    );
  }
}
