/**
 * The checkpoint store's state and how one committed checkpoint changes it (architecture.md, "The checkpoint
 * protocol"), as a pure reducer: the checkpointer actor persists a CheckpointEvent (one SQLite transaction, the commit
 * point), then applies it with `applyCheckpoint`; recovery replays the same events.
 *
 * Every piece of state is keyed by sink and (topic, partition), never by "this process", so that
 * state can one day move with a partition (architecture.md, "Growing past one machine").
 */
import { ErrorCodes, SdpError } from '../errors.js';

/** `raw:<topic>:<partition>` for a lake writer, `agg:<topic>` for the window aggregator. */
export type SinkId = string;

export function rawSinkId(topic: string, partition: number): SinkId {
  return `raw:${topic}:${partition}`;
}

export function aggSinkId(topic: string): SinkId {
  return `agg:${topic}`;
}

/** A tmp → final rename, both relative to the lake root so the lake can move. */
export interface Rename {
  from: string;
  to: string;
}

/** A lake writer rolled: files for offsets up to `offset` of one partition are durable as tmp files. */
export interface RawCheckpoint {
  type: 'raw';
  sink: SinkId;
  topic: string;
  partition: number;
  /** Last offset whose effects the roll covers (decimal int64). */
  offset: string;
  renames: Rename[];
  rows: number;
  rejected: number;
}

/** The window aggregator checkpointed: its state, its offset per partition, the windows it emitted. */
export interface AggCheckpoint {
  type: 'agg';
  sink: SinkId;
  topic: string;
  /** Its own sequence number: names the emitted files (`part-<seq>.parquet`). */
  seq: number;
  /** partition → last offset applied to `state`. */
  offsets: Record<string, string>;
  /** The aggregator's serialized state (open windows, watermarks). */
  state: unknown;
  renames: Rename[];
  rows: number;
}

export type CheckpointEvent = RawCheckpoint | AggCheckpoint;

/**
 * The process aggregator compacted files of one of its `agg` units (architecture.md, "Compaction"): journaled before
 * the exchange, the commit point of the merge; the next start completes the exchange while its tmp file is there.
 */
export interface AggMerge {
  type: 'aggMerge';
  /** Lake-relative unit directory, `tables/clickstream_agg/dt=D/agg`. */
  unitDir: string;
  /** The names in the unit the merged file replaces. */
  inputs: string[];
  merged: string;
  /** Lake-relative merged tmp file. */
  tmp: string;
}

/** What the checkpointer journals: checkpoints, and the aggregator's merges. */
export type JournalEvent = CheckpointEvent | AggMerge;

export interface CheckpointState {
  /** Committed checkpoints so far. */
  checkpoints: number;
  /** sink → partition → last durable offset. */
  offsets: Record<SinkId, Record<string, string>>;
  /** sink → renames of its latest checkpoint (re-applied at start: they may not have happened). */
  lastRenames: Record<SinkId, Rename[]>;
  /** aggregator sink → its latest state and sequence number. */
  aggregators: Record<SinkId, { seq: number; state: unknown }>;
  /** The process aggregator's latest journaled merge (its exchange may not have happened); absent before any. */
  aggMerge?: AggMerge;
}

export function emptyCheckpointState(): CheckpointState {
  return { checkpoints: 0, offsets: {}, lastRenames: {}, aggregators: {} };
}

/** No offset: nothing of the partition is durable in that sink yet. */
export const NO_OFFSET = '-1';

export function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function assertAdvances(previous: string | undefined, next: string, what: string): void {
  if (previous !== undefined && compareOffsets(next, previous) < 0) {
    throw new SdpError(
      ErrorCodes.CHECKPOINT_BACKWARDS,
      `${what}: offset ${next} is behind the committed ${previous}; a checkpoint never moves a sink backwards`,
    );
  }
}

export function applyCheckpoint(state: CheckpointState, event: JournalEvent): CheckpointState {
  // A merge moves no offset and is no checkpoint.
  if (event.type === 'aggMerge') return { ...state, aggMerge: event };
  const offsets = { ...state.offsets };
  if (event.type === 'raw') {
    const current = offsets[event.sink] ?? {};
    assertAdvances(current[event.partition], event.offset, event.sink);
    offsets[event.sink] = { ...current, [event.partition]: event.offset };
  } else {
    const current = offsets[event.sink] ?? {};
    for (const [partition, offset] of Object.entries(event.offsets))
      assertAdvances(current[partition], offset, `${event.sink}[${partition}]`);
    offsets[event.sink] = { ...current, ...event.offsets };
  }
  return {
    ...state,
    checkpoints: state.checkpoints + 1,
    offsets,
    lastRenames: { ...state.lastRenames, [event.sink]: event.renames },
    aggregators:
      event.type === 'agg'
        ? { ...state.aggregators, [event.sink]: { seq: event.seq, state: event.state } }
        : state.aggregators,
  };
}

/** The last durable offset of a partition in one sink, NO_OFFSET if none. */
export function sinkOffset(state: CheckpointState, sink: SinkId, partition: number): string {
  return state.offsets[sink]?.[partition] ?? NO_OFFSET;
}

/** The smallest durable offset over the sinks a partition feeds: everything up to it is in every sink. */
export function durableOffset(state: CheckpointState, sinks: readonly SinkId[], partition: number): string {
  let min: string | undefined;
  for (const sink of sinks) {
    const offset = sinkOffset(state, sink, partition);
    if (min === undefined || compareOffsets(offset, min) < 0) min = offset;
  }
  return min ?? NO_OFFSET;
}

/** Where a partition is read from: the smallest of its sinks' offsets + 1. */
export function startOffset(state: CheckpointState, sinks: readonly SinkId[], partition: number): string {
  return (BigInt(durableOffset(state, sinks, partition)) + 1n).toString();
}

/** Every rename of the latest checkpoint of every sink. */
export function pendingRenames(state: CheckpointState): Rename[] {
  return Object.values(state.lastRenames).flat();
}
