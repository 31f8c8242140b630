import { ErrorCodes, SdpError } from '../errors.js';
import { combineWatermarks, type WatermarkVote } from './globalWatermark.js';

export interface WatermarkTrackerOptions {
  /** Watermark of a partition = max event time seen on it − this delay. */
  readonly watermarkDelayMs: number;
  /** Wall-clock time without events after which a caught-up, unpaused partition is idle. */
  readonly idleTimeoutMs: number;
}

/** What a metrics endpoint shows for one known partition. */
export interface PartitionWatermarkStatus {
  readonly partition: number;
  readonly assigned: boolean;
  /** null while the partition has delivered no event (watermark -Infinity). */
  readonly watermarkMs: number | null;
  readonly idle: boolean;
  readonly paused: boolean;
  readonly caughtUp: boolean;
}

/** JSON form of the tracker: -Infinity is written as null; wall-clock fields are not kept. */
export interface WatermarkTrackerSnapshot {
  readonly globalWatermarkMs: number | null;
  readonly partitions: ReadonlyArray<{
    readonly partition: number;
    readonly assigned: boolean;
    readonly maxEventTimeMs: number | null;
    readonly caughtUp: boolean;
  }>;
}

interface PartitionState {
  assigned: boolean;
  /** -Infinity until the partition delivers its first event. */
  maxEventTimeMs: number;
  /** Wall clock of the last event (or of assignment / restore). */
  lastActivityMs: number;
  caughtUp: boolean;
  paused: boolean;
}

/**
 * Per-partition and global event-time watermarks (architecture.md, "Event time"). Pure: the caller passes the wall
 * clock (`nowMs`) in; nothing here reads a clock.
 *
 * Contract:
 * - Watermark of a partition = max event time seen on it − `watermarkDelayMs`; -Infinity until its
 *   first event. A partition is known from {@link declarePartitions} or {@link assignPartition}
 *   on, so one that has not delivered anything yet holds the global watermark back (unless idle).
 * - A partition is idle iff ALL of: no event for `idleTimeoutMs` of wall clock
 *   (`nowMs − lastActivityMs >= idleTimeoutMs`), not paused by back-pressure (a paused partition
 *   has data waiting), and its last report said it is caught up (a partition that is behind has
 *   data waiting too).
 * - Every known partition counts: the ones assigned here, and the ones of the topic this process
 *   does not own right now ({@link declarePartitions}, revoked, or restored and not yet assigned
 *   again). An unowned partition holds the watermark back at its last watermark and is never
 *   idle: its events may still come, once a rebalance (a dead member holds one for a session
 *   timeout) gives it back, and they must not be late then.
 * - Global watermark = min of the watermarks of the non-idle partitions; if every partition is
 *   idle, the max of their watermarks (the stream is quiet: let the last windows complete). It
 *   never goes backwards: the tracker keeps the max ever reached. -Infinity before any partition
 *   has a watermark.
 *
 * Mutators only record facts; {@link advance} recomputes the global watermark, so the caller
 * decides when (per batch and on a timer, since idleness moves with the wall clock).
 */
export class WatermarkTracker {
  readonly watermarkDelayMs: number;
  readonly idleTimeoutMs: number;
  private readonly partitionStates = new Map<number, PartitionState>();
  private globalMs = -Infinity;

  constructor(options: WatermarkTrackerOptions) {
    if (!Number.isFinite(options.watermarkDelayMs) || options.watermarkDelayMs < 0) {
      throw new SdpError(
        ErrorCodes.WINDOW_INVALID_INPUT,
        `watermarkDelayMs must be a finite number >= 0, got ${String(options.watermarkDelayMs)}`,
      );
    }
    // Infinity is allowed: partitions never go idle.
    if (Number.isNaN(options.idleTimeoutMs) || options.idleTimeoutMs < 0) {
      throw new SdpError(
        ErrorCodes.WINDOW_INVALID_INPUT,
        `idleTimeoutMs must be >= 0, got ${String(options.idleTimeoutMs)}`,
      );
    }
    this.watermarkDelayMs = options.watermarkDelayMs;
    this.idleTimeoutMs = options.idleTimeoutMs;
  }

  /** The global watermark as of the last {@link advance}; -Infinity if none yet. */
  get globalWatermarkMs(): number {
    return this.globalMs;
  }

  /**
   * The partition is now consumed here. It starts not idle (its idle clock starts at `nowMs`) and
   * behind (not caught up) until a report says otherwise. A re-assigned partition keeps the max
   * event time it had and its paused flag (the caller reports resume). Idempotent for an already
   * assigned partition.
   */
  assignPartition(partition: number, nowMs: number): void {
    const state = this.partitionStates.get(checkPartition(partition));
    if (state === undefined) {
      this.partitionStates.set(partition, {
        assigned: true,
        maxEventTimeMs: -Infinity,
        lastActivityMs: nowMs,
        caughtUp: false,
        paused: false,
      });
    } else if (!state.assigned) {
      state.assigned = true;
      state.lastActivityMs = nowMs;
      state.caughtUp = false;
    }
  }

  /**
   * The topic's partitions, as far as this process knows them: each one counts from now on, owned
   * here or not, so that a partition assigned late (after a rebalance) finds the watermark still
   * below its events. Partitions already known are left as they are.
   */
  declarePartitions(partitions: readonly number[]): void {
    for (const partition of partitions) this.stateOf(partition);
  }

  /**
   * The partition is no longer consumed here: it keeps holding the global watermark back at its
   * last watermark (never idle) until it is assigned again.
   */
  revokePartition(partition: number): void {
    const state = this.partitionStates.get(partition);
    if (state !== undefined) state.assigned = false;
  }

