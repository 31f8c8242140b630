/**
 * Stage 2 of the page-view windows, one task per partition r of `<group>-pv-repartition` (architecture.md, "Event
 * time"): it applies the records of its partition in offset order (counts of the urls routed to r, and every
 * clickstream partition's mark), keeps the global watermark and emits each (minute, url) once. Pure functions over
 * an immutable state: `apply` and `closeWindows` return a new state and leave the one given untouched (they share
 * what did not change), so a task whose commit aborted simply goes on from the state of its last commit.
 *
 * - Global watermark: `combineWatermarks` over clickstream partitions 0..N−1, N the largest partition count any mark
 *   carried. A partition never heard from counts as -Infinity and not idle: partitions added while running hold the
 *   watermark back until their first mark, so none of their windows closes before they report. It never goes
 *   backwards (a new owner's first marks may be lower than its predecessor's).
 * - Lateness (`isWindowClosed`): counts for a window whose end ≤ max(global watermark, emitted frontier) as it stands
 *   before the record are late: counted per window and reported by the next `closeWindows`, never emitted.
 * - Idleness after a takeover: a source's record marked `takeover` (the first commit of a new owner: a start, a
 *   restart, a rebalance) makes every source not idle, at its last watermark, until it says again. An idle flag is
 *   what its source said before; its owner may be starting too, with events waiting, and the new owner's first marks
 *   would otherwise close their windows under it (counted late, which the one-process tracker never does after a
 *   restart: windows/watermarks.ts). Decided by records alone, so a replay gives the same rows; a source that stays
 *   idle says so again within `etl.idle_timeout` (windows/stage1Source.ts), so it holds the windows back no longer.
 * - A record at or below the last repartition offset applied is a replay (after a restore) and changes nothing; a
 *   record of a source not past its last through offset (same offset with counts, or lower) is a duplicate or stale
 *   and is ignored (EOS makes it impossible; counted in `duplicateRecords` should it ever happen).
 * - Size: the snapshot holds N sources, the open windows (from the slowest non-idle partition's watermark to the
 *   newest event time seen, times the urls routed here: a partition that stops without going idle keeps windows
 *   open, as it must) and the late counts of windows since the last close (each close empties them). It is one
 *   message of the state topic: ~25 bytes per open (minute, url), so past ~40,000 of them per task the topic needs
 *   `max.message.bytes` above Kafka's 1 MB default.
 */
import { z } from 'zod';
import { ErrorCodes, SdpError } from '../errors.js';
import { combineWatermarks, type WatermarkVote } from './globalWatermark.js';
import { isWindowClosed } from './lateness.js';
import type { PageViewRow } from './pageViewWindows.js';
import { repartitionOfUrl, type PageViewRepartitionRecord } from './repartitionRecords.js';
import { windowStartMs } from './tumblingWindows.js';

export const STAGE2_SNAPSHOT_VERSION = 1;

/** The compacted topic of the stage 2 states of a consumer group; the key of r's state is {@link stateKey}. */
export function stateTopicName(group: string): string {
  return `${group}-pv-state`;
}

export function stateKey(partition: number): string {
  return String(partition);
}

export interface Stage2Options {
  /** The repartition partition r this task applies, and the repartition topic's partition count R. */
  readonly partition: number;
  readonly partitions: number;
  readonly sizeMs: number;
}

/** A clickstream partition's latest mark. */
export interface SourceMark {
  readonly watermarkMs: number;
  readonly idle: boolean;
  /** Through offset of its last record applied; null if it has read nothing yet. */
  readonly throughOffset: bigint | null;
}

