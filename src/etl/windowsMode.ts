/**
 * Where the page-view windows are computed when `etl.windows` is `auto`, the default (architecture.md, "Windows
 * across members"): decided from what the consumer group holds in Kafka, so every member of one group, on any machine,
 * decides the same; only a group that holds neither fact below sends a member to its own checkpoint store.
 *
 * - The group's stage 1 has written to `<group>-pv-repartition`: `members` (the group runs the stages already).
 * - Otherwise, a clickstream partition whose committed `win` counts page views: `process`. Such a floor is the
 *   one-process aggregator's (stage 1 moves `win` only in a commit that writes to the repartition topic), and the
 *   windows it holds open are in that process's store: the stages would resume past their page views. An existing
 *   installation therefore keeps its windows where they are; `members` with a new `etl.consumer_group` moves them
 *   without loss (etl/windowsSwitch.ts).
 * - Otherwise, when the local checkpoint store holds windows the one-process aggregator left open: `process`. The
 *   group has no floor because its offsets expired (a group stopped past `offsets.retention.minutes`) or were reset;
 *   the stages would start without those windows' page views.
 * - Otherwise (a new group, or one that never counted a page view): `members`, which is right for one member and for
 *   many.
 *
 * Pure: etl/windowsModeCheck.ts reads the facts.
 */
import { NO_OFFSET } from '../checkpoint/checkpointState.js';

export type WindowsMode = 'process' | 'members';
export type ConfiguredWindows = WindowsMode | 'auto';

export interface GroupWindowFacts {
  /** Some partition of the group's repartition topic has an end offset above 0. */
  stage1Wrote: boolean;
  /** Per clickstream partition, the `win` the group committed with our metadata; null: none. Empty once stage1Wrote. */
  committedWins: ReadonlyArray<string | null>;
  /** Windows the one-process aggregator holds open in this process's checkpoint store (0 when none, or not read). */
  localOpenWindows?: number;
}

export interface WindowsModeDecision {
  mode: WindowsMode;
  /** One line for the log: why this mode. */
  reason: string;
}

/** Whether some committed `win` counts page views (not absent, not the "nothing yet" offset). */
export function countsPageViews(committedWins: ReadonlyArray<string | null>): boolean {
  return committedWins.some((w) => w !== null && w !== NO_OFFSET);
}

export function decideWindowsMode(facts: GroupWindowFacts): WindowsModeDecision {
  if (facts.stage1Wrote) return { mode: 'members', reason: "the group's stage 1 has written to its repartition topic" };
  if (countsPageViews(facts.committedWins))
    return {
      mode: 'process',
      reason:
        "the group's committed window floors are a one-process window aggregator's: its open windows stay in its " +
        'checkpoint store (etl.windows: members with a new etl.consumer_group moves them without loss)',
    };
  if ((facts.localOpenWindows ?? 0) > 0)
    return {
      mode: 'process',
      reason:
        `this checkpoint store holds ${facts.localOpenWindows} windows a one-process window aggregator left open, and ` +
        'the group has no window floor (its offsets expired or were reset): they stay where they are',
    };
  return { mode: 'members', reason: 'the group has counted no page view yet' };
}
