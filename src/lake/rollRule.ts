/**
 * When a lake writer rolls its buffer into Parquet files, and when it counts as backlogged (its
 * partition then pauses fetching). Pure: the writer (actors/lakeWriter.ts) passes what it buffers,
 * whether a roll is in flight, the shared budget's state and the time (architecture.md,
 * "Back-pressure and shutdown").
 */

/** The writer's limits (etl.max_file_rows, max_file_bytes, max_file_age, max_file_idle). */
export interface RollLimits {
  maxFileRows: number;
  maxFileBytes: number;
  maxFileAgeMs: number;
  maxFileIdleMs: number;
  /** Under budget pressure a writer rolls early, but not files smaller than this (minPressureRollRows). */
  minPressureRollRows: number;
}

/** What one writer holds now. */
export interface WriterFacts {
  /** Rows and rejected records buffered: what the thresholds count. */
  bufferedRecords: number;
  bufferedBytes: number;
  /** Nothing buffered (no offset since the last roll). */
  empty: boolean;
  /** When the buffer's first append arrived, and its last one. */
  bufferSinceMs: number;
  lastAppendMs: number;
  /**
   * No roll may start now: one is being encoded, or one is committing with the next written behind it (a writer encodes
   * one roll at a time and has at most two in flight).
   */
  rolling: boolean;
  /** The shared row budget (lake/bufferBudget.ts); absent: unlimited. */
  budget?: { pressing: boolean; exceeded: boolean };
}

export interface RollFacts extends WriterFacts {
  limits: RollLimits;
  /** Roll whatever is buffered now: a flush, the end of a backlog, a flush waiting after a roll. */
  force: boolean;
}

export type RollReason = 'force' | 'full' | 'age' | 'idle' | 'pressure';

export type RollDecision =
  | { roll: true; reason: RollReason }
  | { roll: false; reason: 'rolling' | 'empty' | 'not-due' };

/** A sixteenth of the shared budget, at least one row (no budget: never): early rolls stay files, not crumbs. */
export function minPressureRollRows(budgetLimitRows: number | undefined): number {
  return budgetLimitRows === undefined ? Infinity : Math.max(1, Math.floor(budgetLimitRows / 16));
}

export function isFull(facts: WriterFacts, limits: RollLimits): boolean {
  return facts.bufferedRecords >= limits.maxFileRows || facts.bufferedBytes >= limits.maxFileBytes;
}

/** Whether to start a roll now; the first reason that holds, in the order of RollReason. */
export function rollDecision(facts: RollFacts, nowMs: number): RollDecision {
  if (facts.rolling) return { roll: false, reason: 'rolling' };
  if (facts.empty) return { roll: false, reason: 'empty' };
  const { limits } = facts;
  if (facts.force) return { roll: true, reason: 'force' };
  if (isFull(facts, limits)) return { roll: true, reason: 'full' };
  if (nowMs - facts.bufferSinceMs >= limits.maxFileAgeMs) return { roll: true, reason: 'age' };
  if (nowMs - facts.lastAppendMs >= limits.maxFileIdleMs) return { roll: true, reason: 'idle' };
  if (facts.budget?.pressing === true && facts.bufferedRecords >= limits.minPressureRollRows)
    return { roll: true, reason: 'pressure' };
  return { roll: false, reason: 'not-due' };
}

/**
 * A whole roll waits behind the rolls in flight, or the shared budget is spent and this writer
 * cannot give rows back now (no roll may start, or too few rows for a roll under pressure).
 */
export function isBacklogged(facts: WriterFacts, limits: RollLimits): boolean {
  if (facts.rolling && isFull(facts, limits)) return true;
  return facts.budget?.exceeded === true && (facts.rolling || facts.bufferedRecords < limits.minPressureRollRows);
}

/**
 * The writer's high-water mark: 'high' when it becomes backlogged (the partition pauses),
 * 'drained' when it no longer is (fetching resumes), null when nothing changes.
 */
export function backlogChange(wasHigh: boolean, facts: WriterFacts, limits: RollLimits): 'high' | 'drained' | null {
  const backlogged = isBacklogged(facts, limits);
  if (backlogged && !wasHigh) return 'high';
  if (!backlogged && wasHigh) return 'drained';
  return null;
}