export interface Stage2State extends Stage2Options {
  /** Last repartition offset applied; null before the first record. */
  readonly offset: bigint | null;
  readonly sources: ReadonlyMap<number, SourceMark>;
  /** The largest clickstream partition count a mark carried (0 before any). */
  readonly sourcePartitions: number;
  /** The global watermark (never goes backwards); -Infinity before it is known. */
  readonly watermarkMs: number;
  /** Every window whose end ≤ this was emitted (or never had a count). */
  readonly emittedFrontierMs: number;
  /** window start -> url -> page views, windows not emitted yet. */
  readonly open: ReadonlyMap<number, ReadonlyMap<string, number>>;
  /** window start -> late page views since the last close. */
  readonly late: ReadonlyMap<number, number>;
  readonly lateEventsTotal: number;
  readonly duplicateRecords: number;
}

/** Late page views of one window, reported once by the close that follows them. */
export interface LateWindowCount {
  readonly minuteStartMs: number;
  readonly minuteEndMs: number;
  readonly count: number;
}

export interface CloseResult {
  readonly state: Stage2State;
  /** Windows oldest first, urls ascending inside each: the `clickstream_agg` rows to write with this commit. */
  readonly rows: PageViewRow[];
  /** Windows ascending. */
  readonly lateCounts: LateWindowCount[];
}

/** The JSON form for `<group>-pv-state`. -Infinity is written as null; arrays are sorted, so equal states are equal. */
export interface Stage2Snapshot {
  readonly version: typeof STAGE2_SNAPSHOT_VERSION;
  readonly partition: number;
  readonly partitions: number;
  readonly sizeMs: number;
  readonly offset: string | null;
  readonly sourcePartitions: number;
  readonly watermarkMs: number | null;
  readonly emittedFrontierMs: number | null;
  readonly lateEventsTotal: number;
  readonly duplicateRecords: number;
  readonly sources: ReadonlyArray<{
    readonly partition: number;
    readonly watermarkMs: number | null;
    readonly idle: boolean;
    readonly throughOffset: string | null;
  }>;
  /** [window start, [[url, count]…]]… */
  readonly openWindows: ReadonlyArray<readonly [number, ReadonlyArray<readonly [string, number]>]>;
  /** [window start, late count]… */
  readonly lateWindows: ReadonlyArray<readonly [number, number]>;
}

const offsetPattern = /^(0|[1-9]\d*)$/;
const offsetSchema = z.string().regex(offsetPattern);
const msOrNull = z.number().nullable();
const snapshotSchema = z.strictObject({
  version: z.literal(STAGE2_SNAPSHOT_VERSION),
  partition: z.int().nonnegative(),
  partitions: z.int().positive(),
  sizeMs: z.int().positive(),
  offset: offsetSchema.nullable(),
  sourcePartitions: z.int().nonnegative(),
  watermarkMs: msOrNull,
  emittedFrontierMs: msOrNull,
  lateEventsTotal: z.int().nonnegative(),
  duplicateRecords: z.int().nonnegative(),
  sources: z.array(
    z.strictObject({
      partition: z.int().nonnegative(),
      watermarkMs: msOrNull,
      idle: z.boolean(),
      throughOffset: offsetSchema.nullable(),
    }),
  ),
  openWindows: z.array(z.tuple([z.number(), z.array(z.tuple([z.string(), z.int().positive()]))])),
  lateWindows: z.array(z.tuple([z.number(), z.int().positive()])),
});

/** The state of a task that has applied nothing. @throws SdpError(WINDOW_INVALID_INPUT) on options out of range. */
export function createStage2State(options: Stage2Options): Stage2State {
  const { partition, partitions, sizeMs } = options;
  if (!Number.isSafeInteger(partitions) || partitions <= 0 || !Number.isSafeInteger(partition) || partition < 0)
    throw invalidInput(`repartition partition ${String(partition)} of ${String(partitions)}`);
  if (partition >= partitions) throw invalidInput(`repartition partition ${partition} of ${partitions}`);
  if (!Number.isSafeInteger(sizeMs) || sizeMs <= 0) throw invalidInput(`window sizeMs ${String(sizeMs)}`);
  return {
    partition,
    partitions,
    sizeMs,
    offset: null,
    sources: new Map(),
    sourcePartitions: 0,
    watermarkMs: -Infinity,
    emittedFrontierMs: -Infinity,
    open: new Map(),
    late: new Map(),
    lateEventsTotal: 0,
    duplicateRecords: 0,
  };
}

