/**
 * A nact persistence engine on SQLite (better-sqlite3): the checkpointer's journal and snapshots.
 *
 * Every `persist` is one SQLite transaction, committed (and, with synchronous FULL, fsynced) before
 * its promise resolves: that commit is the commit point of a checkpoint (architecture.md, "The checkpoint protocol").
 * The journal is append-only: a sequence number at or below the key's last one is refused, never overwritten.
 *
 * Contract with nact 7.6.2 (lib/persistence/persistent-actor.js):
 * - `events` returns an array synchronously; recovery calls `.reduce` on it.
 * - `persist`, `latestSnapshot` and `takeSnapshot` return promises (nact calls `.catch` on
 *   `takeSnapshot`'s result and only console.logs its failure, so this engine also logs it).
 *
 * Payloads are stored as JSON text: whatever `JSON.stringify` loses (Dates, Maps, NaN, bigint
 * throws) is not restored. `undefined` is stored as SQL NULL and comes back as `undefined`.
 *
 * better-sqlite3 is synchronous: each call blocks the event loop for one statement (microseconds,
 * plus an fsync per commit with FULL).
 */
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { AbstractPersistenceEngine, PersistedEvent, PersistedSnapshot } from 'nact/lib/persistence/index.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { migrateJournalSchema } from './journalSchema.js';
import { hitFault } from '../system/faults.js';

export type SynchronousMode = 'NORMAL' | 'FULL';

export interface SqlitePersistenceEngineOptions {
  /**
   * FULL (default): the WAL is fsynced at every commit, so an acknowledged checkpoint survives
   * power loss and OS crash. NORMAL: fsync only at WAL checkpoints; a commit survives a process
   * crash (kill -9) but the last ones can roll back on power loss, which would let the lake hold
   * renamed files the journal has forgotten. Use NORMAL only for tests and benchmarks.
   */
  synchronous?: SynchronousMode;
  /** How long a statement waits for another connection's lock before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Snapshots kept per key after each `takeSnapshot` (at least 1; default 2). */
  snapshotsToKeep?: number;
  logger?: Logger;
}

export interface JournalStats {
  eventCount: number;
  snapshotCount: number;
}

export interface StoreSettings {
  journalMode: string;
  synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
  busyTimeoutMs: number;
  schemaVersion: number;
}

interface EventRow {
  sequence_nr: number;
  created_at: number;
  data: string | null;
  tags: string;
  is_deleted: number;
}

interface SnapshotRow {
  sequence_nr: number;
  created_at: number;
  data: string | null;
}

