import { z } from 'zod';
import { ErrorCodes, SdpError } from '../errors.js';
import type { PageViewBatch } from './pageViewBatch.js';
import { isWindowClosed } from './lateness.js';
import { TumblingWindows } from './tumblingWindows.js';
import {
  WatermarkTracker,
  type PartitionWatermarkStatus,
  type WatermarkTrackerOptions,
  type WatermarkTrackerSnapshot,
} from './watermarks.js';

export interface PageViewWindowsOptions extends WatermarkTrackerOptions {
  /** Tumbling window size (60_000 for the platform's one-minute windows). */
  readonly sizeMs: number;
}

/** One row of `clickstream_agg` (architecture.md, "Data contracts"). */
export interface PageViewRow {
  readonly minuteStartMs: number;
  readonly minuteEndMs: number;
  readonly url: string;
  readonly pv: number;
}

/** A window emitted by {@link PageViewWindows.emitReady}: its rows are sorted by url. */
export interface EmittedWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly rows: PageViewRow[];
}

export interface ApplyBatchResult {
  /** false: the batch was a replay (lastOffset <= the stored offset) and was ignored entirely. */
  readonly applied: boolean;
  /** Events of this batch counted as late (the partition's own plus counts for closed windows). */
  readonly lateEvents: number;
}

/** The checkpointed JSON form. -Infinity is written as null. Arrays are sorted: equal states serialize equally. */
export interface PageViewWindowsSnapshot {
  readonly version: 1;
  readonly sizeMs: number;
  readonly lateEventsTotal: number;
  readonly emittedFrontierMs: number | null;
  readonly watermarks: WatermarkTrackerSnapshot;
  readonly offsets: ReadonlyArray<{ readonly partition: number; readonly lastOffset: string }>;
  readonly openWindows: ReadonlyArray<{
    readonly startMs: number;
    readonly counts: ReadonlyArray<{ readonly url: string; readonly count: number }>;
  }>;
}

const offsetPattern = /^(0|[1-9]\d*)$/;
const partitionSchema = z.int().nonnegative();
const msOrNull = z.number().nullable();
const watermarksSchema = z.strictObject({
  globalWatermarkMs: msOrNull,
  partitions: z.array(
    z.strictObject({
      partition: partitionSchema,
      assigned: z.boolean(),
      maxEventTimeMs: msOrNull,
      caughtUp: z.boolean(),
    }),
  ),
});
const snapshotSchema = z.strictObject({
  version: z.literal(1),
  sizeMs: z.int().positive(),
  lateEventsTotal: z.int().nonnegative(),
  emittedFrontierMs: msOrNull,
  watermarks: watermarksSchema,
  offsets: z.array(z.strictObject({ partition: partitionSchema, lastOffset: z.string().regex(offsetPattern) })),
  openWindows: z.array(
    z.strictObject({
      startMs: z.number(),
      counts: z.array(z.strictObject({ url: z.string(), count: z.int().positive() })),
    }),
  ),
});

/**
 * The window aggregator's state: event-time tumbling windows of page views per URL
 * (architecture.md, "The checkpoint protocol" and "Event time"). Pure: no actors, no I/O, no clock — every call that
 * depends on the wall clock takes `nowMs`. The window-aggregator actor holds one instance, feeds it one message at a
 * time, and checkpoints {@link toJSON} with the rows it emitted.
 *
 * Contract:
 * - Windows are `[startMs, startMs + sizeMs)`, aligned to the epoch (see `TumblingWindows`).
 * - A window is closed once its end ≤ the global watermark (see `WatermarkTracker`). A closed
 *   window never changes: counts for it are late (added to {@link lateEventsTotal}, dropped).
 * - {@link emitReady} returns every closed window still open, oldest first, then forgets it and
 *   raises the emitted frontier; a window is emitted exactly once, across snapshot/restore too.
 * - Per partition the state keeps the last offset applied — the aggregator's sink offset of the
 *   checkpoint protocol. A batch at or below it is a replay and is ignored entirely.
 * - Determinism: the same sequence of calls (with the same `nowMs`) gives the same emissions,
 *   whether or not the state went through toJSON/fromJSON in between.
 */
