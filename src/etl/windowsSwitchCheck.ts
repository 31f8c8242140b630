/**
 * The I/O of the check at the start of `etl.windows: members` over a store that ran `etl.windows: process`
 * (etl/windowsSwitch.ts holds the rule; architecture.md, "Windows across members"). Only when the store's
 * process-mode state has open windows does it ask Kafka anything: the repartition topic's end offsets, then the
 * group's committed metadata of the clickstream partitions.
 */
import { decodeCommitMetadata } from '../checkpoint/commitMetadata.js';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { fetchLogRanges } from '../kafka/admin/logRanges.js';
import { fetchStableOffsets } from '../kafka/wire/offsetFetch.js';
import type { Logger } from '../log/logger.js';
import { repartitionTopicName } from '../windows/repartitionRecords.js';
import { decideWindowsSwitch, openProcessWindows } from './windowsSwitch.js';

/** @throws SdpError(ETL_WINDOWS_SWITCH_REFUSED), not retriable, when the switch would lose page views. */
export async function checkWindowsSwitch(config: Config, logger: Logger, processState: unknown): Promise<void> {
  const open = openProcessWindows(processState);
  if (open.windows === 0) return;
  const group = config.etl.consumer_group;
  const clickTopic = config.topics.clickstream;
  const repartition = await fetchLogRanges(config, logger, repartitionTopicName(group));
  const stage1Wrote = [...repartition.values()].some((r) => BigInt(r.end) > 0n);
  let committedWins: Array<string | null> = [];
  if (!stage1Wrote) {
    const partitions = [...(await fetchLogRanges(config, logger, clickTopic)).keys()];
    const committed = await fetchStableOffsets(config, group, clickTopic, partitions);
    committedWins = [...committed.values()].map(
      (c) => decodeCommitMetadata(c.metadata, `${clickTopic} in group ${group}`)?.win ?? null,
    );
  }
  const decision = decideWindowsSwitch({ group, open, committedWins, stage1Wrote });
  if (!decision.start)
    throw new SdpError(ErrorCodes.ETL_WINDOWS_SWITCH_REFUSED, decision.message, decision.details, {
      retriable: false,
    });
  logger.info(
    { component: 'etl', process_windows_open: open.windows, stage1_wrote: stage1Wrote },
    'etl.windows: process state left in the store: this group switched already, or its stage 1 reads from the start',
  );
}
