/**
 * Whether `etl.windows: members` may start over what `etl.windows: process` left (architecture.md, "Windows across
 * members"). The process-mode window aggregator keeps its open windows in this process's checkpoint store, and the
 * group's committed `win` of each clickstream partition is that aggregator's floor: stage 1 of the same group resumes
 * there, so the page views of the windows still open at the switch lie below it and would be lost (those windows
 * emitted later with only what came after). Such a start is refused, naming the lossless way: a new
 * `etl.consumer_group`, whose stage 1 reads the clickstream again from its start while the raw floors come from the
 * lake's file names and stage 2 counts the windows already in the lake as emitted. Pure: etl/windowsSwitchCheck.ts
 * gathers the facts.
 */
import { countsPageViews } from './windowsMode.js';

export interface OpenProcessWindows {
  /** Windows (minutes) open in the process-mode aggregator's state. */
  windows: number;
  /** Page views those windows hold. */
  pageViews: number;
  /** Start of the first and of the last open window (epoch ms); null when none is open. */
  firstStartMs: number | null;
  lastStartMs: number | null;
}

const NONE: OpenProcessWindows = { windows: 0, pageViews: 0, firstStartMs: null, lastStartMs: null };

interface OpenWindowLike {
  startMs?: unknown;
  counts?: unknown;
}

/**
 * The open windows of a process-mode aggregator state as the checkpoint store holds it (a PageViewWindowsSnapshot,
 * as JSON text or parsed). Anything else holds none: the aggregator itself rejects a state it cannot read.
 */
export function openProcessWindows(state: unknown): OpenProcessWindows {
  let value = state;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return NONE;
    }
  }
  const open = (value as { openWindows?: unknown } | null)?.openWindows;
  if (!Array.isArray(open) || open.length === 0) return NONE;
  let pageViews = 0;
  const starts: number[] = [];
  for (const w of open as OpenWindowLike[]) {
    if (typeof w?.startMs === 'number') starts.push(w.startMs);
    if (Array.isArray(w?.counts))
      for (const c of w.counts as Array<{ count?: unknown }>) if (typeof c?.count === 'number') pageViews += c.count;
  }
  return {
    windows: open.length,
    pageViews,
    firstStartMs: starts.length > 0 ? Math.min(...starts) : null,
    lastStartMs: starts.length > 0 ? Math.max(...starts) : null,
  };
}

export interface WindowsSwitchFacts {
  group: string;
  open: OpenProcessWindows;
  /** Per clickstream partition, the `win` the group committed with our metadata; null: none (no metadata of ours). */
  committedWins: ReadonlyArray<string | null>;
  /** Stage 1 of this group already wrote to its repartition topic (some partition's end offset is above 0). */
  stage1Wrote: boolean;
}

export type WindowsSwitchDecision = { start: true } | { start: false; message: string; details: string[] };

/**
 * Refused when the group's committed `win` counts page views (a process-mode floor) and no stage-1 commit of the group
 * exists yet (after one, the switch happened and a store's process state is stale), whatever this store holds: a
 * store without open windows may be another member's or a new machine's (an empty store is even seeded from the lake's
 * file names before this check), while the aggregator whose floors these are keeps its open windows elsewhere. The
 * aggregator always holds the last minute open anyway.
 */
export function decideWindowsSwitch(facts: WindowsSwitchFacts): WindowsSwitchDecision {
  const { open } = facts;
  if (facts.stage1Wrote || !countsPageViews(facts.committedWins)) return { start: true };
  const ways = [
    `switch with a new etl.consumer_group (not ${facts.group}): its stage 1 reads the clickstream topic again from ` +
      'its start and completes those windows; the raw tables are not written again (their floors come from the ' +
      "lake's file names) nor are the windows already in the lake (they count as emitted)",
    'or keep etl.windows: process for this group',
  ];
  if (open.windows === 0)
    return {
      start: false,
      message:
        `etl.windows: members in group ${facts.group}, whose committed window floors are a one-process window ` +
        "aggregator's (etl.windows: process) that is not this checkpoint store's: stage 1 would resume past the page " +
        'views of the windows that aggregator holds open',
      details: ways,
    };
  const iso = (ms: number): string => new Date(ms).toISOString();
  const span =
    open.firstStartMs === null || open.lastStartMs === null
      ? ''
      : open.firstStartMs === open.lastStartMs
        ? ` (minute ${iso(open.firstStartMs)})`
        : ` (minutes ${iso(open.firstStartMs)} to ${iso(open.lastStartMs)})`;
  const windows = open.windows === 1 ? 'the 1 window' : `the ${open.windows} windows`;
  return {
    start: false,
    message:
      `etl.windows: members would lose the ${open.pageViews} page views of ${windows} open in this ` +
      `checkpoint store's etl.windows: process state${span}: stage 1 of group ${facts.group} resumes at the offsets ` +
      'the process-mode aggregator committed, past those page views',
    details: ways,
  };
}
