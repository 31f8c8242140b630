/**
 * Stage 1 of the page-view windows for one clickstream partition, as its owner runs it (architecture.md, "Windows
 * across members"): the counts since the last commit (windows/stage1Counts.ts) plus the facts its mark carries:
 * the partition's watermark, whether it is idle, and how many clickstream partitions the owner sees. Pure: the caller
 * passes the wall clock in.
 *
 * - Idle, as the one-process tracker has it (windows/watermarks.ts): caught up, not paused by back-pressure, and no
 *   batch for `idleTimeoutMs`. Decided here and carried in the record, so stage 2 replays it as it was.
 * - A mark is due every `intervalMs` when something it would say changed: counts, the floor, the watermark, the idle
 *   flag or the partition count; and, unchanged, once `idleTimeoutMs` passed since the last one: a source taken as
 *   not idle after another's takeover (below) that stays idle says so again within that time, so it holds the
 *   windows back no longer.
 * - The first commit of this owner says it took the partition over (`takeover`): stage 2 then takes every other
 *   source as not idle too, until each says again (windows/stage2Windows.ts). A mark is due at the first interval
 *   whatever it says, so every new owner announces itself within `intervalMs`.
 */
import type { Stage1Batch, Stage1Drain } from './stage1Counts.js';
import { Stage1Counts } from './stage1Counts.js';
import type { PartitionWatermarkStatus } from './watermarks.js';

export interface Stage1SourceOptions {
  readonly partition: number;
  readonly sizeMs: number;
  /** The `win` floor of the partition's last commit; null (or '-1'): stage 2 has nothing of it. */
  readonly winFloor: string | null;
  readonly watermarkDelayMs: number;
  readonly idleTimeoutMs: number;
  /** Wall clock at the takeover: the idle clock starts here. */
  readonly nowMs: number;
}

interface Mark {
  readonly watermarkMs: number;
  readonly idle: boolean;
  readonly partitionCount: number;
  readonly win: string | null;
}

export class Stage1Source {
  readonly partition: number;
  private readonly counts: Stage1Counts;
  private readonly watermarkDelayMs: number;
  private readonly idleTimeoutMs: number;
  /** Offset of the last batch added (records without page views included); null: none since the takeover. */
  private lastRead: string | null = null;
  private caughtUp = false;
  private paused = false;
  private lastActivityMs: number;
  private lastDrainMs: number;
  private lastMark: Mark | null = null;

  constructor(options: Stage1SourceOptions) {
    this.partition = options.partition;
    const floor = options.winFloor === '-1' ? null : options.winFloor;
    this.counts = new Stage1Counts({ sizeMs: options.sizeMs, winFloor: floor });
    this.watermarkDelayMs = options.watermarkDelayMs;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.lastActivityMs = options.nowMs;
    this.lastDrainMs = options.nowMs;
  }

  /** The last clickstream offset whose page views stage 2 holds or this commit carries; null: none. */
  get winFloor(): string | null {
    return this.counts.winFloor;
  }

  /** Adds one batch read above the floor; a batch at or below it (already counted) changes nothing but the clock. */
  add(batch: Stage1Batch, caughtUp: boolean, nowMs: number): void {
    this.lastActivityMs = nowMs;
    this.caughtUp = caughtUp;
    if (this.counts.add(batch)) this.lastRead = batch.lastOffset;
  }

  /** A fetch with nothing for the windows (markers only, or the log end reached). */
  progress(caughtUp: boolean): void {
    this.caughtUp = caughtUp;
  }

  setPaused(paused: boolean, nowMs: number): void {
    // Resumed: the data that waited comes now, so the idle clock starts again.
    if (this.paused && !paused) this.lastActivityMs = nowMs;
    this.paused = paused;
  }

  watermarkMs(): number {
    const max = this.counts.maxEventTimeMs;
    return max === -Infinity ? -Infinity : max - this.watermarkDelayMs;
  }

  idle(nowMs: number): boolean {
    return this.caughtUp && !this.paused && nowMs - this.lastActivityMs >= this.idleTimeoutMs;
  }

  /** What `/metrics` and the dashboard show of this partition (windows/watermarks.ts's form). */
  status(nowMs: number): PartitionWatermarkStatus {
    const watermarkMs = this.watermarkMs();
    return {
      partition: this.partition,
      assigned: true,
      watermarkMs: watermarkMs === -Infinity ? null : watermarkMs,
      idle: this.idle(nowMs),
      paused: this.paused,
      caughtUp: this.caughtUp,
    };
  }

  /**
   * Whether a mark is due (alone, or riding a roll's commit): the interval passed and the mark would say something
   * new, or `idleTimeoutMs` passed since the last one (see the module's comment).
   */
  markDue(nowMs: number, intervalMs: number, partitionCount: number): boolean {
    const sinceMs = nowMs - this.lastDrainMs;
    if (sinceMs < intervalMs) return false;
    const last = this.lastMark;
    return (
      last === null ||
      sinceMs >= this.idleTimeoutMs ||
      this.counts.pendingEntries > 0 ||
      (this.lastRead !== null && this.lastRead !== last.win) ||
      this.watermarkMs() !== last.watermarkMs ||
      this.idle(nowMs) !== last.idle ||
      partitionCount !== last.partitionCount
    );
  }

  /**
   * The records of a commit (one per repartition partition) and the floor it commits. Taken whether or not the commit
   * then succeeds: a refused commit drops the partition, and its next owner starts from what Kafka holds.
   */
  drain(nowMs: number, partitionCount: number, repartitions: number): Stage1Drain {
    const watermarkMs = this.watermarkMs();
    const idle = this.idle(nowMs);
    const drained = this.counts.drain({
      watermarkMs,
      idle,
      partitionCount: Math.max(partitionCount, this.partition + 1),
      repartitions,
      sourcePartition: this.partition,
      takeover: this.lastMark === null,
      lastOffset: this.lastRead ?? this.counts.winFloor,
    });
    this.lastDrainMs = nowMs;
    this.lastMark = { watermarkMs, idle, partitionCount, win: drained.win };
    return drained;
  }
}
