/**
 * Crash points hit on purpose (architecture.md, checkpoint protocol): `SDP_FAULT=<point>` makes
 * the process die at that exact point of the checkpoint protocol, with kill -9 semantics (SIGKILL
 * to itself: no cleanup, no flush, no exit handler), so that tests can prove that a crash there
 * loses and repeats nothing.
 *
 * Read once at start by `armFaultFromEnv`; unset (production) nothing is armed and `hitFault` is
 * one comparison with undefined. The points are on the commit path (once per roll or checkpoint),
 * never per event.
 */
import { writeSync } from 'node:fs';
import { ErrorCodes, SdpError } from '../errors.js';

export const FAULT_POINTS = [
  /** Lake writer: every tmp file of a roll is written and fsynced, the commit not sent yet. */
  'after-tmp-fsync-before-commit',
  /** Checkpointer: a raw roll's checkpoint is journalled, none of its renames applied. */
  'after-commit-before-rename',
  /** Checkpointer: the first rename of a raw roll with two files or more is applied, not the next. */
  'between-renames',
  /** Checkpointer: a window checkpoint is journalled, its renames not applied. */
  'after-window-checkpoint-before-rename',
  /** Checkpoint store: inside the SQLite transaction that writes a snapshot, before it commits. */
  'during-snapshot-write',
  /** Window stage (etl.windows: members): a task's window files are written as tmp, its transaction not sent. */
  'window-task-after-tmp-before-commit',
  /** Window stage: a task's transaction (snapshot, offset, files named) committed, its renames not applied. */
  'window-task-after-commit-before-rename',
  /** Compaction: the merged file is written and fsynced as tmp, no new version of its unit built. */
  'compaction-after-merged-tmp',
  /** Compaction inside the ETL: the owner's compaction commit (naming the merged file) committed, no version built. */
  'compaction-after-commit',
  /** Compaction: the unit's new version is built beside it in `_swap`, not exchanged. */
  'compaction-after-version-built',
  /** Compaction: the unit is exchanged (readers see the merged file), the merged tmp link not removed. */
  'compaction-after-exchange',
  /**
   * The process aggregator's compaction of its `agg` units, committed in the checkpoint store: the same four points,
   * named apart so that a kill lands in the owner a test means (a partition's owner merges in the same process).
   */
  'agg-compaction-after-merged-tmp',
  'agg-compaction-after-commit',
  'agg-compaction-after-version-built',
  'agg-compaction-after-exchange',
  /** Retention inside the ETL: the owner's expiry record names the files, none of its units deleted yet. */
  'retention-after-record',
  /** Retention inside the ETL: the owner's first expired unit is deleted, the next not yet. */
  'retention-between-units',
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

/** The crash points of one owner's merge. */
export interface MergeFaults {
  mergedTmp: FaultPoint;
  commit: FaultPoint;
  versionBuilt: FaultPoint;
  exchange: FaultPoint;
}

/** A raw partition's owner, and `lake compact` (which has no commit point: nothing else owns a unit). */
export const OWNER_MERGE_FAULTS: MergeFaults = {
  mergedTmp: 'compaction-after-merged-tmp',
  commit: 'compaction-after-commit',
  versionBuilt: 'compaction-after-version-built',
  exchange: 'compaction-after-exchange',
};

/**
 * The window table's merges: the process aggregator's, and the stage-2 tasks' with `etl.windows: members`. Both run
 * in the same process as the raw partitions' owners, so a kill test aims at one kind of merge by its name.
 */
export const AGG_MERGE_FAULTS: MergeFaults = {
  mergedTmp: 'agg-compaction-after-merged-tmp',
  commit: 'agg-compaction-after-commit',
  versionBuilt: 'agg-compaction-after-version-built',
  exchange: 'agg-compaction-after-exchange',
};

export const FAULT_ENV = 'SDP_FAULT';

let armed: FaultPoint | undefined;

/**
 * Arms the point named by `SDP_FAULT` (nothing when unset or empty).
 * @throws SdpError(CONFIG_FAULT_UNKNOWN) naming the value, for an unknown point (exit 2).
 */
export function armFaultFromEnv(env: NodeJS.ProcessEnv = process.env): FaultPoint | undefined {
  const value = env[FAULT_ENV];
  armed = undefined;
  if (value === undefined || value === '') return undefined;
  if (!(FAULT_POINTS as readonly string[]).includes(value)) {
    throw new SdpError(ErrorCodes.CONFIG_FAULT_UNKNOWN, `${FAULT_ENV}: unknown fault point '${value}'`, [
      `expected one of: ${FAULT_POINTS.join(', ')}`,
    ]);
  }
  armed = value as FaultPoint;
  return armed;
}

/** The armed point, if any. */
export function armedFault(): FaultPoint | undefined {
  return armed;
}

/** Tests: arm or disarm a point without the environment. */
export function setFaultForTest(point: FaultPoint | undefined): void {
  armed = point;
}

/** What `hitFault` does when its point is armed: die as kill -9 would. Tests replace it. */
let crash = (point: FaultPoint): never => {
  // Synchronous: the process is gone before any buffered log line could be flushed.
  writeSync(2, `${FAULT_ENV}=${point}: crashing here on purpose (SIGKILL)\n`);
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL cannot be caught; this line is never reached.
  process.exit(137);
};

export function setCrashForTest(fn: (point: FaultPoint) => never): void {
  crash = fn;
}

/** Dies here if `point` is the armed one. */
export function hitFault(point: FaultPoint): void {
  if (armed === point) crash(point);
}
