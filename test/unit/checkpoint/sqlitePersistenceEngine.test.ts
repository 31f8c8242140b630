import { spawn as spawnProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { PersistedEvent, PersistedSnapshot } from 'nact/lib/persistence/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  JOURNAL_MIGRATIONS,
  JOURNAL_SCHEMA_VERSION,
  migrateJournalSchema,
} from '../../../src/checkpoint/journalSchema.js';
import {
  SqlitePersistenceEngine,
  type SqlitePersistenceEngineOptions,
} from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import {
  dispatch,
  type PersistentContext,
  query,
  reply,
  spawnPersistent,
  startSystem,
  stop,
} from '../../../src/system/nact.js';
import { compileForChild } from './fixtures/compileForChild.js';

const dirs: string[] = [];
const engines: SqlitePersistenceEngine[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-journal-'));
  dirs.push(dir);
  return dir;
}

/** A store file in a directory that does not exist yet (the engine must create it). */
function tempDbFile(): string {
  return join(tempDir(), 'nested', 'checkpoints.db');
}

function open(file: string, options: SqlitePersistenceEngineOptions = {}): SqlitePersistenceEngine {
  const engine = new SqlitePersistenceEngine(file, options);
  engines.push(engine);
  return engine;
}

function event(
  key: string,
  sequenceNr: number,
  data: unknown = { n: sequenceNr },
  tags: string[] = [],
): PersistedEvent {
  return new PersistedEvent(data, sequenceNr, key, tags);
}

