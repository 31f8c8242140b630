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
