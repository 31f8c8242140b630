/**
 * What the purge of the repartition topic did since the process started (architecture.md, "Windows across members"),
 * for `/metrics`: purges done and failed, and per repartition partition the log start the last purge of this process
 * moved it to. Kept per process, not per window stage, so that an in-process restart of the ETL does not set the
 * counters back.
 */
import type { PurgeTarget } from './repartitionPurgePlan.js';

export interface RepartitionPurgeTotals {
  /** DeleteRecords requests that succeeded. */
  done: number;
  /** DeleteRecords requests that failed (each is tried again at the next interval). */
  failed: number;
  /** Per partition, the offset the last successful purge of this process moved its log start to. */
  purgedTo: Array<{ partition: number; offset: number }>;
}

let done = 0;
let failed = 0;
const purgedTo = new Map<number, bigint>();

/** One purge ended: `ok` with `targets` as the partitions' new log starts, or failed. */
export function countPurge(ok: boolean, targets: readonly PurgeTarget[]): void {
  if (!ok) {
    failed += 1;
    return;
  }
  done += 1;
  for (const t of targets) purgedTo.set(t.partition, t.offset);
}

export function repartitionPurgeTotals(): RepartitionPurgeTotals {
  return {
    done,
    failed,
    purgedTo: [...purgedTo]
      .sort(([a], [b]) => a - b)
      .map(([partition, offset]) => ({ partition, offset: Number(offset) })),
  };
}