async function persistRange(engine: SqlitePersistenceEngine, key: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await engine.persist(event(key, n));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

afterEach(() => {
  for (const engine of engines.splice(0)) engine.close();
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SqlitePersistenceEngine journal', () => {
  it('returns every persisted event, in order, to a new instance on the same file', async () => {
    const file = tempDbFile();
    const writer = open(file);
    const payload = {
      offsets: { 'clickstream:0': 41 },
      renames: [{ from: 'a.parquet.tmp', to: 'a.parquet' }],
      missing: null,
    };
    await writer.persist(event('sink', 1, payload, ['roll']));
    await persistRange(writer, 'sink', 2, 20);
    writer.close();

    const reader = open(file);
    const all = reader.events('sink', 0);
    expect(all.map((e) => e.sequenceNumber)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(all[0]).toBeInstanceOf(PersistedEvent);
    expect(all[0]).toMatchObject({ data: payload, key: 'sink', tags: ['roll'], isDeleted: false });
    expect(all[19]!.data).toEqual({ n: 20 });
    expect(typeof all[0]!.createdAt).toBe('number');

    // The offset is exclusive: nact passes the snapshot's number and wants what follows it.
    expect(reader.events('sink', 7).map((e) => e.sequenceNumber)).toEqual(Array.from({ length: 13 }, (_, i) => i + 8));
    expect(reader.events('sink').length).toBe(20);
    expect(reader.events('sink', 20)).toEqual([]);
    expect(reader.events('sink', 3, 2).map((e) => e.sequenceNumber)).toEqual([4, 5]);
    expect(reader.events('nobody', 0)).toEqual([]);
    expect(reader.stats()).toEqual({ eventCount: 20, snapshotCount: 0 });
  });

  it('returns an array synchronously, as nact recovery calls .reduce on it', async () => {
    const engine = open(tempDbFile());
    await persistRange(engine, 'k', 1, 3);
    const result = engine.events('k', 0);
    expect(Array.isArray(result)).toBe(true);
    expect(result.reduce((sum, e) => sum + e.sequenceNumber, 0)).toBe(6);
  });

  it('keeps created_at, is_deleted and an undefined payload', async () => {
    const engine = open(tempDbFile());
    await engine.persist(new PersistedEvent({ a: 1 }, 1, 'k', [], 1_700_000_000_123, true));
    await engine.persist(new PersistedEvent(undefined, 2, 'k'));
    const [deleted, empty] = engine.events('k');
    expect(deleted).toMatchObject({ createdAt: 1_700_000_000_123, isDeleted: true, data: { a: 1 } });
    expect(empty!.data).toBeUndefined();
  });

  it('resolves persist only after the commit: a second connection sees the event at once', async () => {
    const file = tempDbFile();
    const engine = open(file);
    await engine.persist(event('k', 1));
    const other = new Database(file, { readonly: true });
    try {
      expect(other.prepare('SELECT count(*) FROM journal').pluck().get()).toBe(1);
    } finally {
      other.close();
    }
  });

  it('refuses a duplicate or older sequence number and keeps the original event', async () => {
    const engine = open(tempDbFile());
    await engine.persist(event('k', 1, { original: true }));
    await engine.persist(event('k', 2));

    const duplicate = await rejection(engine.persist(event('k', 2, { overwrite: true })));
    expect(isSdpError(duplicate, ErrorCodes.CHECKPOINT_SEQUENCE)).toBe(true);
    expect((duplicate as Error).message).toContain('refuses event 2');
    const older = await rejection(engine.persist(event('k', 1, { overwrite: true })));
    expect(isSdpError(older, ErrorCodes.CHECKPOINT_SEQUENCE)).toBe(true);

    expect(engine.events('k').map((e) => e.data)).toEqual([{ original: true }, { n: 2 }]);
    await engine.persist(event('k', 3));
    expect(engine.highestSequenceNr('k')).toBe(3);
  });

  it('refuses invalid events with a rejected promise, never a synchronous throw', async () => {
    const engine = open(tempDbFile());
    const bad = { ...event('k', 1), sequenceNumber: 1.5 } as PersistedEvent;
    const persisting = engine.persist(bad);
    expect(persisting).toBeInstanceOf(Promise);
    expect(await rejection(persisting)).toBeInstanceOf(RangeError);
    expect(await rejection(engine.persist(event('k', 1, { big: 1n })))).toBeInstanceOf(TypeError);
    expect(engine.stats().eventCount).toBe(0);
  });

  it('filters by tags: an event must carry every requested tag', async () => {
    const engine = open(tempDbFile());
    await engine.persist(event('k', 1, 'a', ['roll']));
    await engine.persist(event('k', 2, 'b', ['roll', 'partition-3']));
    await engine.persist(event('k', 3, 'c', ['window']));
    await engine.persist(event('k', 4, 'd', ['partition-3', 'window', 'roll']));
    await engine.persist(event('other', 5, 'e', ['roll']));

    expect(engine.events('k', 0, undefined, ['roll']).map((e) => e.data)).toEqual(['a', 'b', 'd']);
    expect(engine.events('k', 0, undefined, ['partition-3', 'roll']).map((e) => e.data)).toEqual(['b', 'd']);
    expect(engine.events('k', 2, undefined, ['roll']).map((e) => e.data)).toEqual(['d']);
    expect(engine.events('k', 0, 1, ['window']).map((e) => e.data)).toEqual(['c']);
    expect(engine.events('k', 0, undefined, ['nope'])).toEqual([]);
    expect(engine.events('k', 0, undefined, []).length).toBe(4);
    expect(engine.events('k', 0, undefined, ['window'])[1]!.tags).toEqual(['partition-3', 'roll', 'window']);
  });

  it('keeps persistence keys apart: numbering, events, snapshots', async () => {
    const engine = open(tempDbFile());
    await persistRange(engine, 'lake-writer:clickstream:0', 1, 3);
    await persistRange(engine, 'window-aggregator', 1, 5);
    await engine.takeSnapshot(new PersistedSnapshot({ owner: 'aggregator' }, 5, 'window-aggregator'));

    expect(engine.events('lake-writer:clickstream:0').map((e) => [e.key, e.sequenceNumber])).toEqual([
      ['lake-writer:clickstream:0', 1],
      ['lake-writer:clickstream:0', 2],
      ['lake-writer:clickstream:0', 3],
    ]);
    expect(engine.events('window-aggregator', 2).map((e) => e.sequenceNumber)).toEqual([3, 4, 5]);
    expect(await engine.latestSnapshot('lake-writer:clickstream:0')).toBeUndefined();
    expect((await engine.latestSnapshot('window-aggregator'))?.data).toEqual({ owner: 'aggregator' });
    expect(engine.stats('lake-writer:clickstream:0')).toEqual({ eventCount: 3, snapshotCount: 0 });
    expect(engine.stats('window-aggregator')).toEqual({ eventCount: 5, snapshotCount: 1 });
    // Keys that share a prefix are not confused.
    await persistRange(engine, 'lake-writer:clickstream:00', 1, 1);
    expect(engine.events('lake-writer:clickstream:0').length).toBe(3);
  });
});

describe('SqlitePersistenceEngine snapshots', () => {
  it('returns the newest snapshot, from a promise, and undefined when there is none', async () => {
    const file = tempDbFile();
    const engine = open(file);
    const none = engine.latestSnapshot('k');
    expect(none).toBeInstanceOf(Promise);
    expect(await none).toBeUndefined();

    const taking = engine.takeSnapshot(new PersistedSnapshot({ total: 3 }, 3, 'k', 1_700_000_000_000));
    expect(taking).toBeInstanceOf(Promise);
    await taking;
    await engine.takeSnapshot(new PersistedSnapshot({ total: 9 }, 9, 'k'));
    await engine.takeSnapshot(new PersistedSnapshot({ total: 6 }, 6, 'k'));
    engine.close();

    const snapshot = await open(file).latestSnapshot('k');
    expect(snapshot).toBeInstanceOf(PersistedSnapshot);
    expect(snapshot).toMatchObject({ data: { total: 9 }, sequenceNumber: 9, key: 'k' });
  });

  it('prunes all but the newest two snapshots of the key, and keeps the journal', async () => {
    const file = tempDbFile();
    const engine = open(file);
    await persistRange(engine, 'k', 1, 12);
    await engine.takeSnapshot(new PersistedSnapshot({ total: 100 }, 1, 'other'));
    for (const n of [3, 6, 9, 12]) await engine.takeSnapshot(new PersistedSnapshot({ total: n }, n, 'k'));

    const raw = new Database(file, { readonly: true });
    try {
      const kept = raw
        .prepare("SELECT sequence_nr FROM snapshots WHERE persistence_key = 'k' ORDER BY sequence_nr")
        .pluck()
        .all();
      expect(kept).toEqual([9, 12]);
      expect(raw.prepare("SELECT count(*) FROM snapshots WHERE persistence_key = 'other'").pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
    expect(engine.stats('k')).toEqual({ eventCount: 12, snapshotCount: 2 });
  });

  it('keeps as many snapshots as configured', async () => {
    const engine = open(tempDbFile(), { snapshotsToKeep: 1 });
    for (const n of [1, 2, 3]) await engine.takeSnapshot(new PersistedSnapshot(n, n, 'k'));
    expect(engine.stats('k').snapshotCount).toBe(1);
    expect((await engine.latestSnapshot('k'))?.data).toBe(3);
  });

  it('compacts the journal only when asked, and only up to the latest snapshot', async () => {
    const engine = open(tempDbFile());
    await persistRange(engine, 'k', 1, 10);
    await engine.takeSnapshot(new PersistedSnapshot({ total: 6 }, 6, 'k'));

    const tooFar = (() => {
      try {
        return engine.compactJournal('k', 7);
      } catch (err) {
        return err;
      }
    })();
    expect(isSdpError(tooFar, ErrorCodes.CHECKPOINT_SEQUENCE)).toBe(true);
    expect(engine.stats('k').eventCount).toBe(10);

    expect(engine.compactJournal('k', 6)).toBe(6);
    expect(engine.events('k').map((e) => e.sequenceNumber)).toEqual([7, 8, 9, 10]);
    // Still append-only after compaction: the old numbers cannot be reused.
    expect(isSdpError(await rejection(engine.persist(event('k', 3))), ErrorCodes.CHECKPOINT_SEQUENCE)).toBe(true);
  });
});

describe('SqlitePersistenceEngine settings and schema', () => {
  it('runs in WAL mode with synchronous FULL by default', () => {
    const file = tempDbFile();
    const engine = open(file);
    expect(engine.settings()).toEqual({
      journalMode: 'wal',
      synchronous: 'FULL',
      busyTimeoutMs: 5000,
      schemaVersion: JOURNAL_SCHEMA_VERSION,
    });
    engine.close();
    // WAL is a property of the file: another connection sees it too.
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('user_version', { simple: true })).toBe(JOURNAL_SCHEMA_VERSION);
    } finally {
      raw.close();
    }
  });

  it('also runs in memory, for tests of other components', async () => {
    const engine = open(':memory:');
    await engine.persist(event('k', 1));
    expect(engine.events('k').length).toBe(1);
    expect(engine.settings()).toMatchObject({ journalMode: 'memory', schemaVersion: JOURNAL_SCHEMA_VERSION });
  });

  it('runs with synchronous NORMAL when configured', () => {
    const engine = open(tempDbFile(), { synchronous: 'NORMAL', busyTimeoutMs: 250 });
    expect(engine.settings()).toMatchObject({ journalMode: 'wal', synchronous: 'NORMAL', busyTimeoutMs: 250 });
  });

  it('runs pending migrations on open and refuses a file from a newer schema', () => {
    const file = tempDbFile();
    open(file).close();
    const raw = new Database(file);
    try {
      const added = vi.fn((db: Database.Database) => db.exec('CREATE TABLE extra (x INTEGER) STRICT'));
      expect(migrateJournalSchema(raw, [...JOURNAL_MIGRATIONS, added])).toEqual({
        fromVersion: JOURNAL_SCHEMA_VERSION,
        toVersion: JOURNAL_SCHEMA_VERSION + 1,
      });
      expect(added).toHaveBeenCalledTimes(1);
      expect(migrateJournalSchema(raw, [...JOURNAL_MIGRATIONS, added])).toEqual({
        fromVersion: JOURNAL_SCHEMA_VERSION + 1,
        toVersion: JOURNAL_SCHEMA_VERSION + 1,
      });
      expect(added).toHaveBeenCalledTimes(1);
    } finally {
      raw.close();
    }
    let error: unknown;
    try {
      open(file);
    } catch (err) {
      error = err;
    }
    expect(isSdpError(error, ErrorCodes.CHECKPOINT_STORE)).toBe(true);
    expect((error as Error).message).toContain(`schema version ${JOURNAL_SCHEMA_VERSION + 1}`);
  });

  it('fails to open a file that is not a database, with a clear error', () => {
    const file = join(tempDir(), 'garbage.db');
    writeFileSync(file, 'this is not an sqlite file, just some text that is long enough to have a header'.repeat(20));
    let error: unknown;
    try {
      open(file);
    } catch (err) {
      error = err;
    }
    expect(isSdpError(error, ErrorCodes.CHECKPOINT_STORE)).toBe(true);
    expect((error as Error).message).toMatch(/cannot open checkpoint store .*garbage\.db: SQLITE_NOTADB/);
  });
});

describe('SqlitePersistenceEngine errors', () => {
  it('rejects persist while another connection holds the write lock, then succeeds once it is gone', async () => {
    const file = tempDbFile();
    const engine = open(file, { busyTimeoutMs: 50 });
    await engine.persist(event('k', 1));
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const busy = await rejection(engine.persist(event('k', 2)));
      expect(isSdpError(busy, ErrorCodes.CHECKPOINT_STORE)).toBe(true);
      expect((busy as Error).message).toContain('cannot persist event 2 of k: SQLITE_BUSY');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
    await engine.persist(event('k', 2));
    expect(engine.events('k').map((e) => e.sequenceNumber)).toEqual([1, 2]);
  });

  it('rejects persist and takeSnapshot when the disk is full, leaving the journal intact', async () => {
    const engine = open(tempDbFile());
    await engine.persist(event('k', 1));
    // Cap this connection's file at its current size: the next page SQLite needs is "disk full".
    const db = (engine as unknown as { db: Database.Database }).db;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = { blob: 'x'.repeat(64 * 1024) };
    const full = await rejection(engine.persist(event('k', 2, big)));
    expect(isSdpError(full, ErrorCodes.CHECKPOINT_STORE)).toBe(true);
    expect((full as Error).message).toContain('SQLITE_FULL');
    expect((full as Error).cause).toBeInstanceOf(Database.SqliteError);
    const snapshotFull = await rejection(engine.takeSnapshot(new PersistedSnapshot(big, 1, 'k')));
    expect(isSdpError(snapshotFull, ErrorCodes.CHECKPOINT_STORE)).toBe(true);
    expect(engine.events('k').map((e) => e.sequenceNumber)).toEqual([1]);
    expect(engine.highestSequenceNr('k')).toBe(1);
  });

  it('logs a failed snapshot, which nact itself only console.logs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const engine = open(tempDbFile(), { logger });
    engine.close();
    await rejection(engine.takeSnapshot(new PersistedSnapshot({}, 4, 'window-aggregator')));
    const failure = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.msg === 'snapshot failed');
    expect(failure).toMatchObject({
      level: 50,
      component: 'checkpoint-store',
      persistenceKey: 'window-aggregator',
      sequenceNr: 4,
    });
    expect((failure!.err as { message: string }).message).toContain('cannot store snapshot 4 of window-aggregator');
  });

  it('rejects every call after close with a checkpoint store error', async () => {
    const engine = open(tempDbFile());
    engine.close();
    expect(engine.isOpen).toBe(false);
    expect(isSdpError(await rejection(engine.persist(event('k', 1))), ErrorCodes.CHECKPOINT_STORE)).toBe(true);
    expect(isSdpError(await rejection(engine.latestSnapshot('k')), ErrorCodes.CHECKPOINT_STORE)).toBe(true);
    expect(() => engine.events('k')).toThrow(/cannot read the journal of k/);
    engine.close();
  });
});