/**
 * Applies the record read at repartition offset `offset` (decimal): its counts are judged against the state before it,
 * then its mark updates its source and the global watermark. A replay returns `state` itself.
 * @throws SdpError(WINDOW_RECORD_INVALID) for a record meant for another partition, partition count or window size:
 *   applying it could count a url in two tasks. SdpError(WINDOW_INVALID_INPUT) for an offset that is not one.
 */
export function apply(state: Stage2State, record: PageViewRepartitionRecord, offset: string): Stage2State {
  if (typeof offset !== 'string' || !offsetPattern.test(offset)) throw invalidInput(`offset ${String(offset)}`);
  const at = BigInt(offset);
  if (state.offset !== null && at <= state.offset) return state;
  const mismatch: string[] = [];
  if (record.partition !== state.partition || record.partitions !== state.partitions)
    mismatch.push(
      `for partition ${record.partition} of ${record.partitions}, read by ${state.partition} of ${state.partitions}`,
    );
  if (record.windowSizeMs !== state.sizeMs)
    mismatch.push(`window size ${record.windowSizeMs} ms, read with ${state.sizeMs} ms`);
  if (mismatch.length > 0)
    throw new SdpError(
      ErrorCodes.WINDOW_RECORD_INVALID,
      `page-view record at offset ${offset} of repartition partition ${state.partition} is not for this task`,
      mismatch,
      { retriable: false },
    );

  const through = record.throughOffset === null ? null : BigInt(record.throughOffset);
  const known = state.sources.get(record.sourcePartition);
  if (known !== undefined && isStale(known.throughOffset, through, record.windows.length > 0))
    return { ...state, offset: at, duplicateRecords: state.duplicateRecords + 1 };

  let open = state.open;
  let late = state.late;
  let lateEventsTotal = state.lateEventsTotal;
  if (record.windows.length > 0) {
    const closedAtMs = Math.max(state.watermarkMs, state.emittedFrontierMs);
    const nextOpen = new Map(open);
    const nextLate = new Map(late);
    for (const { startMs, counts } of record.windows) {
      if (isWindowClosed(startMs + state.sizeMs, closedAtMs)) {
        let sum = 0;
        for (const { count } of counts) sum += count;
        nextLate.set(startMs, (nextLate.get(startMs) ?? 0) + sum);
        lateEventsTotal += sum;
        continue;
      }
      const byUrl = new Map(nextOpen.get(startMs));
      for (const { url, count } of counts) byUrl.set(url, (byUrl.get(url) ?? 0) + count);
      nextOpen.set(startMs, byUrl);
    }
    open = nextOpen;
    late = nextLate;
  }
  const sources = new Map(state.sources);
  if (record.takeover === true)
    for (const [partition, mark] of sources) if (mark.idle) sources.set(partition, { ...mark, idle: false });
  sources.set(record.sourcePartition, {
    // Never backwards per source either: a new owner's first marks say -Infinity (it has read nothing new yet) or
    // less (events its predecessor's marks had passed are not read again); the source stands where it stood.
    watermarkMs: Math.max(known?.watermarkMs ?? -Infinity, record.watermarkMs),
    idle: record.idle,
    throughOffset: through,
  });
  const sourcePartitions = Math.max(state.sourcePartitions, record.sourcePartitions);
  return {
    ...state,
    offset: at,
    sources,
    sourcePartitions,
    watermarkMs: combineWatermarks(votes(sources, sourcePartitions), state.watermarkMs),
    open,
    late,
    lateEventsTotal,
  };
}

/**
 * Emits every open window whose end ≤ the global watermark (once: they leave the state and the emitted frontier
 * rises to the watermark), and reports the late counts since the last close.
 */
