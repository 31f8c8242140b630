import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * An independent read of the checkpoint store (`<checkpoint_root>/checkpoints.sqlite`): it folds
 * the journal itself rather than asking the code under test. Opened read-only for each read, so
 * that it never holds the writer back; while the file is being created or recovered a read may
 * fail, which callers that poll treat as "not yet".
 */

export interface JournalSummary {
  /** Committed checkpoints (journal events). */
  checkpoints: number;
  /** topic → partition → last durable offset of its raw lake writer. */
  rawOffsets: Map<string, Map<number, bigint>>;
  /** topic → rows and rejected records committed by raw rolls. */
  rawRows: Map<string, { rows: number; rejected: number }>;
  /** clickstream topic → partition → last offset applied by the window aggregator's checkpoints. */
  aggOffsets: Map<string, Map<number, bigint>>;
  /** The aggregator's latest checkpointed state, as stored. */
  aggState: Map<string, { seq: number; state: AggStateView }>;
  /** created_at (epoch ms) of the newest journal event. */
  lastCreatedAtMs: number | null;
}

/** The part of the aggregator's stored state the tests look at. */
export interface AggStateView {
  lateEventsTotal: number;
  emittedFrontierMs: number | null;
  openWindows: Array<{ startMs: number }>;
}

interface RawEvent {
  type: 'raw';
  topic: string;
  partition: number;
  offset: string;
  rows: number;
  rejected: number;
}

interface AggEvent {
  type: 'agg';
  topic: string;
  seq: number;
  offsets: Record<string, string>;
  state: AggStateView;
}

export function checkpointFile(checkpointRoot: string): string {
  return join(checkpointRoot, 'checkpoints.sqlite');
}

/** Folds the whole journal; undefined when the store does not exist (yet) or cannot be read now. */
export function readJournal(checkpointRoot: string): JournalSummary | undefined {
  const file = checkpointFile(checkpointRoot);
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    const rows = db
      .prepare<[], { sequence_nr: number; created_at: number; data: string | null }>(
        "SELECT sequence_nr, created_at, data FROM journal WHERE persistence_key = 'checkpointer' ORDER BY sequence_nr",
      )
      .all();
    const summary: JournalSummary = {
      checkpoints: 0,
      rawOffsets: new Map(),
      rawRows: new Map(),
      aggOffsets: new Map(),
      aggState: new Map(),
      lastCreatedAtMs: null,
    };
    for (const row of rows) {
      if (row.data === null) continue;
      const event = JSON.parse(row.data) as RawEvent | AggEvent | { type: 'aggMerge' };
      // The process aggregator's compaction is journaled too: no checkpoint.
      if (event.type === 'aggMerge') continue;
      summary.checkpoints += 1;
      summary.lastCreatedAtMs = row.created_at;
      if (event.type === 'raw') {
        const offsets = summary.rawOffsets.get(event.topic) ?? new Map<number, bigint>();
        summary.rawOffsets.set(event.topic, offsets);
        const offset = BigInt(event.offset);
        const previous = offsets.get(event.partition);
        if (previous !== undefined && offset <= previous)
          throw new Error(
            `journal: raw offset of ${event.topic}[${event.partition}] did not advance: ${previous} then ${offset}`,
          );
        offsets.set(event.partition, offset);
        const counts = summary.rawRows.get(event.topic) ?? { rows: 0, rejected: 0 };
        counts.rows += event.rows;
        counts.rejected += event.rejected;
        summary.rawRows.set(event.topic, counts);
      } else if (event.type === 'agg') {
        const offsets = summary.aggOffsets.get(event.topic) ?? new Map<number, bigint>();
        summary.aggOffsets.set(event.topic, offsets);
        for (const [p, o] of Object.entries(event.offsets)) offsets.set(Number(p), BigInt(o));
        summary.aggState.set(event.topic, { seq: event.seq, state: event.state });
      }
    }
    return summary;
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_')) return undefined; // busy, being created or recovered: poll again
    throw err;
  } finally {
    db?.close();
  }
}

/**
 * True when every partition's raw writer has made durable everything below the topic's end
 * offset (end offsets as `fetchTopicOffsets` reports them; a partition with end 0 needs nothing).
 * For a clickstream topic, with `withAggregator`, the window aggregator's offsets must be there too.
 */
export function isCaughtUp(
  journal: JournalSummary | undefined,
  topic: string,
  endOffsets: ReadonlyMap<number, bigint>,
  withAggregator = false,
): boolean {
  if (!journal) return false;
  for (const [partition, end] of endOffsets) {
    if (end === 0n) continue;
    const raw = journal.rawOffsets.get(topic)?.get(partition);
    if (raw === undefined || raw + 1n < end) return false;
    if (withAggregator) {
      const agg = journal.aggOffsets.get(topic)?.get(partition);
      if (agg === undefined || agg + 1n < end) return false;
    }
  }
  return true;
}