// ---------------------------------------------------------------------------------------------
// A real nact persistent actor on the engine.

type CounterMsg = { type: 'add'; amount: number } | { type: 'get' };
interface CounterState {
  total: number;
  adds: number;
}

interface Run {
  replayed: number;
}

function counterBehaviour(run: Run) {
  return async (state: CounterState, msg: CounterMsg, ctx: PersistentContext<CounterMsg>): Promise<CounterState> => {
    if (msg.type === 'get') {
      reply(ctx, state);
      return state;
    }
    if (ctx.recovering) run.replayed++;
    else await ctx.persist(msg);
    return { total: state.total + msg.amount, adds: state.adds + 1 };
  };
}

let systemCount = 0;

/** Starts a system with one counter actor, sends `amounts`, returns the state it then reports. */
async function runCounter(file: string, amounts: number[], snapshotEvery?: number) {
  const engine = open(file);
  const eventsSpy = vi.spyOn(engine, 'events');
  const snapshotSpy = vi.spyOn(engine, 'latestSnapshot');
  const run: Run = { replayed: 0 };
  const system = startSystem(`journal-test-${++systemCount}`, engine);
  const counter = spawnPersistent(system, counterBehaviour(run), 'counter', 'counter', {
    initialState: { total: 0, adds: 0 },
    ...(snapshotEvery === undefined ? {} : { snapshotEvery }),
  });
  const get = () => query<CounterMsg, CounterState>(counter, () => ({ type: 'get' }), 5_000);
  const recovered = await get();
  for (const amount of amounts) dispatch(counter, { type: 'add', amount });
  const final = await get();
  stop(system);
  engine.close();
  return {
    recovered,
    final,
    replayed: run.replayed,
    eventsOffsets: eventsSpy.mock.calls.map((call) => call[1]),
    snapshotUsed: (await snapshotSpy.mock.results[0]?.value) as PersistedSnapshot | undefined,
  };
}

