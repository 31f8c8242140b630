/**
 * One merge per process at a time (architecture.md, "Compaction", "Inside the ETL"): each holds about two row groups
 * and a worker thread (~130 MB for a day of a partition), and the owners of one process (the checkpointer's tasks of
 * the input partitions, the window stage's tasks) would otherwise all merge side by side on a first round.
 */
let slot: Promise<unknown> = Promise.resolve();

/** Runs `work` once every merge started before it in this process has ended (whether it failed or not). */
export function oneMergeAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = slot.then(work, work);
  slot = run.catch(() => undefined);
  return run;
}
