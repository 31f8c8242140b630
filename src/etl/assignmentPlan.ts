/**
 * What an ingest actor (actors/ingest.ts) does when the consumer group assigns and revokes
 * partitions (architecture.md, "Growing past one machine"): which partitions to take over before
 * they are read, where the ones it keeps running stand, and which to drop. Pure: the actor applies
 * the plan.
 *
 * Kafka is the truth for where a partition resumes, so a partition new to this member is paused until
 * its takeover (fence the previous holder, read the committed offset and metadata, finish the last
 * commit's renames) says where it starts. A revoked partition stops at once and its buffered rows are
 * dropped: the new owner reads them again after the last commit, and a flush racing its takeover
 * could only be fenced. A partition kept through a rebalance keeps running from its position.
 */
export interface AssignmentFacts {
  assigned: readonly number[];
  revoked: readonly number[];
  /** Partitions with a running partition actor. */
  owned: ReadonlySet<number>;
  /** Partitions whose takeover is in flight. */
  takingOver: ReadonlySet<number>;
  /** Next offset to fetch per owned partition, as far as processing stands. */
  positions: ReadonlyMap<number, string>;
}

export interface AssignmentPlan {
  /** Assigned partitions neither running nor being taken over: pause, take over, then spawn and seek. */
  takeOver: number[];
  /** Owned partitions kept through the rebalance: where the consumer seeks (a rejoin resets kafkajs's positions). */
  seeks: Map<number, string>;
  /** Revoked partitions this member ran or was taking over: stop them, drop what they buffered. */
  release: number[];
}

export function planAssignment(facts: AssignmentFacts): AssignmentPlan {
  const plan: AssignmentPlan = { takeOver: [], seeks: new Map(), release: [] };
  for (const partition of facts.assigned) {
    if (facts.takingOver.has(partition)) continue;
    const position = facts.owned.has(partition) ? facts.positions.get(partition) : undefined;
    if (position !== undefined) plan.seeks.set(partition, position);
    else plan.takeOver.push(partition);
  }
  for (const partition of facts.revoked) {
    if (facts.owned.has(partition) || facts.takingOver.has(partition)) plan.release.push(partition);
  }
  return plan;
}