describe('SqlitePersistenceEngine under a nact persistent actor', () => {
  it('recovers from the journal alone when there is no snapshot', async () => {
    const file = tempDbFile();
    const first = await runCounter(file, [1, 2, 3, 4, 5]);
    expect(first.final).toEqual({ total: 15, adds: 5 });

    const second = await runCounter(file, [10]);
    expect(second.snapshotUsed).toBeUndefined();
    expect(second.eventsOffsets).toEqual([0]);
    expect(second.replayed).toBe(5);
    expect(second.recovered).toEqual({ total: 15, adds: 5 });
    expect(second.final).toEqual({ total: 25, adds: 6 });
  });

  it('recovers from the latest snapshot plus the events after it', async () => {
    const file = tempDbFile();
    const first = await runCounter(file, [1, 2, 3, 4, 5, 6, 7], 3);
    expect(first.final).toEqual({ total: 28, adds: 7 });

    const second = await runCounter(file, [], 3);
    expect(second.snapshotUsed).toMatchObject({ sequenceNumber: 6, data: { total: 21, adds: 6 } });
    expect(second.eventsOffsets).toEqual([6]);
    expect(second.replayed).toBe(1);
    expect(second.recovered).toEqual({ total: 28, adds: 7 });
  });

  it('recovers from a snapshot alone, and keeps numbering after it', async () => {
    const file = tempDbFile();
    await runCounter(file, [5, 5, 5, 5, 5, 5], 3);
    const second = await runCounter(file, [1, 1, 1], 3);
    expect(second.snapshotUsed).toMatchObject({ sequenceNumber: 6, data: { total: 30, adds: 6 } });
    expect(second.replayed).toBe(0);
    expect(second.recovered).toEqual({ total: 30, adds: 6 });
    expect(second.final).toEqual({ total: 33, adds: 9 });

    const check = open(file);
    expect(check.events('counter').map((e) => e.sequenceNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(check.stats('counter').snapshotCount).toBe(2);
    expect((await check.latestSnapshot('counter'))?.sequenceNumber).toBe(9);
  });
});

// ---------------------------------------------------------------------------------------------
// Crash safety: a child process persisting in a loop is SIGKILLed at a random moment.

describe('SqlitePersistenceEngine crash safety', () => {
  let enginePath = '';
  const fixture = join(__dirname, 'fixtures', 'persistLoop.mjs');

  beforeAll(() => {
    const compiled = compileForChild('checkpoint/sqlitePersistenceEngine.ts');
    dirs.push(compiled.outDir);
    enginePath = compiled.modulePath;
  }, 60_000);

  /** Runs the child until it has acknowledged some events, kills it, returns the last acknowledged. */
  async function persistUntilKilled(file: string, killAfterMs: number): Promise<number> {
    const child = spawnProcess(process.execPath, [fixture, enginePath, file, 'FULL'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<NodeJS.Signals | number | null>((resolveExit) =>
      child.on('exit', (code, signal) => resolveExit(signal ?? code)),
    );
    const deadline = Date.now() + 15_000;
    while (!/\n1\n/.test(stdout)) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`child did not start persisting: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, killAfterMs));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const acknowledged = stdout
      .split('\n')
      .filter((line) => /^\d+$/.test(line))
      .map(Number);
    return acknowledged[acknowledged.length - 1] ?? 0;
  }

  it.each([1, 2, 3])('leaves a gapless journal of intact events after kill -9 (run %i)', async () => {
    const file = tempDbFile();
    const killAfterMs = 50 + Math.floor(Math.random() * 400);
    const lastAcknowledged = await persistUntilKilled(file, killAfterMs);
    expect(lastAcknowledged).toBeGreaterThan(0);

    const raw = new Database(file);
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(
        raw.prepare('SELECT count(*) FROM journal WHERE NOT json_valid(data) OR NOT json_valid(tags)').pluck().get(),
      ).toBe(0);
    } finally {
      raw.close();
    }

    const engine = open(file);
    const events = engine.events('crash-test', 0);
    // Every acknowledged event is there; at most the one in flight when killed is extra.
    expect(events.length).toBeGreaterThanOrEqual(lastAcknowledged);
    expect(events.length).toBeLessThanOrEqual(lastAcknowledged + 1);
    events.forEach((e, i) => {
      expect(e.sequenceNumber).toBe(i + 1);
      const data = e.data as { sequenceNr: number; renames: unknown[]; offsets: Record<string, number> };
      expect(data.sequenceNr).toBe(e.sequenceNumber);
      expect(data.renames).toHaveLength(10);
      expect(data.offsets['clickstream:3']).toBe(e.sequenceNumber * 1000 + 999);
      expect(e.tags).toEqual(['checkpoint']);
    });
    // The journal goes on where it stopped.
    await engine.persist(event('crash-test', events.length + 1));
    expect(engine.highestSequenceNr('crash-test')).toBe(events.length + 1);
  });
});