export class PageViewWindows {
  readonly windows: TumblingWindows;
  private watermarks: WatermarkTracker;
  /** window start -> url -> page views; windows that have not been emitted. */
  private readonly open = new Map<number, Map<string, number>>();
  private readonly offsets = new Map<number, bigint>();
  /** Every window whose end ≤ this has been emitted (or never had a count). */
  private emittedFrontierMs = -Infinity;
  private lateTotal = 0;

  constructor(options: PageViewWindowsOptions) {
    this.windows = new TumblingWindows(options.sizeMs);
    this.watermarks = new WatermarkTracker(options);
  }

  /** Partition assigned to this process: it holds the watermark back until it delivers events or goes idle. */
  assignPartition(partition: number, nowMs: number): void {
    this.assignPartitions([partition], nowMs);
  }

  /** Assigns several partitions (a group generation's assignment), then recomputes the global watermark. */
  assignPartitions(partitions: readonly number[], nowMs: number): void {
    for (const partition of partitions) this.watermarks.assignPartition(partition, nowMs);
    this.watermarks.advance(nowMs);
  }

  /** The topic's partitions: each holds the watermark back from now on, owned here or not. */
  declarePartitions(partitions: readonly number[]): void {
    this.watermarks.declarePartitions(partitions);
  }

  /**
   * Partition revoked: it holds the watermark back at its last watermark until assigned again; its offset stays in the
   * state.
   */
  revokePartition(partition: number): void {
    this.watermarks.revokePartition(partition);
  }

  /** Back-pressure report from the partition actor; a paused partition is never idle. */
  setPaused(partition: number, paused: boolean): void {
    this.watermarks.setPaused(partition, paused);
  }

  /** Caught-up report without a batch (a fetch that found nothing to read). */
  setCaughtUp(partition: number, caughtUp: boolean): void {
    this.watermarks.setCaughtUp(partition, caughtUp);
  }

  /**
   * Applies one pre-aggregated batch (see `aggregateBatch`). Counts for windows already closed
   * against the global watermark as it stands before this batch are late. Then the partition's
   * max event time, idle clock and caught-up flag are updated and the global watermark is
   * recomputed. A batch of a partition never heard of assigns it implicitly.
   *
   * Atomic: the batch is validated first, so a throw leaves the state unchanged.
   * @returns `applied: false` for a replayed batch (lastOffset ≤ {@link offsetOf}).
   * @throws SdpError(WINDOW_INVALID_INPUT) on a malformed batch (a bug in the caller).
   */
  applyBatch(batch: PageViewBatch, nowMs: number): ApplyBatchResult {
    const lastOffset = this.validateBatch(batch);
    const storedOffset = this.offsets.get(batch.partition);
    if (storedOffset !== undefined && lastOffset <= storedOffset) return { applied: false, lateEvents: 0 };

    let lateEvents = batch.lateCount;
    for (const { windowStartMs, url, count } of batch.counts) {
      if (count === 0) continue;
      if (this.isClosed(windowStartMs)) {
        lateEvents += count;
        continue;
      }
      let byUrl = this.open.get(windowStartMs);
      if (byUrl === undefined) {
        byUrl = new Map();
        this.open.set(windowStartMs, byUrl);
      }
      byUrl.set(url, (byUrl.get(url) ?? 0) + count);
    }
    this.lateTotal += lateEvents;
    this.offsets.set(batch.partition, lastOffset);
    this.watermarks.observeBatch(batch.partition, batch.maxEventTimeMs, batch.caughtUp, nowMs);
    this.watermarks.advance(nowMs);
    return { applied: true, lateEvents };
  }

