/**
 * What an ingest actor (actors/ingest.ts) does when the consumer group assigns and revokes
 * partitions: which partition actors to spawn, which kept ones to take back, where each assigned
 * partition starts, which start offsets to commit to the group, and which actors to set aside
 * (flushed, kept for a partition that comes back). Pure: the actor applies the plan.
 */
import { compareOffsets } from '../checkpoint/checkpointState.js';

export interface AssignmentFacts {
  assigned: readonly number[];
  revoked: readonly number[];
  /** Partitions with a running partition actor. */
  owned: ReadonlySet<number>;
  /** Revoked partitions whose actor was kept, with the position it stood at (undefined: none). */
  kept: ReadonlyMap<number, string | undefined>;
  /** Next offset to fetch per owned partition, as far as processing stands. */
  positions: ReadonlyMap<number, string>;
  /** The last offsets committed to the Kafka group. */
  committedToKafka: ReadonlyMap<number, string>;
  /** Where a partition without a position starts: an etl.on_offset_out_of_range override, or its checkpoint. */
  startOf: (partition: number) => string;
}

export interface AssignmentPlan {
  /** Assigned partitions new to this member: spawn a partition actor. */
  spawn: number[];
  /** Assigned partitions whose kept actor is taken back. */
  takeBack: number[];
  /** Where every assigned partition starts (its new position, and the consumer's seek). */
  starts: Map<number, string>;
  /**
   * Start offsets to commit to the group now, not only after the next checkpoint: a new, reset or
   * expired group would otherwise show the whole backlog as lag.
   */
  commits: Map<number, string>;
  /** Revoked partitions that had an actor: flushed and kept aside with their position. */
  setAside: Array<{ partition: number; position: string | undefined }>;
  /** Every revoked partition: no longer owned, no position. */
  release: number[];
}

export function planAssignment(facts: AssignmentFacts): AssignmentPlan {
  const plan: AssignmentPlan = {
    spawn: [],
    takeBack: [],
    starts: new Map(),
    commits: new Map(),
    setAside: [],
    release: [...facts.revoked],
  };
  const owned = new Set(facts.owned);
  const positions = new Map(facts.positions);
  for (const partition of facts.assigned) {
    if (!owned.has(partition)) {
      owned.add(partition);
      if (facts.kept.has(partition)) {
        plan.takeBack.push(partition);
        const position = facts.kept.get(partition);
        if (position !== undefined) positions.set(partition, position);
      } else plan.spawn.push(partition);
    }
    const start = positions.get(partition) ?? facts.startOf(partition);
    positions.set(partition, start);
    plan.starts.set(partition, start);
    const committed = facts.committedToKafka.get(partition);
    if (committed === undefined || compareOffsets(start, committed) > 0) plan.commits.set(partition, start);
  }
  for (const partition of facts.revoked) {
    if (owned.has(partition)) plan.setAside.push({ partition, position: positions.get(partition) });
  }
  return plan;
}
