/**
 * How many events the next task of a stream carries. Keeping up (a little due at each tick):
 * one batch of `batchSize`. Behind, or at an unlimited rate: the backlog spread over the free
 * task slots, so every thread gets work, in tasks of at most `maxEventsPerTask` — one transaction
 * each, so a larger task pays the transaction's round trips (AddPartitionsToTxn, EndTxn, markers)
 * over more events.
 */
export interface TaskSizing {
  batchSize: number;
  maxEventsPerTask: number;
}

export function nextTaskSize(dueEvents: number, freeTaskSlots: number, sizing: TaskSizing): number {
  if (dueEvents <= 0 || freeTaskSlots <= 0) return 0;
  const spread = Math.ceil(dueEvents / freeTaskSlots);
  return Math.min(dueEvents, Math.max(sizing.batchSize, Math.min(sizing.maxEventsPerTask, spread)));
}

/**
 * Whether a stream that keeps up should wait before sending what is due: less than a batch is due,
 * more will come (the count is not reached), and the oldest due event has waited less than
 * `lingerMs`. As Kafka's linger.ms: fewer, fuller transactions at low rates, each event late by at
 * most `lingerMs`, so the rate over any window stays exact to within one small batch.
 */
export function shouldLinger(args: {
  dueEvents: number;
  leftEvents: number;
  batchSize: number;
  oldestDueAtMs: number;
  nowMs: number;
  lingerMs: number;
}): boolean {
  return (
    args.dueEvents < args.batchSize &&
    args.dueEvents < args.leftEvents &&
    args.nowMs - args.oldestDueAtMs < args.lingerMs
  );
}