  /**
   * Recomputes the global watermark at `nowMs` (idleness moves with the wall clock, so the actor
   * also calls this on a timer) and returns the windows whose end ≤ it, oldest first, each with
   * one row per url (sorted by url). They leave the state and are never returned again.
   */
  emitReady(nowMs: number): EmittedWindow[] {
    const watermarkMs = this.watermarks.advance(nowMs);
    const ready = [...this.open.keys()]
      .filter((startMs) => this.windows.windowEndMs(startMs) <= watermarkMs)
      .sort((a, b) => a - b);
    const emitted: EmittedWindow[] = [];
    for (const startMs of ready) {
      const endMs = this.windows.windowEndMs(startMs);
      const byUrl = this.open.get(startMs)!;
      const rows = [...byUrl.keys()]
        .sort()
        .map((url) => ({ minuteStartMs: startMs, minuteEndMs: endMs, url, pv: byUrl.get(url)! }));
      this.open.delete(startMs);
      emitted.push({ startMs, endMs, rows });
    }
    if (watermarkMs > this.emittedFrontierMs) this.emittedFrontierMs = watermarkMs;
    return emitted;
  }

  /** Last offset applied for the partition (decimal string), or null if none. */
  offsetOf(partition: number): string | null {
    return this.offsets.get(partition)?.toString() ?? null;
  }

  /**
   * Global watermark as of the last batch or emitReady; -Infinity before any. Sent to partition actors for their late
   * check.
   */
  get globalWatermarkMs(): number {
    return this.watermarks.globalWatermarkMs;
  }

  /** Events counted late since the beginning of the stream (it is checkpointed, so replays do not double it). */
  get lateEventsTotal(): number {
    return this.lateTotal;
  }

  /** Windows holding counts that have not been emitted yet. */
  get windowsOpen(): number {
    return this.open.size;
  }

  /** (nowMs − global watermark) / 1000; null while the watermark is -Infinity. */
  watermarkLagSeconds(nowMs: number): number | null {
    const watermarkMs = this.watermarks.globalWatermarkMs;
    return watermarkMs === -Infinity ? null : (nowMs - watermarkMs) / 1000;
  }

  /** -Infinity if the partition is unknown or has delivered no event. */
  partitionWatermarkMs(partition: number): number {
    return this.watermarks.partitionWatermarkMs(partition);
  }

  isPartitionIdle(partition: number, nowMs: number): boolean {
    return this.watermarks.isIdle(partition, nowMs);
  }

  partitionStatus(nowMs: number): PartitionWatermarkStatus[] {
    return this.watermarks.status(nowMs);
  }

  toJSON(): PageViewWindowsSnapshot {
    return {
      version: 1,
      sizeMs: this.windows.sizeMs,
      lateEventsTotal: this.lateTotal,
      emittedFrontierMs: this.emittedFrontierMs === -Infinity ? null : this.emittedFrontierMs,
      watermarks: this.watermarks.toJSON(),
      offsets: [...this.offsets.keys()]
        .sort((a, b) => a - b)
        .map((partition) => ({ partition, lastOffset: this.offsets.get(partition)!.toString() })),
      openWindows: [...this.open.keys()]
        .sort((a, b) => a - b)
        .map((startMs) => {
          const byUrl = this.open.get(startMs)!;
          return { startMs, counts: [...byUrl.keys()].sort().map((url) => ({ url, count: byUrl.get(url)! })) };
        }),
    };
  }