const SYNCHRONOUS_NAMES = ['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_SNAPSHOTS_TO_KEEP = 2;

export class SqlitePersistenceEngine extends AbstractPersistenceEngine {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly log: Logger | undefined;
  private readonly snapshotsToKeep: number;

  private readonly selectEvents: Database.Statement<{ key: string; offset: number; limit: number }, EventRow>;
  private readonly selectTaggedEvents: Database.Statement<
    { key: string; offset: number; limit: number; tags: string },
    EventRow
  >;
  private readonly selectHighestSequenceNr: Database.Statement<{ key: string }, number | null>;
  private readonly insertEvent: Database.Statement<[string, number, number, string | null, string, number]>;
  private readonly selectLatestSnapshot: Database.Statement<[string], SnapshotRow>;
  private readonly upsertSnapshot: Database.Statement<[string, number, number, string | null]>;
  private readonly pruneSnapshots: Database.Statement<{ key: string; keep: number }>;
  private readonly deleteEventsUpTo: Database.Statement<[string, number]>;
  private readonly countAll: { events: Database.Statement<[], number>; snapshots: Database.Statement<[], number> };
  private readonly countByKey: {
    events: Database.Statement<[string], number>;
    snapshots: Database.Statement<[string], number>;
  };
  private readonly appendEvent: Database.Transaction<
    (event: PersistedEvent, data: string | null, tags: string) => void
  >;
  private readonly storeSnapshot: Database.Transaction<(snapshot: PersistedSnapshot, data: string | null) => void>;

  constructor(file: string, options: SqlitePersistenceEngineOptions = {}) {
    super();
    const synchronous = options.synchronous ?? 'FULL';
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.snapshotsToKeep = options.snapshotsToKeep ?? DEFAULT_SNAPSHOTS_TO_KEEP;
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL')
      throw new TypeError(`synchronous must be FULL or NORMAL, got ${String(synchronous)}`);
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0)
      throw new RangeError(`busyTimeoutMs must be an integer >= 0, got ${busyTimeoutMs}`);
    if (!Number.isSafeInteger(this.snapshotsToKeep) || this.snapshotsToKeep < 1) {
      throw new RangeError(`snapshotsToKeep must be an integer >= 1, got ${this.snapshotsToKeep}`);
    }
    const inMemory = file === ':memory:';
    this.file = inMemory ? file : resolve(file);
    this.log = options.logger?.child({ component: 'checkpoint-store' });

    let db: Database.Database | undefined;
    try {
      if (!inMemory) mkdirSync(dirname(this.file), { recursive: true });
      db = new Database(this.file);
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      // WAL: a commit only appends to the WAL (fsynced with FULL), and readers never block the writer.
      const journalMode = db.pragma('journal_mode = WAL', { simple: true }) as string;
      if (journalMode !== 'wal' && !(inMemory && journalMode === 'memory')) {
        throw new Error(`journal_mode is ${journalMode}, not wal (does the filesystem support shared memory?)`);
      }
      // FULL unless told otherwise: an acknowledged checkpoint must survive power loss (see the option).
      db.pragma(`synchronous = ${synchronous}`);
      const migration = migrateJournalSchema(db);
      // The file (and WAL) entries live in the directory: make them durable too.
      if (!inMemory) fsyncDirectory(dirname(this.file));
      this.db = db;
      this.log?.info(
        {
          file: this.file,
          journalMode,
          synchronous,
          fromSchemaVersion: migration.fromVersion,
          schemaVersion: migration.toVersion,
        },
        'checkpoint store open',
      );
    } catch (err) {
      db?.close();
      if (err instanceof SdpError) throw err;
      throw storeError(`cannot open checkpoint store ${this.file}`, err);
    }

    this.selectEvents = this.db.prepare(`
      SELECT sequence_nr, created_at, data, tags, is_deleted FROM journal
      WHERE persistence_key = @key AND sequence_nr > @offset
      ORDER BY sequence_nr LIMIT @limit`);
    // Every wanted tag must be among the event's tags (Postgres's `tags @> wanted`).
    this.selectTaggedEvents = this.db.prepare(`
      SELECT sequence_nr, created_at, data, tags, is_deleted FROM journal
      WHERE persistence_key = @key AND sequence_nr > @offset
        AND NOT EXISTS (
          SELECT 1 FROM json_each(@tags) AS wanted
          WHERE wanted.value NOT IN (SELECT value FROM json_each(journal.tags)))
      ORDER BY sequence_nr LIMIT @limit`);
    // Snapshots count too: after compactJournal the journal alone may have forgotten its last number.
    this.selectHighestSequenceNr = this.db
      .prepare<{ key: string }, number | null>(`
        SELECT max(sequence_nr) FROM (
          SELECT max(sequence_nr) AS sequence_nr FROM journal WHERE persistence_key = @key
          UNION ALL
          SELECT max(sequence_nr) FROM snapshots WHERE persistence_key = @key)`)
      .pluck();
    this.insertEvent = this.db.prepare(`
      INSERT INTO journal (persistence_key, sequence_nr, created_at, data, tags, is_deleted)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.selectLatestSnapshot = this.db.prepare(`
      SELECT sequence_nr, created_at, data FROM snapshots
      WHERE persistence_key = ? ORDER BY sequence_nr DESC LIMIT 1`);
    // A snapshot is derived from the journal: retaking one at the same number replaces it.
    this.upsertSnapshot = this.db.prepare(`
      INSERT INTO snapshots (persistence_key, sequence_nr, created_at, data) VALUES (?, ?, ?, ?)
      ON CONFLICT (persistence_key, sequence_nr) DO UPDATE SET created_at = excluded.created_at, data = excluded.data`);
    this.pruneSnapshots = this.db.prepare(`
      DELETE FROM snapshots WHERE persistence_key = @key AND sequence_nr < (
        SELECT sequence_nr FROM snapshots WHERE persistence_key = @key
        ORDER BY sequence_nr DESC LIMIT 1 OFFSET @keep - 1)`);
    this.deleteEventsUpTo = this.db.prepare('DELETE FROM journal WHERE persistence_key = ? AND sequence_nr <= ?');
    this.countAll = {
      events: this.db.prepare<[], number>('SELECT count(*) FROM journal').pluck(),
      snapshots: this.db.prepare<[], number>('SELECT count(*) FROM snapshots').pluck(),
    };
    this.countByKey = {
      events: this.db.prepare<[string], number>('SELECT count(*) FROM journal WHERE persistence_key = ?').pluck(),
      snapshots: this.db.prepare<[string], number>('SELECT count(*) FROM snapshots WHERE persistence_key = ?').pluck(),
    };

    this.appendEvent = this.db.transaction((event: PersistedEvent, data: string | null, tags: string) => {
      const last = this.selectHighestSequenceNr.get({ key: event.key }) ?? 0;
      if (event.sequenceNumber <= last) throw sequenceError(event.key, event.sequenceNumber, last);
      this.insertEvent.run(event.key, event.sequenceNumber, event.createdAt, data, tags, event.isDeleted ? 1 : 0);
    });
    this.storeSnapshot = this.db.transaction((snapshot: PersistedSnapshot, data: string | null) => {
      this.upsertSnapshot.run(snapshot.key, snapshot.sequenceNumber, snapshot.createdAt, data);
      // Inside the transaction: a crash here must leave the previous snapshot and the journal intact.
      hitFault('during-snapshot-write');
      this.pruneSnapshots.run({ key: snapshot.key, keep: this.snapshotsToKeep });
    });
  }

  /**
   * The events of `persistenceKey` with a sequence number strictly above `offset` (nact passes the
   * recovered snapshot's number), in order, at most `limit` of them; with `tags`, only the events
   * that carry every one of them. Deleted events are included, flagged `isDeleted`, as nact expects.
   */
  override events(persistenceKey: string, offset = 0, limit?: number, tags?: string[]): PersistedEvent[] {
    checkKey(persistenceKey);
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`offset must be an integer >= 0, got ${offset}`);
    if (limit !== undefined && limit !== null && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
    }
    if (tags !== undefined && tags !== null) checkTags(tags);
    const params = { key: persistenceKey, offset, limit: limit ?? -1 };
    let rows: EventRow[];
    try {
      rows = tags
        ? this.selectTaggedEvents.all({ ...params, tags: JSON.stringify(tags) })
        : this.selectEvents.all(params);
    } catch (err) {
      throw storeError(`cannot read the journal of ${persistenceKey}`, err);
    }
    return rows.map(
      (row) =>
        new PersistedEvent(
          decodeJson(row.data, persistenceKey, row.sequence_nr),
          row.sequence_nr,
          persistenceKey,
          decodeJson(row.tags, persistenceKey, row.sequence_nr) as string[],
          row.created_at,
          row.is_deleted === 1,
        ),
    );
  }

  /**
   * Appends one event in its own transaction. Resolves once committed (durable with synchronous
   * FULL). Rejects with SDP_ERR_CHECKPOINT_SEQUENCE if the key already has this number or a higher
   * one, and with SDP_ERR_CHECKPOINT_STORE on any SQLite failure (disk full, busy, closed).
   */
  override async persist(persistedEvent: PersistedEvent): Promise<void> {
    checkKey(persistedEvent.key);
    checkSequenceNr(persistedEvent.sequenceNumber, 1);
    checkCreatedAt(persistedEvent.createdAt);
    checkTags(persistedEvent.tags);
    const data = encodeJson(persistedEvent.data);
    try {
      // IMMEDIATE: the write lock is taken before the sequence check, so no other writer slips in.
      this.appendEvent.immediate(persistedEvent, data, JSON.stringify(persistedEvent.tags));
    } catch (err) {
      if (err instanceof SdpError) throw err;
      if (sqliteCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw sequenceError(persistedEvent.key, persistedEvent.sequenceNumber, persistedEvent.sequenceNumber);
      }
      throw storeError(`cannot persist event ${persistedEvent.sequenceNumber} of ${persistedEvent.key}`, err);
    }
  }

  /** The snapshot of `persistenceKey` with the highest sequence number, or undefined. */
  override async latestSnapshot(persistenceKey: string): Promise<PersistedSnapshot | undefined> {
    checkKey(persistenceKey);
    let row: SnapshotRow | undefined;
    try {
      row = this.selectLatestSnapshot.get(persistenceKey);
    } catch (err) {
      throw storeError(`cannot read the latest snapshot of ${persistenceKey}`, err);
    }
    if (!row) return undefined;
    return new PersistedSnapshot(
      decodeJson(row.data, persistenceKey, row.sequence_nr),
      row.sequence_nr,
      persistenceKey,
      row.created_at,
    );
  }

  /**
   * Stores a snapshot and, in the same transaction, drops the key's older snapshots beyond the
   * newest `snapshotsToKeep`. The journal is kept (it is the audit trail; see compactJournal).
   */
  override async takeSnapshot(persistedSnapshot: PersistedSnapshot): Promise<void> {
    try {
      this.writeSnapshot(persistedSnapshot);
    } catch (err) {
      // nact only console.logs a failed snapshot: say it here in the structured log too.
      this.log?.error(
        { err, persistenceKey: persistedSnapshot.key, sequenceNr: persistedSnapshot.sequenceNumber },
        'snapshot failed',
      );
      throw err;
    }
  }

  private writeSnapshot(persistedSnapshot: PersistedSnapshot): void {
    checkKey(persistedSnapshot.key);
    checkSequenceNr(persistedSnapshot.sequenceNumber, 0);
    checkCreatedAt(persistedSnapshot.createdAt);
    const data = encodeJson(persistedSnapshot.data);
    try {
      this.storeSnapshot.immediate(persistedSnapshot, data);
    } catch (err) {
      throw storeError(`cannot store snapshot ${persistedSnapshot.sequenceNumber} of ${persistedSnapshot.key}`, err);
    }
  }

  /**
   * Deletes the key's events up to `upToSequenceNr` included, and returns how many. Never automatic:
   * the journal is the audit trail. Only events covered by the latest snapshot may go, since
   * recovery replays what follows it.
   */
  compactJournal(persistenceKey: string, upToSequenceNr: number): number {
    checkKey(persistenceKey);
    checkSequenceNr(upToSequenceNr, 0);
    const compact = this.db.transaction((): number => {
      const snapshotSequenceNr = this.selectLatestSnapshot.get(persistenceKey)?.sequence_nr ?? 0;
      if (upToSequenceNr > snapshotSequenceNr) {
        throw new SdpError(
          ErrorCodes.CHECKPOINT_SEQUENCE,
          `cannot compact the journal of ${persistenceKey} up to ${upToSequenceNr}: its latest snapshot covers only up to ${snapshotSequenceNr}`,
        );
      }
      return this.deleteEventsUpTo.run(persistenceKey, upToSequenceNr).changes;
    });
    try {
      return compact.immediate();
    } catch (err) {
      if (err instanceof SdpError) throw err;
      throw storeError(`cannot compact the journal of ${persistenceKey}`, err);
    }
  }

  /** The highest sequence number the key has used (journal or snapshot), 0 if none. */
  highestSequenceNr(persistenceKey: string): number {
    checkKey(persistenceKey);
    try {
      return this.selectHighestSequenceNr.get({ key: persistenceKey }) ?? 0;
    } catch (err) {
      throw storeError(`cannot read the journal of ${persistenceKey}`, err);
    }
  }

  /** Event and snapshot counts, for one key or the whole store. */
  stats(persistenceKey?: string): JournalStats {
    try {
      if (persistenceKey === undefined) {
        return { eventCount: this.countAll.events.get() ?? 0, snapshotCount: this.countAll.snapshots.get() ?? 0 };
      }
      return {
        eventCount: this.countByKey.events.get(persistenceKey) ?? 0,
        snapshotCount: this.countByKey.snapshots.get(persistenceKey) ?? 0,
      };
    } catch (err) {
      throw storeError('cannot count the checkpoint store', err);
    }
  }

  /** What this connection actually runs with, read back from SQLite. */
  settings(): StoreSettings {
    try {
      const synchronous = this.db.pragma('synchronous', { simple: true }) as number;
      return {
        journalMode: this.db.pragma('journal_mode', { simple: true }) as string,
        synchronous: SYNCHRONOUS_NAMES[synchronous] ?? 'OFF',
        busyTimeoutMs: this.db.pragma('busy_timeout', { simple: true }) as number,
        schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      };
    } catch (err) {
      throw storeError('cannot read the checkpoint store settings', err);
    }
  }

  /** This store's identity (12 hex digits), made when the store was created; names its tmp files. */
  get storeId(): string {
    try {
      const id = this.db.prepare<[], string>("SELECT value FROM store_meta WHERE key = 'store_id'").pluck().get();
      if (!id) throw new Error('no store_id in store_meta');
      return id;
    } catch (err) {
      throw storeError('cannot read the checkpoint store id', err);
    }
  }

  /** The Kafka topic id recorded for `topic` with its checkpoints, undefined if none yet. */
  topicId(topic: string): string | undefined {
    try {
      return (
        this.db.prepare<[string], string>('SELECT topic_id FROM topic_ids WHERE topic = ?').pluck().get(topic) ??
        undefined
      );
    } catch (err) {
      throw storeError(`cannot read the topic id of ${topic}`, err);
    }
  }

  /** Records (or replaces, after an operator-chosen reset) the topic id the checkpoints of `topic` belong to. */
  recordTopicId(topic: string, topicId: string): void {
    try {
      this.db
        .prepare(
          'INSERT INTO topic_ids (topic, topic_id, recorded_at) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET topic_id = excluded.topic_id, recorded_at = excluded.recorded_at',
        )
        .run(topic, topicId, Date.now());
    } catch (err) {
      throw storeError(`cannot record the topic id of ${topic}`, err);
    }
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  /** Closes the connection (SQLite checkpoints the WAL into the main file). Idempotent. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.db.close();
    } catch (err) {
      throw storeError(`cannot close checkpoint store ${this.file}`, err);
    }
    this.log?.info({ file: this.file }, 'checkpoint store closed');
  }
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0)
    throw new TypeError(`persistence key must be a non-empty string, got ${String(key)}`);
}

function checkSequenceNr(sequenceNr: unknown, min: number): void {
  if (typeof sequenceNr !== 'number' || !Number.isSafeInteger(sequenceNr) || sequenceNr < min) {
    throw new RangeError(`sequence number must be an integer >= ${min}, got ${String(sequenceNr)}`);
  }
}

function checkCreatedAt(createdAtMs: unknown): void {
  if (typeof createdAtMs !== 'number' || !Number.isSafeInteger(createdAtMs))
    throw new RangeError(`createdAt must be integer epoch millis, got ${String(createdAtMs)}`);
}

function checkTags(tags: unknown): void {
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string'))
    throw new TypeError('tags must be an array of strings');
}

function encodeJson(value: unknown): string | null {
  // JSON.stringify(undefined) is undefined: store SQL NULL.
  return JSON.stringify(value) ?? null;
}

function decodeJson(text: string | null, key: string, sequenceNr: number): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SdpError(
      ErrorCodes.CHECKPOINT_STORE,
      `checkpoint store: entry ${sequenceNr} of ${key} is not valid JSON`,
      [],
      { cause: err },
    );
  }
}

function sqliteCode(err: unknown): string | undefined {
  return err instanceof Database.SqliteError ? err.code : undefined;
}

function storeError(what: string, err: unknown): SdpError {
  const code = sqliteCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  return new SdpError(ErrorCodes.CHECKPOINT_STORE, `${what}: ${code ? `${code}: ` : ''}${reason}`, [], { cause: err });
}

function sequenceError(key: string, sequenceNr: number, last: number): SdpError {
  return new SdpError(
    ErrorCodes.CHECKPOINT_SEQUENCE,
    `journal of ${key} refuses event ${sequenceNr}: it already reaches ${last} (a second writer for this key?)`,
  );
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