export function closeWindows(state: Stage2State): CloseResult {
  const watermarkMs = state.watermarkMs;
  const ready = [...state.open.keys()].filter((startMs) => isWindowClosed(startMs + state.sizeMs, watermarkMs));
  ready.sort((a, b) => a - b);
  const rows: PageViewRow[] = [];
  let open = state.open;
  if (ready.length > 0) {
    const nextOpen = new Map(open);
    for (const startMs of ready) {
      const byUrl = nextOpen.get(startMs)!;
      const minuteEndMs = startMs + state.sizeMs;
      for (const url of [...byUrl.keys()].sort())
        rows.push({ minuteStartMs: startMs, minuteEndMs, url, pv: byUrl.get(url)! });
      nextOpen.delete(startMs);
    }
    open = nextOpen;
  }
  const lateCounts = [...state.late.keys()]
    .sort((a, b) => a - b)
    .map((startMs) => ({
      minuteStartMs: startMs,
      minuteEndMs: startMs + state.sizeMs,
      count: state.late.get(startMs)!,
    }));
  const emittedFrontierMs = Math.max(state.emittedFrontierMs, watermarkMs);
  return {
    state: { ...state, open, late: lateCounts.length > 0 ? new Map() : state.late, emittedFrontierMs },
    rows,
    lateCounts,
  };
}

/** The global watermark: min over the non-idle clickstream partitions (see the module's comment). */
export function globalWatermark(state: Stage2State): number {
  return state.watermarkMs;
}

export function snapshot(state: Stage2State): Stage2Snapshot {
  return {
    version: STAGE2_SNAPSHOT_VERSION,
    partition: state.partition,
    partitions: state.partitions,
    sizeMs: state.sizeMs,
    offset: state.offset?.toString() ?? null,
    sourcePartitions: state.sourcePartitions,
    watermarkMs: finiteOrNull(state.watermarkMs),
    emittedFrontierMs: finiteOrNull(state.emittedFrontierMs),
    lateEventsTotal: state.lateEventsTotal,
    duplicateRecords: state.duplicateRecords,
    sources: [...state.sources.keys()]
      .sort((a, b) => a - b)
      .map((partition) => {
        const mark = state.sources.get(partition)!;
        return {
          partition,
          watermarkMs: finiteOrNull(mark.watermarkMs),
          idle: mark.idle,
          throughOffset: mark.throughOffset?.toString() ?? null,
        };
      }),
    openWindows: [...state.open.keys()]
      .sort((a, b) => a - b)
      .map((startMs) => {
        const byUrl = state.open.get(startMs)!;
        return [startMs, [...byUrl.keys()].sort().map((url) => [url, byUrl.get(url)!] as const)] as const;
      }),
    lateWindows: [...state.late.keys()].sort((a, b) => a - b).map((startMs) => [startMs, state.late.get(startMs)!]),
  };
}

/**
 * The state of a {@link snapshot} (the object, or its JSON text or bytes as read from the state topic).
 * @throws SdpError(WINDOW_SNAPSHOT_INVALID) if it is not JSON, malformed, of another version, inconsistent (an open
 *   window already emitted, a url of another partition), or written for other options than `expected`.
 */
