/**
 * Reads the checkpoint store without the actor system and without writing to it (read-only
 * SQLite connection): the state the checkpointer would recover (latest snapshot + the journal
 * after it, through the same reducer), the time of the last checkpoint, and the files' size.
 * For `data stats` and for the clean commands.
 */
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CHECKPOINTER_PERSISTENCE_KEY } from './journalSchema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import {
  applyCheckpoint,
  emptyCheckpointState,
  type CheckpointEvent,
  type CheckpointState,
} from './checkpointState.js';

export interface StoreSummary {
  file: string;
  exists: boolean;
  /** The store file plus its -wal and -shm files. */
  sizeBytes: number;
  state: CheckpointState;
  journalEvents: number;
  snapshots: number;
  /** Wall clock of the newest journal event, undefined if none. */
  lastCheckpointMs: number | undefined;
}

export function storeFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

export function readCheckpointStore(file: string): StoreSummary {
  const sizeBytes = storeFiles(file).reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
  if (!existsSync(file))
    return {
      file,
      exists: false,
      sizeBytes,
      state: emptyCheckpointState(),
      journalEvents: 0,
      snapshots: 0,
      lastCheckpointMs: undefined,
    };
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 2_000 });
    const key = CHECKPOINTER_PERSISTENCE_KEY;
    const snapshot = db
      .prepare<[string], { sequence_nr: number; data: string | null }>(
        'SELECT sequence_nr, data FROM snapshots WHERE persistence_key = ? ORDER BY sequence_nr DESC LIMIT 1',
      )
      .get(key);
    let state: CheckpointState = snapshot?.data
      ? (JSON.parse(snapshot.data) as CheckpointState)
      : emptyCheckpointState();
    const events = db
      .prepare<[string, number], { data: string | null; is_deleted: number }>(
        'SELECT data, is_deleted FROM journal WHERE persistence_key = ? AND sequence_nr > ? ORDER BY sequence_nr',
      )
      .all(key, snapshot?.sequence_nr ?? 0);
    for (const row of events) {
      if (row.is_deleted === 1 || row.data === null) continue;
      state = applyCheckpoint(state, JSON.parse(row.data) as CheckpointEvent);
    }
    const counts = db
      .prepare<[], { events: number; snapshots: number; last: number | null }>(
        'SELECT (SELECT count(*) FROM journal) AS events, (SELECT count(*) FROM snapshots) AS snapshots, (SELECT max(created_at) FROM journal) AS last',
      )
      .get()!;
    return {
      file,
      exists: true,
      sizeBytes,
      state,
      journalEvents: counts.events,
      snapshots: counts.snapshots,
      lastCheckpointMs: counts.last ?? undefined,
    };
  } catch (err) {
    if (err instanceof SdpError) throw err;
    throw new SdpError(
      ErrorCodes.CHECKPOINT_STORE,
      `cannot read checkpoint store ${file}: ${err instanceof Error ? err.message : String(err)}`,
      [],
      { cause: err },
    );
  } finally {
    db?.close();
  }
}
