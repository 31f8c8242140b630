/**
 * The checkpoint store's SQLite schema, versioned with `PRAGMA user_version`.
 *
 * `JOURNAL_MIGRATIONS[i]` takes a file from version i to i + 1. To change the schema, append a
 * migration; never edit one that has shipped, since files in the field are already past it.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { ErrorCodes, SdpError } from '../errors.js';

/** The persistence key under which the checkpointer journals its events and snapshots. */
export const CHECKPOINTER_PERSISTENCE_KEY = 'checkpointer';

export type JournalMigration = (db: Database) => void;

export const JOURNAL_MIGRATIONS: readonly JournalMigration[] = [
  // 0 → 1: the journal (source of truth, the audit trail of every checkpoint) and its snapshots.
  // STRICT makes SQLite refuse a value of the wrong type instead of storing it as is.
  // `data` is JSON text; NULL stands for `undefined`, which JSON cannot spell.
  // Rowid tables, not WITHOUT ROWID: a checkpoint row is ~2 KB, and SQLite advises WITHOUT ROWID
  // only for rows under ~1/20 of a page (measured here: rowid appends were faster).
  (db) => {
    db.exec(`
      CREATE TABLE journal (
        persistence_key TEXT NOT NULL,
        sequence_nr INTEGER NOT NULL CHECK (sequence_nr >= 1),
        created_at INTEGER NOT NULL,
        data TEXT,
        tags TEXT NOT NULL,
        is_deleted INTEGER NOT NULL DEFAULT 0 CHECK (is_deleted IN (0, 1)),
        PRIMARY KEY (persistence_key, sequence_nr)
      ) STRICT;

      CREATE TABLE snapshots (
        persistence_key TEXT NOT NULL,
        sequence_nr INTEGER NOT NULL CHECK (sequence_nr >= 0),
        created_at INTEGER NOT NULL,
        data TEXT,
        PRIMARY KEY (persistence_key, sequence_nr)
      ) STRICT;
    `);
  },
  // 1 → 2: the store's identity. `store_id` names the lake's tmp files this store writes, so that
  // recovery deletes only its own (several stores may share one lake). `topic_ids` records the
  // Kafka topic id the checkpointed offsets belong to: a deleted and recreated topic is another.
  (db) => {
    db.exec(`
      CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE topic_ids (topic TEXT PRIMARY KEY, topic_id TEXT NOT NULL, recorded_at INTEGER NOT NULL) STRICT;
    `);
    db.prepare("INSERT INTO store_meta (key, value) VALUES ('store_id', ?)").run(randomBytes(6).toString('hex'));
  },
];

export const JOURNAL_SCHEMA_VERSION = JOURNAL_MIGRATIONS.length;

export interface MigrationResult {
  fromVersion: number;
  toVersion: number;
}

/**
 * Brings the file to the latest schema version, all steps in one transaction (a crash mid-way
 * leaves the old version intact). Throws when the file was written by a newer schema: running old
 * code on it could misread the journal.
 */
export function migrateJournalSchema(
  db: Database,
  migrations: readonly JournalMigration[] = JOURNAL_MIGRATIONS,
): MigrationResult {
  const migrate = db.transaction((): MigrationResult => {
    const fromVersion = db.pragma('user_version', { simple: true }) as number;
    if (fromVersion > migrations.length) {
      throw new SdpError(
        ErrorCodes.CHECKPOINT_STORE,
        `checkpoint store ${db.name} has schema version ${fromVersion}, newer than this build's ${migrations.length}`,
      );
    }
    for (let version = fromVersion; version < migrations.length; version++) {
      migrations[version]!(db);
    }
    // PRAGMA takes no bound parameters; the value is an integer we computed.
    db.pragma(`user_version = ${migrations.length}`);
    return { fromVersion, toVersion: migrations.length };
  });
  // IMMEDIATE takes the write lock before reading the version, so two processes cannot both migrate.
  return migrate.immediate();
}
