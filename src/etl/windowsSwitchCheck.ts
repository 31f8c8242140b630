/**
 * The I/O of the check at the start of `etl.windows: members` over a store that ran `etl.windows: process`
 * (etl/windowsSwitch.ts holds the rule; architecture.md, "Windows across members"), or beside another process that
 * runs it: whether the group's stage 1 wrote, then the group's committed metadata of the clickstream partitions
 * (etl/windowsModeCheck.ts), at every `members` start.
 */
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { GroupWindowFacts } from './windowsMode.js';
import { readGroupWindowFactsFor } from './windowsModeCheck.js';
import { decideWindowsSwitch, openProcessWindows } from './windowsSwitch.js';

/** @throws SdpError(ETL_WINDOWS_SWITCH_REFUSED), not retriable, when the switch would lose page views. */
export async function checkWindowsSwitch(
  config: Config,
  logger: Logger,
  processState: unknown,
  /** What `auto` read at this start, if it decided (etl/windowsModeCheck.ts): not asked of Kafka again. */
  facts?: GroupWindowFacts,
): Promise<void> {
  const open = openProcessWindows(processState);
  const group = config.etl.consumer_group;
  const { stage1Wrote, committedWins } =
    facts ?? (await readGroupWindowFactsFor(config, logger, 'checking etl.windows: members'));
  const decision = decideWindowsSwitch({ group, open, committedWins, stage1Wrote });
  if (!decision.start)
    throw new SdpError(ErrorCodes.ETL_WINDOWS_SWITCH_REFUSED, decision.message, decision.details, {
      retriable: false,
    });
  if (open.windows === 0) return;
  logger.info(
    { component: 'etl', process_windows_open: open.windows, stage1_wrote: stage1Wrote },
    'etl.windows: process state left in the store: this group switched already, or its stage 1 reads from the start',
  );
}