  /** Back-pressure: a paused partition has data waiting, so it is never idle. */
  setPaused(partition: number, paused: boolean): void {
    this.stateOf(partition).paused = paused;
  }

  /**
   * Caught-up report without a batch (for example a fetch that found nothing past the high
   * watermark): the only way an empty partition can ever become idle.
   */
  setCaughtUp(partition: number, caughtUp: boolean): void {
    this.stateOf(partition).caughtUp = caughtUp;
  }

  /**
   * Records one batch of the partition. `maxEventTimeMs` is -Infinity when the batch held no valid
   * event: such a batch neither moves the watermark nor counts as activity.
   * A partition never heard of is assigned implicitly, so a batch that overtakes its assignment
   * message is not lost; a known, unassigned one stays unassigned (still holding the watermark back).
   */
  observeBatch(partition: number, maxEventTimeMs: number, caughtUp: boolean, nowMs: number): void {
    if (!this.partitionStates.has(partition)) this.assignPartition(partition, nowMs);
    const state = this.partitionStates.get(partition)!;
    if (maxEventTimeMs > state.maxEventTimeMs) state.maxEventTimeMs = maxEventTimeMs;
    if (maxEventTimeMs > -Infinity) state.lastActivityMs = nowMs;
    state.caughtUp = caughtUp;
  }

  /** Recomputes the global watermark at wall clock `nowMs` and returns it. */
  advance(nowMs: number): number {
    this.globalMs = combineWatermarks(this.votes(nowMs), this.globalMs);
    return this.globalMs;
  }

  /** Watermark of the partition; -Infinity if it is unknown or has delivered no event. */
  partitionWatermarkMs(partition: number): number {
    const state = this.partitionStates.get(partition);
    return state === undefined ? -Infinity : this.watermarkOf(state);
  }

  isIdle(partition: number, nowMs: number): boolean {
    const state = this.partitionStates.get(partition);
    return state !== undefined && this.isStateIdle(state, nowMs);
  }

  isAssigned(partition: number): boolean {
    return this.partitionStates.get(partition)?.assigned ?? false;
  }

  /** Known partitions (assigned, revoked or only declared), ascending. */
  partitions(): number[] {
    return [...this.partitionStates.keys()].sort((a, b) => a - b);
  }

  status(nowMs: number): PartitionWatermarkStatus[] {
    return this.partitions().map((partition) => {
      const state = this.partitionStates.get(partition)!;
      const watermarkMs = this.watermarkOf(state);
      return {
        partition,
        assigned: state.assigned,
        watermarkMs: watermarkMs === -Infinity ? null : watermarkMs,
        idle: this.isStateIdle(state, nowMs),
        paused: state.paused,
        caughtUp: state.caughtUp,
      };
    });
  }

  toJSON(): WatermarkTrackerSnapshot {
    return {
      globalWatermarkMs: finiteOrNull(this.globalMs),
      partitions: this.partitions().map((partition) => {
        const state = this.partitionStates.get(partition)!;
        return {
          partition,
          assigned: state.assigned,
          maxEventTimeMs: finiteOrNull(state.maxEventTimeMs),
          caughtUp: state.caughtUp,
        };
      }),
    };
  }

  /**
   * Rebuilds a tracker from {@link toJSON}'s output. Wall-clock fields restart at `nowMs` (a
   * restored partition is not idle right away) and nothing is paused (the consumer restarts
   * unpaused). The snapshot is assumed valid; `PageViewWindows.fromJSON` validates it.
   */
  static fromJSON(
    snapshot: WatermarkTrackerSnapshot,
    options: WatermarkTrackerOptions,
    nowMs: number,
  ): WatermarkTracker {
    const tracker = new WatermarkTracker(options);
    tracker.globalMs = snapshot.globalWatermarkMs ?? -Infinity;
    for (const p of snapshot.partitions) {
      tracker.partitionStates.set(checkPartition(p.partition), {
        assigned: p.assigned,
        maxEventTimeMs: p.maxEventTimeMs ?? -Infinity,
        lastActivityMs: nowMs,
        caughtUp: p.caughtUp,
        paused: false,
      });
    }
    return tracker;
  }

  private *votes(nowMs: number): Generator<WatermarkVote> {
    for (const state of this.partitionStates.values())
      yield { watermarkMs: this.watermarkOf(state), idle: this.isStateIdle(state, nowMs) };
  }

  private watermarkOf(state: PartitionState): number {
    return state.maxEventTimeMs - this.watermarkDelayMs;
  }

  private isStateIdle(state: PartitionState, nowMs: number): boolean {
    return state.assigned && state.caughtUp && !state.paused && nowMs - state.lastActivityMs >= this.idleTimeoutMs;
  }

  /**
   * Reports about a partition not assigned yet are kept (on a revoked-like entry), so a pause that
   * overtakes its assignment message is not forgotten.
   */
  private stateOf(partition: number): PartitionState {
    let state = this.partitionStates.get(checkPartition(partition));
    if (state === undefined) {
      state = { assigned: false, maxEventTimeMs: -Infinity, lastActivityMs: -Infinity, caughtUp: false, paused: false };
      this.partitionStates.set(partition, state);
    }
    return state;
  }
}

function checkPartition(partition: number): number {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new SdpError(ErrorCodes.WINDOW_INVALID_INPUT, `partition must be an integer >= 0, got ${String(partition)}`);
  }
  return partition;
}

function finiteOrNull(ms: number): number | null {
  return ms === -Infinity ? null : ms;
}