  /**
   * Restores a state from {@link toJSON}'s output (an object, or its JSON text). Wall-clock fields
   * restart at `nowMs`, so no restored partition is idle right away; nothing is paused. Options
   * may differ from the run that wrote the snapshot except `sizeMs`.
   *
   * @throws SdpError(WINDOW_SNAPSHOT_INVALID) if the snapshot is malformed, was written with another
   *   window size, or is inconsistent (an open window at or below the emitted frontier would be
   *   emitted twice).
   */
  static fromJSON(json: unknown, options: PageViewWindowsOptions, nowMs: number): PageViewWindows {
    let input = json;
    if (typeof json === 'string') {
      try {
        input = JSON.parse(json) as unknown;
      } catch (err) {
        throw new SdpError(ErrorCodes.WINDOW_SNAPSHOT_INVALID, 'window state snapshot is not valid JSON', [], {
          cause: err,
        });
      }
    }
    const parsed = snapshotSchema.safeParse(input);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw new SdpError(ErrorCodes.WINDOW_SNAPSHOT_INVALID, 'window state snapshot is malformed', lines);
    }
    const snapshot = parsed.data;
    const state = new PageViewWindows(options);
    const problems: string[] = [];
    if (snapshot.sizeMs !== state.windows.sizeMs)
      problems.push(`sizeMs: snapshot has ${snapshot.sizeMs}, options have ${state.windows.sizeMs}`);
    const frontierMs = snapshot.emittedFrontierMs ?? -Infinity;
    const globalMs = snapshot.watermarks.globalWatermarkMs ?? -Infinity;
    if (frontierMs > globalMs) problems.push('emittedFrontierMs is ahead of the global watermark');
    for (const w of snapshot.openWindows) {
      if (!state.windows.isWindowStart(w.startMs)) problems.push(`openWindows: ${w.startMs} is not a window start`);
      if (state.windows.windowEndMs(w.startMs) <= frontierMs)
        problems.push(`openWindows: ${w.startMs} was already emitted`);
      if (state.open.has(w.startMs)) problems.push(`openWindows: ${w.startMs} appears twice`);
      state.open.set(w.startMs, new Map(w.counts.map(({ url, count }) => [url, count])));
    }
    if (problems.length > 0)
      throw new SdpError(ErrorCodes.WINDOW_SNAPSHOT_INVALID, 'window state snapshot is inconsistent', problems);

    state.lateTotal = snapshot.lateEventsTotal;
    state.emittedFrontierMs = frontierMs;
    for (const { partition, lastOffset } of snapshot.offsets) state.offsets.set(partition, BigInt(lastOffset));
    state.watermarks = WatermarkTracker.fromJSON(snapshot.watermarks, options, nowMs);
    return state;
  }

  /**
   * Closed (`isWindowClosed`) at the global watermark or at the emitted frontier: after a restart
   * or a revoke the global watermark can sit below windows already emitted; the frontier cannot.
   */
  private isClosed(windowStartMs: number): boolean {
    return isWindowClosed(
      this.windows.windowEndMs(windowStartMs),
      Math.max(this.watermarks.globalWatermarkMs, this.emittedFrontierMs),
    );
  }

  private validateBatch(batch: PageViewBatch): bigint {
    const problems: string[] = [];
    if (!Number.isSafeInteger(batch.partition) || batch.partition < 0)
      problems.push(`partition ${String(batch.partition)}`);
    if (typeof batch.lastOffset !== 'string' || !offsetPattern.test(batch.lastOffset))
      problems.push(`lastOffset ${String(batch.lastOffset)}`);
    if (
      typeof batch.maxEventTimeMs !== 'number' ||
      Number.isNaN(batch.maxEventTimeMs) ||
      batch.maxEventTimeMs === Infinity
    )
      problems.push(`maxEventTimeMs ${String(batch.maxEventTimeMs)}`);
    if (!Number.isSafeInteger(batch.lateCount) || batch.lateCount < 0)
      problems.push(`lateCount ${String(batch.lateCount)}`);
    for (const c of batch.counts) {
      if (!this.windows.isWindowStart(c.windowStartMs))
        problems.push(`windowStartMs ${String(c.windowStartMs)} is not a window start`);
      if (!Number.isSafeInteger(c.count) || c.count < 0) problems.push(`count ${String(c.count)} for ${c.url}`);
      if (typeof c.url !== 'string') problems.push(`url ${String(c.url)}`);
    }
    if (problems.length > 0) {
      throw new SdpError(
        ErrorCodes.WINDOW_INVALID_INPUT,
        `invalid page-view batch for partition ${String(batch.partition)}`,
        problems,
      );
    }
    return BigInt(batch.lastOffset);
  }
}
