/**
 * The chaos run's own read of the platform's checkpoint store (`<checkpoint_root>/checkpoints.sqlite`,
 * read-only): it folds the journal itself instead of asking the code under test. Gives the durable
 * offset of every sink and the window aggregator's latest checkpointed state.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface AggStateView {
  lateEventsTotal: number;
  emittedFrontierMs: number | null;
  openWindows: Array<{ startMs: number; counts: Array<{ url: string; count: number }> }>;
}

export interface JournalView {
  checkpoints: number;
  /** Rows and rejected records committed by raw lake writers, all topics. */
  rawRecords: number;
  /** topic → partition → last durable offset of its raw lake writer. */
  rawOffsets: Map<string, Map<number, bigint>>;
  /** topic → partition → last offset the window aggregator's checkpoints applied. */
  aggOffsets: Map<string, Map<number, bigint>>;
  /** topic → the aggregator's latest checkpointed state. */
  aggState: Map<string, AggStateView>;
}

interface JournalEvent {
  type?: string;
  topic?: string;
  partition?: number;
  offset?: string;
  offsets?: Record<string, string>;
  rows?: number;
  rejected?: number;
  state?: AggStateView;
}

/** Undefined while the store does not exist or cannot be read right now (busy, being created). */
export function readJournal(checkpointRoot: string): JournalView | undefined {
  const file = join(checkpointRoot, 'checkpoints.sqlite');
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    const rows = db
      .prepare<[], { data: string | null }>(
        "SELECT data FROM journal WHERE persistence_key = 'checkpointer' AND is_deleted = 0 ORDER BY sequence_nr",
      )
      .all();
    const view: JournalView = {
      checkpoints: 0,
      rawRecords: 0,
      rawOffsets: new Map(),
      aggOffsets: new Map(),
      aggState: new Map(),
    };
    const offsetsOf = (map: Map<string, Map<number, bigint>>, topic: string): Map<number, bigint> => {
      let m = map.get(topic);
      if (!m) map.set(topic, (m = new Map()));
      return m;
    };
    for (const row of rows) {
      if (row.data === null) continue;
      const event = JSON.parse(row.data) as JournalEvent;
      if (typeof event.topic !== 'string') continue;
      view.checkpoints += 1;
      if (event.type === 'raw' && event.offset !== undefined && event.partition !== undefined) {
        const m = offsetsOf(view.rawOffsets, event.topic);
        const offset = BigInt(event.offset);
        if ((m.get(event.partition) ?? -1n) < offset) m.set(event.partition, offset);
        view.rawRecords += (event.rows ?? 0) + (event.rejected ?? 0);
      } else if (event.type === 'agg') {
        const m = offsetsOf(view.aggOffsets, event.topic);
        for (const [p, o] of Object.entries(event.offsets ?? {})) m.set(Number(p), BigInt(o));
        if (event.state) view.aggState.set(event.topic, event.state);
      }
    }
    return view;
  } catch (err) {
    if (String((err as { code?: string }).code ?? '').startsWith('SQLITE_')) return undefined;
    throw err;
  } finally {
    db?.close();
  }
}

/**
 * Partitions whose durable offset is still behind the last committed record read independently
 * (`lastOffsets`: partition → offset of the last read_committed record). Empty when caught up.
 */
export function behind(
  offsets: ReadonlyMap<number, bigint> | undefined,
  lastOffsets: ReadonlyMap<number, bigint>,
): number[] {
  return [...lastOffsets].filter(([p, last]) => (offsets?.get(p) ?? -1n) < last).map(([p]) => p);
}

/**
 * One view of several members' stores (architecture.md, "Growing past one machine": each store caches the commits
 * of the partitions its member held): per sink the highest offset any store committed, records summed (each roll
 * is committed by one member), the aggregator state of the first store that has one.
 */
export function highestOffsets(views: readonly JournalView[]): JournalView {
  const merged: JournalView = {
    checkpoints: 0,
    rawRecords: 0,
    rawOffsets: new Map(),
    aggOffsets: new Map(),
    aggState: new Map(),
  };
  const fold = (
    into: Map<string, Map<number, bigint>>,
    from: ReadonlyMap<string, ReadonlyMap<number, bigint>>,
  ): void => {
    for (const [topic, offsets] of from) {
      let m = into.get(topic);
      if (!m) into.set(topic, (m = new Map()));
      for (const [p, o] of offsets) if ((m.get(p) ?? -1n) < o) m.set(p, o);
    }
  };
  for (const view of views) {
    merged.checkpoints += view.checkpoints;
    merged.rawRecords += view.rawRecords;
    fold(merged.rawOffsets, view.rawOffsets);
    fold(merged.aggOffsets, view.aggOffsets);
    for (const [topic, state] of view.aggState) if (!merged.aggState.has(topic)) merged.aggState.set(topic, state);
  }
  return merged;
}
