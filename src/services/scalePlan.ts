/**
 * Which local ETL members `services scale <n>` starts and stops (architecture.md, "Services and operating").
 * Pure. The fewest changes: every join or leave is a rebalance of the whole group, so running members are
 * kept (the lowest indexes), the highest are stopped, and new ones take the lowest free indexes.
 */
import { ErrorCodes, SdpError } from '../errors.js';
import { MAX_MEMBERS } from './memberLayout.js';

export interface ScalePlan {
  /** Running members that stay, ascending. */
  keep: number[];
  /** Running members to stop, highest index first (the order they are stopped in). */
  stop: number[];
  /** Indexes to start, ascending. */
  start: number[];
}

/** `running`: indexes of the members whose pid file names a live process. */
export function planScale(running: readonly number[], target: number): ScalePlan {
  const sorted = [...new Set(running)].sort((a, b) => a - b);
  const keep = sorted.slice(0, target);
  const stop = sorted.slice(target).reverse();
  const start: number[] = [];
  for (let index = 1; keep.length + start.length < target; index += 1) {
    if (!keep.includes(index)) start.push(index);
  }
  return { keep, stop, start };
}

export function isNoOp(plan: ScalePlan): boolean {
  return plan.stop.length === 0 && plan.start.length === 0;
}

/** `N` of `make scale N=…`: a whole number from 0 (stop every member) to MAX_MEMBERS. */
export function parseMemberCount(text: string | undefined): number {
  const value = (text ?? '').trim();
  if (!/^\d+$/.test(value) || Number(value) > MAX_MEMBERS)
    throw new SdpError(
      ErrorCodes.USAGE,
      `the number of ETL members must be a whole number from 0 to ${MAX_MEMBERS} (got ${JSON.stringify(text ?? '')})`,
      ['make scale N=3 (N=0 stops every member)'],
    );
  return Number(value);
}

export interface ScaleFacts {
  target: number;
  /** The platform of `services up` runs an ETL in the same group too. */
  platformPid?: number;
  /** kafka.partitions: partitions of each topic. */
  partitions: number;
  /** Where the running platform computes its windows (etl.windows, `auto` decided; members always run the stages). */
  platformWindows?: 'process' | 'members';
}

/** What the operator must know about the group this scale leaves, one line each. */
export function scaleNotes(facts: ScaleFacts): string[] {
  const notes: string[] = [];
  const processes = facts.target + (facts.platformPid === undefined ? 0 : 1);
  if (facts.platformPid !== undefined && facts.target > 0)
    notes.push(
      `the platform of \`make up\` (pid ${facts.platformPid}) runs an ETL in the same group too: ${processes} processes share the partitions`,
    );
  if (processes > facts.partitions)
    notes.push(
      `${processes} ETL processes for ${facts.partitions} partitions per topic (kafka.partitions): ${processes - facts.partitions} of them get no partition of a topic and idle`,
    );
  if (facts.platformPid !== undefined && facts.target > 0 && facts.platformWindows === 'process')
    notes.push(
      'the platform of `make up` computes its windows in one process (etl.windows: process) while the members use ' +
        'the window stages (architecture.md, "Windows across members"): the members refuse to start in its group ' +
        '(SDP_ERR_ETL_WINDOWS_SWITCH_REFUSED); to scale out, move the platform to etl.windows: members with a new ' +
        'etl.consumer_group (`make down`, edit config.yml, `make up`), whose stage 1 completes its open windows',
    );
  return notes;
}
