/**
 * Which records of `<group>-pv-repartition` this process may delete, and when (architecture.md, "Windows across
 * members"): nothing reads a record again once the stage-2 task of its partition committed past it, since a takeover
 * (after a crash or a rebalance) resumes at the group's committed offset. So every `etl.repartition_purge_interval`
 * the window stage sends DeleteRecords, as Kafka Streams purges its repartition topics, for the partitions it owns, up
 * to the offset its own transaction committed there: never further, never backwards, at most one request in flight.
 * The topic's retention.ms stays the backstop (kafka/admin/windowTopics.ts). Pure: the actor does the I/O.
 */

export interface PurgeTarget {
  readonly partition: number;
  /** The new log start: every record below it is deleted. */
  readonly offset: bigint;
}

export interface PurgeState {
  /** Per partition, the highest offset a commit of this process's task committed (the next offset to read). */
  readonly committed: ReadonlyMap<number, bigint>;
  /** Per partition, the offset the last successful purge moved the log start to. */
  readonly purged: ReadonlyMap<number, bigint>;
  /** When the last purge was sent (or the stage started): the next waits a whole interval after it. */
  readonly lastAttemptMs: number;
  /** The targets of the purge in flight; null when none is. */
  readonly inFlight: readonly PurgeTarget[] | null;
}

export function initialPurgeState(nowMs: number): PurgeState {
  return { committed: new Map(), purged: new Map(), lastAttemptMs: nowMs, inFlight: null };
}

/** A commit of task `partition` moved the group's offset to `next`; an older answer never moves it back. */
export function noteCommitted(state: PurgeState, partition: number, next: bigint): PurgeState {
  const known = state.committed.get(partition);
  if (known !== undefined && known >= next) return state;
  return { ...state, committed: new Map(state.committed).set(partition, next) };
}

export interface PurgeWhen {
  nowMs: number;
  intervalMs: number;
  /** The partitions whose task runs here now: only their commits are ours to act on. */
  owned: ReadonlySet<number>;
}

/**
 * The purge to send now, if any: none while one is in flight or before `intervalMs` has passed since the last one;
 * else each owned partition whose committed offset is past what was purged, at that offset. The returned state
 * holds the targets as in flight until `purgeSettled`.
 */
export function planPurge(state: PurgeState, when: PurgeWhen): { state: PurgeState; targets: PurgeTarget[] } {
  if (state.inFlight !== null || when.nowMs - state.lastAttemptMs < when.intervalMs) return { state, targets: [] };
  const targets: PurgeTarget[] = [];
  for (const [partition, offset] of state.committed) {
    if (!when.owned.has(partition) || offset <= (state.purged.get(partition) ?? 0n)) continue;
    targets.push({ partition, offset });
  }
  targets.sort((a, b) => a.partition - b.partition);
  if (targets.length === 0) return { state, targets };
  return { state: { ...state, inFlight: targets, lastAttemptMs: when.nowMs }, targets };
}

/**
 * The purge in flight ended. Done: its offsets are the partitions' new log starts. Failed (a leader moving, a broker
 * down): nothing is recorded, so the same partitions, at their offsets then, are tried again at the next interval.
 */
export function purgeSettled(state: PurgeState, ok: boolean): PurgeState {
  if (state.inFlight === null) return state;
  if (!ok) return { ...state, inFlight: null };
  const purged = new Map(state.purged);
  for (const t of state.inFlight) if (t.offset > (purged.get(t.partition) ?? 0n)) purged.set(t.partition, t.offset);
  return { ...state, purged, inFlight: null };
}
