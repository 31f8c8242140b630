/**
 * When `check:scale-out` (bench/scale-out.ts) does what to the members while the producer runs, as offsets
 * from the start of the load. Pure: no clock.
 *
 * One member is killed -9 early (a leave Kafka notices after the session timeout), another frozen with
 * SIGSTOP once that rebalance is over and thawed `freezeMs` later (evicted, then back as a zombie whose commits are fenced), the
 * topics grow from 4 to 6 partitions midway, and a fourth member joins once the frozen one is back, so
 * that the pause of the others at that join is not confused with the thaw.
 */
export interface ScaleOutTimeline {
  killAtMs: number;
  freezeAtMs: number;
  thawAtMs: number;
  alterAtMs: number;
  joinAtMs: number;
  loadMs: number;
}

/** The join waits this long after the thaw: the thawed member's own rejoin comes first. */
export const JOIN_AFTER_THAW_MS = 10_000;
/**
 * The freeze waits this long after the kill: the group notices the kill after the session timeout (10 s,
 * kafka/topicConsumer.ts) and a heartbeat, and the pause of that rebalance is measured before the next one.
 */
export const FREEZE_AFTER_KILL_MS = 20_000;

export function planScaleOut(loadMs: number, freezeMs: number): ScaleOutTimeline {
  if (!(loadMs > 0) || !(freezeMs >= 0))
    throw new Error(`load ${loadMs} ms and freeze ${freezeMs} ms must be positive`);
  const killAtMs = Math.round(loadMs * 0.1);
  const freezeAtMs = Math.max(Math.round(loadMs * 0.2), killAtMs + FREEZE_AFTER_KILL_MS);
  const thawAtMs = freezeAtMs + freezeMs;
  const alterAtMs = Math.round(loadMs * 0.5);
  const joinAtMs = Math.max(Math.round(loadMs * 0.7), thawAtMs + JOIN_AFTER_THAW_MS);
  // Whatever happens last needs a tenth of the load to show its effect before the producer stops.
  if (joinAtMs > loadMs * 0.9)
    throw new Error(
      `a ${freezeMs / 1000} s freeze does not fit in ${loadMs / 1000} s of load: the fourth member would join at ${joinAtMs / 1000} s`,
    );
  return { killAtMs, freezeAtMs, thawAtMs, alterAtMs, joinAtMs, loadMs };
}