export function restore(value: unknown, expected?: Stage2Options): Stage2State {
  let input = value;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    try {
      input = JSON.parse(value.toString()) as unknown;
    } catch (err) {
      throw new SdpError(ErrorCodes.WINDOW_SNAPSHOT_INVALID, 'stage 2 window state is not valid JSON', [], {
        cause: err,
      });
    }
  }
  const parsed = snapshotSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new SdpError(ErrorCodes.WINDOW_SNAPSHOT_INVALID, 'stage 2 window state is malformed', lines);
  }
  const s = parsed.data;
  const problems: string[] = [];
  if (expected !== undefined) {
    for (const field of ['partition', 'partitions', 'sizeMs'] as const)
      if (s[field] !== expected[field]) problems.push(`${field}: state has ${s[field]}, expected ${expected[field]}`);
  }
  if (s.partition >= s.partitions) problems.push(`partition ${s.partition} of ${s.partitions}`);
  const watermarkMs = s.watermarkMs ?? -Infinity;
  const frontierMs = s.emittedFrontierMs ?? -Infinity;
  if (frontierMs > watermarkMs) problems.push('emittedFrontierMs is ahead of the watermark');
  const sources = new Map<number, SourceMark>();
  for (const src of s.sources) {
    if (src.partition >= s.sourcePartitions)
      problems.push(`sources: ${src.partition} is not below sourcePartitions ${s.sourcePartitions}`);
    if (sources.has(src.partition)) problems.push(`sources: ${src.partition} appears twice`);
    sources.set(src.partition, {
      watermarkMs: src.watermarkMs ?? -Infinity,
      idle: src.idle,
      throughOffset: src.throughOffset === null ? null : BigInt(src.throughOffset),
    });
  }
  const open = new Map<number, ReadonlyMap<string, number>>();
  for (const [startMs, counts] of s.openWindows) {
    if (!isWindowStart(startMs, s.sizeMs)) problems.push(`openWindows: ${startMs} is not a window start`);
    if (startMs + s.sizeMs <= frontierMs) problems.push(`openWindows: ${startMs} was already emitted`);
    if (open.has(startMs)) problems.push(`openWindows: ${startMs} appears twice`);
    const byUrl = new Map<string, number>();
    for (const [url, count] of counts) {
      if (byUrl.has(url)) problems.push(`openWindows: ${startMs}: ${JSON.stringify(url)} appears twice`);
      if (s.partition < s.partitions && repartitionOfUrl(url, s.partitions) !== s.partition)
        problems.push(`openWindows: ${startMs}: ${JSON.stringify(url)} belongs to another partition`);
      byUrl.set(url, count);
    }
    open.set(startMs, byUrl);
  }
  const late = new Map<number, number>();
  for (const [startMs, count] of s.lateWindows) {
    if (!isWindowStart(startMs, s.sizeMs)) problems.push(`lateWindows: ${startMs} is not a window start`);
    if (late.has(startMs)) problems.push(`lateWindows: ${startMs} appears twice`);
    late.set(startMs, count);
  }
  if (problems.length > 0)
    throw new SdpError(ErrorCodes.WINDOW_SNAPSHOT_INVALID, 'stage 2 window state is inconsistent', problems);
  return {
    partition: s.partition,
    partitions: s.partitions,
    sizeMs: s.sizeMs,
    offset: s.offset === null ? null : BigInt(s.offset),
    sources,
    sourcePartitions: s.sourcePartitions,
    watermarkMs,
    emittedFrontierMs: frontierMs,
    open,
    late,
    lateEventsTotal: s.lateEventsTotal,
    duplicateRecords: s.duplicateRecords,
  };
}

/** Partitions 0..count−1; one never heard from holds the watermark at -Infinity and is not idle. */
function* votes(sources: ReadonlyMap<number, SourceMark>, count: number): Generator<WatermarkVote> {
  for (let p = 0; p < count; p++) yield sources.get(p) ?? { watermarkMs: -Infinity, idle: false };
}

/** Not past what the source already sent: a lower through offset, or the same one again with counts. */
function isStale(knownThrough: bigint | null, through: bigint | null, hasCounts: boolean): boolean {
  if (knownThrough === null) return false;
  if (through === null || through < knownThrough) return true;
  return through === knownThrough && hasCounts;
}

function isWindowStart(startMs: number, sizeMs: number): boolean {
  return Number.isFinite(startMs) && windowStartMs(startMs, sizeMs) === startMs;
}

function finiteOrNull(ms: number): number | null {
  return ms === -Infinity ? null : ms;
}

function invalidInput(message: string): SdpError {
  return new SdpError(ErrorCodes.WINDOW_INVALID_INPUT, message);
}
