/**
 * The chaos run's plan, drawn from one seed so that a failing run can be repeated: when each
 * kill -9 of the platform happens, when the one SIGTERM under load happens, and when which broker
 * is stopped. Pure: no clock, no I/O.
 *
 * - Process actions (kills and the SIGTERM) lie in [5 %, 92 %] of the duration, at least
 *   `minGapMs` apart; most wait until the process they hit is at work (see ProcessAction).
 * - Broker outages never overlap (topics have two replicas: two brokers down at once would make
 *   partitions unavailable rather than test recovery), each has `brokerDownMs` plus `brokerSettleMs`
 *   for the node to rejoin, and all end before the duration does.
 * - With several ETL members (`members` > 1) each process action hits one member, drawn after
 *   everything else so that the one-member plan of a seed stays what it always was.
 */
import { mulberry32 } from '../../src/system/mulberry32.js';

export interface ChaosPlanOptions {
  seed: number;
  durationMs: number;
  kills: number;
  brokerRestarts: number;
  brokerDownMs: number;
  /** Time a restarted broker is given to rejoin before the next outage may begin. */
  brokerSettleMs: number;
  brokers: number;
  /** Smallest gap between two process actions. */
  minGapMs: number;
  /** ETL members the process actions choose from (default 1: the one `run` process, no `member` drawn). */
  members?: number;
}

/**
 * `underLoad`: the action waits until the process it hits produces and consumes (a restart under
 * this CPU takes 10–20 s), then `afterLoadMs` more; otherwise it lands wherever its moment falls,
 * start-up and lake recovery included. The SIGTERM is always under load.
 */
export interface ProcessAction {
  atMs: number;
  kind: 'kill9' | 'sigterm';
  underLoad: boolean;
  afterLoadMs: number;
  /** With several members: the index (0-based) of the member it hits; absent with one. */
  member?: number;
}

export interface BrokerOutage {
  atMs: number;
  nodeId: number;
  downMs: number;
}

export interface ChaosPlan {
  processActions: ProcessAction[];
  brokerOutages: BrokerOutage[];
}

/** `count` sorted moments in [lowMs, highMs] at least `gapMs` apart (a uniform draw, then spread). */
function spreadMoments(random: () => number, count: number, lowMs: number, highMs: number, gapMs: number): number[] {
  const slack = highMs - lowMs - gapMs * Math.max(0, count - 1);
  if (count > 0 && slack < 0)
    throw new Error(`${count} moments at least ${gapMs} ms apart do not fit in ${highMs - lowMs} ms`);
  // Uniform points in the slack, sorted, then pushed apart by the gap: uniform over the valid sets.
  const draws = Array.from({ length: count }, () => Math.floor(random() * slack)).sort((a, b) => a - b);
  return draws.map((d, i) => lowMs + d + i * gapMs);
}

export function planChaos(options: ChaosPlanOptions): ChaosPlan {
  const { durationMs, kills, brokerRestarts, brokerDownMs, brokerSettleMs, brokers, minGapMs } = options;
  const members = options.members ?? 1;
  if (!Number.isInteger(kills) || kills < 0) throw new Error(`kills must be a non-negative integer, not ${kills}`);
  if (!Number.isInteger(members) || members < 1) throw new Error(`members must be a positive integer, not ${members}`);
  if (!Number.isInteger(brokerRestarts) || brokerRestarts < 0)
    throw new Error(`broker restarts must be a non-negative integer, not ${brokerRestarts}`);
  const random = mulberry32(options.seed);

  const moments = spreadMoments(
    random,
    kills + 1,
    Math.floor(durationMs * 0.05),
    Math.floor(durationMs * 0.92),
    minGapMs,
  );
  const sigtermIndex = Math.floor(random() * moments.length);
  // Three kills in four hit a process at work (mid-transaction, mid-roll); the rest fall anywhere.
  const processActions: ProcessAction[] = moments.map((atMs, i) => {
    const underLoad = i === sigtermIndex || random() < 0.75;
    return {
      atMs,
      kind: i === sigtermIndex ? 'sigterm' : 'kill9',
      underLoad,
      afterLoadMs: underLoad ? Math.floor(random() * 4_000) : 0,
    };
  });

  const outageMs = brokerDownMs + brokerSettleMs;
  const starts = spreadMoments(random, brokerRestarts, Math.floor(durationMs * 0.05), durationMs - outageMs, outageMs);
  const brokerOutages = starts.map((atMs) => ({
    atMs,
    nodeId: 1 + Math.floor(random() * brokers),
    downMs: brokerDownMs,
  }));
  // Last draws of the seed's sequence: the plan above is the one-member plan, whatever `members` is.
  if (members > 1) for (const action of processActions) action.member = Math.floor(random() * members);
  return { processActions, brokerOutages };
}
