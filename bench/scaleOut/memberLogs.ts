/**
 * What the members' JSON logs say about a scale-out run (bench/scale-out.ts): who held which partitions when, how
 * long a partition of a member that left took to be read again elsewhere, how long the others paused at a
 * rebalance, and how many rows each member committed. Pure: the caller reads the log files.
 *
 * The lines it reads (architecture.md, "Growing past one machine"): the ingest's `partitions assigned` (the whole
 * assignment of one topic's consumer, logged in the group-join event) and `partition reading` (a partition taken
 * over and read from its floors), kafkajs's `The group is rebalancing, re-joining` and `Topic has been updated,
 * resync group` (a consumer stops fetching and rejoins), and the ETL's `etl metrics` (events/s and lag per topic,
 * every 10 s).
 */

export type MemberEvent =
  | { kind: 'assigned'; member: number; atMs: number; topic: string; partitions: number[] }
  | { kind: 'reading'; member: number; atMs: number; topic: string; partition: number }
  | { kind: 'rebalancing'; member: number; atMs: number }
  | { kind: 'metrics'; member: number; atMs: number; eventsPerSecond: number; lag: number };

/** The sum of an object's numeric values (`{topic: n}`); null values count 0. */
function sumOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return Object.values(value).reduce((n: number, v) => n + (typeof v === 'number' ? v : 0), 0);
}

/** The events of one member's log (JSON lines; anything else, and lines without a time, skipped). */
export function parseMemberLog(text: string, member: number): MemberEvent[] {
  const events: MemberEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const atMs = typeof entry.time === 'string' ? Date.parse(entry.time) : Number(entry.time);
    if (!Number.isFinite(atMs)) continue;
    const msg = String(entry.msg ?? '');
    if (msg === 'partitions assigned' && typeof entry.topic === 'string' && Array.isArray(entry.assigned))
      events.push({ kind: 'assigned', member, atMs, topic: entry.topic, partitions: entry.assigned.map(Number) });
    else if (msg === 'partition reading' && typeof entry.topic === 'string')
      events.push({ kind: 'reading', member, atMs, topic: entry.topic, partition: Number(entry.partition) });
    else if (msg.startsWith('The group is rebalancing') || msg.startsWith('Topic has been updated'))
      events.push({ kind: 'rebalancing', member, atMs });
    else if (msg.startsWith('etl metrics'))
      events.push({
        kind: 'metrics',
        member,
        atMs,
        eventsPerSecond: sumOf(entry.events_per_s),
        lag: sumOf(entry.lag),
      });
  }
  return events;
}

/** topic → the partitions `member` held at `atMs` (its last assignment per topic before then). */
export function heldAt(events: readonly MemberEvent[], member: number, atMs: number): Map<string, number[]> {
  const held = new Map<string, number[]>();
  for (const e of events)
    if (e.kind === 'assigned' && e.member === member && e.atMs <= atMs) held.set(e.topic, e.partitions);
  return held;
}

export interface Failover {
  /** Partitions `member` held when it left. */
  partitions: number;
  /** From the leave to the first of them read again on another member. */
  firstMs?: number;
  /** From the leave until every one of them was read again on another member (undefined: not all were). */
  allMs?: number;
}

/** How long the partitions of `member`, which left at `leftAtMs`, took to be read again by the others. */
export function failover(events: readonly MemberEvent[], member: number, leftAtMs: number): Failover {
  const held = heldAt(events, member, leftAtMs);
  const firstReading = new Map<string, number>();
  for (const e of events)
    if (e.kind === 'reading' && e.member !== member && e.atMs >= leftAtMs) {
      const key = `${e.topic}:${e.partition}`;
      firstReading.set(key, Math.min(e.atMs, firstReading.get(key) ?? e.atMs));
    }
  const times: Array<number | undefined> = [];
  for (const [topic, partitions] of held) for (const p of partitions) times.push(firstReading.get(`${topic}:${p}`));
  const seen = times.filter((t): t is number => t !== undefined);
  return {
    partitions: times.length,
    ...(seen.length > 0 ? { firstMs: Math.min(...seen) - leftAtMs } : {}),
    ...(seen.length === times.length && seen.length > 0 ? { allMs: Math.max(...seen) - leftAtMs } : {}),
  };
}

export interface Pause {
  member: number;
  /** From its first `rebalancing` at or after the moment to its next assignment of every topic it consumes. */
  pauseMs: number;
  /** When that rebalance began, after the moment. */
  afterMs: number;
}

/**
 * The pause of each of `members` at the first rebalance at or after `fromMs` and before `untilMs`: from its first
 * `The group is rebalancing` line to the moment every topic it had consumed was assigned again. Members without
 * such a rebalance are left out.
 */
export function rebalancePauses(
  events: readonly MemberEvent[],
  members: readonly number[],
  fromMs: number,
  untilMs: number = Number.POSITIVE_INFINITY,
): Pause[] {
  const pauses: Pause[] = [];
  for (const member of members) {
    const start = events.find(
      (e) => e.kind === 'rebalancing' && e.member === member && e.atMs >= fromMs && e.atMs < untilMs,
    );
    if (!start) continue;
    const topics = new Set<string>();
    for (const e of events)
      if (e.kind === 'assigned' && e.member === member && e.atMs <= start.atMs) topics.add(e.topic);
    const back = new Map<string, number>();
    for (const e of events)
      if (e.kind === 'assigned' && e.member === member && e.atMs >= start.atMs && !back.has(e.topic))
        back.set(e.topic, e.atMs);
    if (topics.size === 0 || [...topics].some((t) => !back.has(t))) continue;
    pauses.push({
      member,
      pauseMs: Math.max(...[...topics].map((t) => back.get(t)!)) - start.atMs,
      afterMs: start.atMs - fromMs,
    });
  }
  return pauses;
}

export interface Throughput {
  /** Σ over members of the mean of their `etl metrics` events/s in the span. */
  eventsPerSecond: number;
  /** Σ over members of the lag of their last `etl metrics` in the span. */
  lag: number;
  /** Members that logged metrics in the span. */
  members: number;
}

/** What the members read in [fromMs, toMs), from their `etl metrics` lines. */
export function throughput(events: readonly MemberEvent[], fromMs: number, toMs: number): Throughput {
  const rates = new Map<number, number[]>();
  const lags = new Map<number, number>();
  for (const e of events)
    if (e.kind === 'metrics' && e.atMs >= fromMs && e.atMs < toMs) {
      rates.set(e.member, [...(rates.get(e.member) ?? []), e.eventsPerSecond]);
      lags.set(e.member, e.lag);
    }
  let eventsPerSecond = 0;
  for (const r of rates.values()) eventsPerSecond += r.reduce((a, b) => a + b, 0) / r.length;
  return {
    eventsPerSecond: Math.round(eventsPerSecond),
    lag: [...lags.values()].reduce((a, b) => a + b, 0),
    members: rates.size,
  };
}
