/**
 * In which order `kafka down` stops the combined broker+controller nodes so that each finishes its
 * controlled shutdown (architecture.md, "Services and operating"). A broker may exit only once the
 * active controller has committed its shutdown to the metadata log, which needs a majority of the
 * voters alive. So nodes leave one at a time while more than a majority runs, the active controller
 * never among them; the last majority, the controller with it, is stopped together, so that every
 * one of them asks while all of their controllers still vote. Stopping them one at a time to the
 * end would leave the last node alone, without a majority, waiting for ever.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Groups of node ids: each group is signalled together, the next one once it has exited. */
export type StopOrder = number[][];

/**
 * `running`: the node ids that run; `voters`: the size of the quorum (every node votes);
 * `controller`: the active controller, when known.
 */
export function stopOrder(running: readonly number[], voters: number, controller: number | undefined): StopOrder {
  const majority = Math.floor(voters / 2) + 1;
  // The controller last: stopping it first would cost an election, and a slow one risks the quorum.
  const ordered = [...running].sort((a, b) => (a === controller ? 1 : b === controller ? -1 : a - b));
  const groups: StopOrder = [];
  while (ordered.length > majority) groups.push([ordered.shift() as number]);
  if (ordered.length > 0) groups.push(ordered.sort((a, b) => a - b));
  return groups;
}

/**
 * The active controller as the nodes last recorded it: the leader of the highest epoch in their
 * `__cluster_metadata-0/quorum-state` files (written by KRaft at each election); undefined if none.
 */
export function activeController(nodeDirs: readonly string[]): number | undefined {
  let best: { leaderId: number; leaderEpoch: number } | undefined;
  for (const dir of nodeDirs) {
    const file = join(dir, 'data', '__cluster_metadata-0', 'quorum-state');
    if (!existsSync(file)) continue;
    try {
      const state = JSON.parse(readFileSync(file, 'utf8')) as { leaderId?: unknown; leaderEpoch?: unknown };
      const { leaderId, leaderEpoch } = state;
      if (typeof leaderId !== 'number' || typeof leaderEpoch !== 'number' || leaderId < 0) continue;
      if (!best || leaderEpoch > best.leaderEpoch) best = { leaderId, leaderEpoch };
    } catch {
      // a file being rewritten: the other nodes tell
    }
  }
  return best?.leaderId;
}

/** "node 2, then nodes 1 and 3 together (3 the active controller)": the order `kafka down` took. */
export function describeStopOrder(order: StopOrder, controller: number | undefined): string {
  const group = (ids: number[]) =>
    ids.length === 1 ? `node ${ids[0]}` : `nodes ${ids.slice(0, -1).join(', ')} and ${ids.at(-1)} together`;
  const steps = order.filter((ids) => ids.length > 0).map(group);
  const known = controller !== undefined && order.some((ids) => ids.includes(controller));
  return `${steps.join(', then ')}${known ? ` (${controller} the active controller)` : ''}`;
}
