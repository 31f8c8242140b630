/**
 * Where a stopping window stage stops fetching (architecture.md, "Windows across members"): at the ends of its
 * repartition partitions as they stood once stage 1 had committed its last marks. Reading up to there before the last
 * commit applies those marks, so a stopped lake holds every window they close and the next start has nothing of this
 * run left to apply. The ends are high watermarks, not last stable offsets: a commit returns before its markers are
 * written, and until then the last stable offset stays before the marks just committed (seen: the drain stopped
 * short). A transaction of another member still open past that end holds the drain up to its budget.
 */

/** A task of the stage as the drain sees it. */
export interface DrainingTask {
  partition: number;
  /** Only a running task applies records; one still taking over or failed is left to the next owner. */
  running: boolean;
  /** The next offset it applies; undefined before its takeover placed it. */
  position: string | undefined;
}

/** Partitions whose running task has not reached its end yet; `ends` is partition → the next offset to be written. */
export function partitionsBehind(tasks: Iterable<DrainingTask>, ends: ReadonlyMap<number, string>): number[] {
  const behind: number[] = [];
  for (const task of tasks) {
    const end = ends.get(task.partition);
    if (!task.running || end === undefined) continue;
    if (task.position === undefined || BigInt(task.position) < BigInt(end)) behind.push(task.partition);
  }
  return behind.sort((a, b) => a - b);
}

/**
 * How long the drain reads toward those ends before it stops anyway: a third of what is left of the stop's
 * `etl.shutdown_timeout` (the ingests' drain and the last marks spent the rest), at most 10 s, so that the flush and
 * close that follow still fit when a broker does not answer.
 */
export function drainCatchUpBudgetMs(remainingMs: number): number {
  return Math.max(0, Math.min(10_000, Math.floor(remainingMs / 3)));
}
