import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PersistedEvent } from 'nact/lib/persistence/index.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECKPOINTER_PERSISTENCE_KEY } from '../../../src/checkpoint/journalSchema.js';
import {
  spawnCheckpointer,
  type CheckpointerMsg,
  type CommitReply,
  type LakeRecovery,
} from '../../../src/actors/checkpointer.js';
import {
  aggSinkId,
  applyCheckpoint,
  emptyCheckpointState,
  rawSinkId,
  type AggCheckpoint,
  type CheckpointEvent,
  type CheckpointState,
  type RawCheckpoint,
} from '../../../src/checkpoint/checkpointState.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { ErrorCodes, isRetriable, type SdpError } from '../../../src/errors.js';
import { query, spawn, type AnyRef, type Ref, type SystemRef } from '../../../src/system/nact.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, stopSystem, tempDir } from './fakes/testKit.js';

afterEach(cleanUp);

const TIMEOUT_MS = 5_000;
const DT = 'dt=2024-03-01';

interface Store {
  dir: string;
  lakeRoot: string;
  dbFile: string;
}

function newStore(): Store {
  const dir = tempDir('sdp-checkpointer-');
  return { dir, lakeRoot: join(dir, 'lake'), dbFile: join(dir, 'checkpoints', 'journal.db') };
}

function openEngine(store: Store): SqlitePersistenceEngine {
  const engine = new SqlitePersistenceEngine(store.dbFile, { synchronous: 'NORMAL' });
  onCleanUp(() => engine.close());
  return engine;
}

interface Running {
  system: SystemRef;
  checkpointer: Ref<CheckpointerMsg>;
  committed: Array<{ event: CheckpointEvent; state: CheckpointState }>;
}

/** A system on `engine` with a checkpointer under `parent` (the system itself by default). */
function startCheckpointer(
  store: Store,
  engine: SqlitePersistenceEngine,
  snapshotEvery: number,
  parentOf?: (system: SystemRef) => AnyRef,
): Running {
  const system = newSystem(engine);
  const committed: Running['committed'] = [];
  const checkpointer = spawnCheckpointer(parentOf ? parentOf(system) : system, {
    lakeRoot: store.lakeRoot,
    logger: silentLogger,
    snapshotEvery,
    onCommitted: (event, state) => committed.push({ event: structuredClone(event), state: structuredClone(state) }),
  });
  return { system, checkpointer, committed };
}

function commit(ref: Ref<CheckpointerMsg>, event: CheckpointEvent, timeoutMs = TIMEOUT_MS): Promise<CommitReply> {
  return query<CheckpointerMsg, CommitReply>(ref, () => ({ type: 'commit', event }), timeoutMs);
}

function read(ref: Ref<CheckpointerMsg>): Promise<CheckpointState> {
  return query<CheckpointerMsg, CheckpointState>(ref, () => ({ type: 'read' }), TIMEOUT_MS);
}

function recoverLake(ref: Ref<CheckpointerMsg>): Promise<LakeRecovery> {
  return query<CheckpointerMsg, LakeRecovery>(ref, () => ({ type: 'recoverLake' }), TIMEOUT_MS);
}

function rawFile(partition: number, first: number, last: number): string {
  const pad = (n: number): string => String(n).padStart(20, '0');
  return `tables/clickstream/${DT}/p${partition}/part-${partition}-${pad(first)}-${pad(last)}.parquet`;
}

function rejectedFile(partition: number, first: number, last: number): string {
  const pad = (n: number): string => String(n).padStart(20, '0');
  return `tables/_rejected/${DT}/p${partition}-clickstream/part-clickstream-${partition}-${pad(first)}-${pad(last)}.parquet`;
}

function aggFile(seq: number): string {
  return `tables/clickstream_agg/${DT}/agg/part-${String(seq).padStart(20, '0')}.parquet`;
}

function rawEvent(partition: number, first: number, last: number, withRejected = false): RawCheckpoint {
  const files = [rawFile(partition, first, last), ...(withRejected ? [rejectedFile(partition, first, last)] : [])];
  return {
    type: 'raw',
    sink: rawSinkId('clickstream', partition),
    topic: 'clickstream',
    partition,
    offset: String(last),
    renames: files.map((to) => ({ from: `${to}.tmp`, to })),
    rows: last - first + 1,
    rejected: withRejected ? 1 : 0,
  };
}

function aggEvent(seq: number, offsets: Record<string, string>): AggCheckpoint {
  return {
    type: 'agg',
    sink: aggSinkId('clickstream'),
    topic: 'clickstream',
    seq,
    offsets,
    state: {
      version: 1,
      note: `state after checkpoint ${seq}`,
      open: [{ startMs: 60_000 * seq, counts: [{ url: '/a', count: seq }] }],
    },
    renames: [{ from: `${aggFile(seq)}.tmp`, to: aggFile(seq) }],
    rows: 1,
  };
}

/** Writes the tmp file of every rename of `event`, content = the final name (to check it moved). */
async function writeTmpFiles(store: Store, event: CheckpointEvent): Promise<void> {
  for (const { from, to } of event.renames) {
    const path = join(store.lakeRoot, from);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `content of ${to}`);
  }
}

async function expectRenamed(store: Store, event: CheckpointEvent): Promise<void> {
  await Promise.all(
    event.renames.map(async ({ from, to }) => {
      expect(existsSync(join(store.lakeRoot, from)), `${from} should be gone`).toBe(false);
      expect(await readFile(join(store.lakeRoot, to), 'utf8')).toBe(`content of ${to}`);
    }),
  );
}

async function commitAll(store: Store, ref: Ref<CheckpointerMsg>, events: CheckpointEvent[]): Promise<void> {
  for (const event of events) {
    await writeTmpFiles(store, event);
    await commit(ref, event);
  }
}

const fold = (events: CheckpointEvent[]): CheckpointState => events.reduce(applyCheckpoint, emptyCheckpointState());

describe('checkpointer: commit', () => {
  it('persists each commit, applies its renames, replies the checkpoint count and serves the state on read', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const { checkpointer } = startCheckpointer(store, engine, 100);
    const agg = aggEvent(1, { '0': '4', '1': '2' });
    const events = [rawEvent(0, 0, 9, true), agg, rawEvent(1, 0, 6)];

    const replies: CommitReply[] = [];
    for (const event of events) {
      await writeTmpFiles(store, event);
      replies.push(await commit(checkpointer, event));
      await expectRenamed(store, event);
    }

    expect(replies).toEqual([{ checkpoints: 1 }, { checkpoints: 2 }, { checkpoints: 3 }]);
    const state = await read(checkpointer);
    expect(state).toEqual(fold(events));
    expect(state.offsets).toEqual({
      'raw:clickstream:0': { '0': '9' },
      'raw:clickstream:1': { '1': '6' },
      'agg:clickstream': { '0': '4', '1': '2' },
    });
    expect(state.aggregators).toEqual({ 'agg:clickstream': { seq: 1, state: agg.state } });
    // Each commit is one journal event: the commit point.
    expect(engine.stats(CHECKPOINTER_PERSISTENCE_KEY).eventCount).toBe(3);
    expect(engine.events(CHECKPOINTER_PERSISTENCE_KEY).map((e) => e.data)).toEqual(events);
  });

  it('calls onCommitted after each commit with the event and the new state', async () => {
    const store = newStore();
    const { checkpointer, committed } = startCheckpointer(store, openEngine(store), 100);
    const events = [rawEvent(0, 0, 3), aggEvent(1, { '0': '1' })];
    await commitAll(store, checkpointer, events);

    expect(committed).toEqual([
      { event: events[0], state: fold(events.slice(0, 1)) },
      { event: events[1], state: fold(events) },
    ]);
  });

  it('rejects a commit that would move a sink backwards: no reply, nothing persisted, nothing renamed', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const crashes: Error[] = [];
    const { checkpointer, committed } = startCheckpointer(store, engine, 100, (system) =>
      spawn<undefined, unknown>(system, (s) => s, 'supervisor', {
        onCrash: (_msg, err, ctx) => {
          crashes.push(err);
          return ctx.stopChild;
        },
      }),
    );
    const good = rawEvent(0, 0, 10);
    await commitAll(store, checkpointer, [good]);
    const before = await read(checkpointer);

    const backwards = rawEvent(0, 3, 5);
    await writeTmpFiles(store, backwards);
    await expect(commit(checkpointer, backwards, 500)).rejects.toThrow(/Query Timeout|stopped/);

    expect(crashes.map((e) => e.message)).toEqual([expect.stringMatching(/offset 5 is behind the committed 10/)]);
    expect(crashes.map((e) => (e as SdpError).code)).toEqual([ErrorCodes.CHECKPOINT_BACKWARDS]);
    // Escalated as retriable: the supervisor restarts the ETL from the last checkpoint.
    expect(crashes.map(isRetriable)).toEqual([true]);
    expect(engine.stats(CHECKPOINTER_PERSISTENCE_KEY).eventCount).toBe(1);
    expect(existsSync(join(store.lakeRoot, backwards.renames[0]!.from))).toBe(true);
    expect(existsSync(join(store.lakeRoot, backwards.renames[0]!.to))).toBe(false);
    expect(committed).toHaveLength(1);

    // A fresh checkpointer on the same store has the state from before the refused commit.
    const engine2 = openEngine(store);
    const { checkpointer: again } = startCheckpointer(store, engine2, 100);
    expect(await read(again)).toEqual(before);
  });
});

describe('checkpointer: recovery of its own state', () => {
  it('a new system on the same store replays the journal to the same state, and goes on from there', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const first = startCheckpointer(store, engine, 100);
    const events = [
      rawEvent(0, 0, 9),
      aggEvent(1, { '0': '5' }),
      rawEvent(0, 10, 19, true),
      aggEvent(2, { '0': '15', '1': '3' }),
    ];
    await commitAll(store, first.checkpointer, events);
    const before = await read(first.checkpointer);
    stopSystem(first.system);
    engine.close();

    const engine2 = openEngine(store);
    const eventsSpy = vi.spyOn(engine2, 'events');
    const second = startCheckpointer(store, engine2, 100);
    const after = await read(second.checkpointer);

    expect(after).toEqual(before);
    expect(after).toEqual(fold(events));
    expect(eventsSpy).toHaveBeenCalledWith(CHECKPOINTER_PERSISTENCE_KEY, 0);
    expect(eventsSpy.mock.results[0]!.value).toHaveLength(4);
    // Replay is not a commit: nothing is announced again.
    expect(second.committed).toEqual([]);

    // The journal continues after the replayed events (no sequence clash).
    const next = rawEvent(1, 0, 4);
    await writeTmpFiles(store, next);
    expect(await commit(second.checkpointer, next)).toEqual({ checkpoints: 5 });
    expect(engine2.events(CHECKPOINTER_PERSISTENCE_KEY).map((e) => e.sequenceNumber)).toEqual([1, 2, 3, 4, 5]);
  });

  it('with snapshotEvery 2, recovers from the latest snapshot plus the journal after it', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const first = startCheckpointer(store, engine, 2);
    const events = [
      rawEvent(0, 0, 9),
      aggEvent(1, { '0': '5' }),
      rawEvent(1, 0, 4),
      aggEvent(2, { '0': '9', '1': '4' }),
      rawEvent(0, 10, 12),
    ];
    await commitAll(store, first.checkpointer, events);
    const before = await read(first.checkpointer);
    stopSystem(first.system);

    const snapshot = await engine.latestSnapshot(CHECKPOINTER_PERSISTENCE_KEY);
    expect(snapshot?.sequenceNumber).toBe(4);
    expect(snapshot?.data).toEqual(fold(events.slice(0, 4)));
    // Drop the journal the snapshot covers: only snapshot + event 5 can give the state back now.
    expect(engine.compactJournal(CHECKPOINTER_PERSISTENCE_KEY, 4)).toBe(4);
    engine.close();

    const engine2 = openEngine(store);
    const snapshotSpy = vi.spyOn(engine2, 'latestSnapshot');
    const eventsSpy = vi.spyOn(engine2, 'events');
    const second = startCheckpointer(store, engine2, 2);
    const after = await read(second.checkpointer);

    expect(after).toEqual(before);
    expect(snapshotSpy).toHaveBeenCalledWith(CHECKPOINTER_PERSISTENCE_KEY);
    expect((await snapshotSpy.mock.results[0]!.value)?.sequenceNumber).toBe(4);
    expect(eventsSpy).toHaveBeenCalledWith(CHECKPOINTER_PERSISTENCE_KEY, 4);
    expect(eventsSpy.mock.results[0]!.value.map((e: PersistedEvent) => e.data)).toEqual([events[4]]);
  });
});

describe('checkpointer: recoverLake', () => {
  it('re-applies a committed checkpoint whose renames never happened (crash right after the persist)', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const event = rawEvent(0, 0, 9, true);
    const agg = aggEvent(1, { '0': '9' });
    await writeTmpFiles(store, event);
    await writeTmpFiles(store, agg);
    // What a crash between the journal commit and the renames leaves behind.
    await engine.persist(new PersistedEvent(event, 1, CHECKPOINTER_PERSISTENCE_KEY, []));
    await engine.persist(new PersistedEvent(agg, 2, CHECKPOINTER_PERSISTENCE_KEY, []));

    const { checkpointer } = startCheckpointer(store, engine, 100);
    const recovery = await recoverLake(checkpointer);

    expect(recovery).toEqual({ renamed: 3, deletedTmpFiles: [] });
    await expectRenamed(store, event);
    await expectRenamed(store, agg);
    expect(await read(checkpointer)).toEqual(fold([event, agg]));
  });

  it('re-applies the latest checkpoint of a sink when its final file went back to tmp', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const { checkpointer } = startCheckpointer(store, engine, 100);
    const older = rawEvent(0, 0, 9);
    const latest = rawEvent(0, 10, 19, true);
    await commitAll(store, checkpointer, [older, latest]);
    for (const { from, to } of latest.renames) await rename(join(store.lakeRoot, to), join(store.lakeRoot, from));

    const recovery = await recoverLake(checkpointer);

    expect(recovery.deletedTmpFiles).toEqual([]);
    expect(recovery.renamed).toBe(latest.renames.length);
    await expectRenamed(store, latest);
    await expectRenamed(store, older);
  });

  it('applies a rename stored before units into the unit of its final file', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const { checkpointer } = startCheckpointer(store, engine, 100);
    const inUnit = rawEvent(0, 0, 9);
    // The same checkpoint as a version before units journaled it: tmp and final in the dt directory.
    const flat = (p: string): string => p.replace('/p0/', '/');
    const legacy: RawCheckpoint = {
      ...inUnit,
      renames: inUnit.renames.map((r) => ({ from: flat(r.from), to: flat(r.to) })),
    };
    await commitAll(store, checkpointer, [legacy]);
    const [{ from, to }] = inUnit.renames as [{ from: string; to: string }];
    expect(await readFile(join(store.lakeRoot, to), 'utf8')).toBe(`content of ${flat(to)}`);
    // A crash before the rename: recovery applies the journaled rename, into the unit too.
    await rename(join(store.lakeRoot, to), join(store.lakeRoot, flat(from)));

    await recoverLake(checkpointer);

    expect(await readFile(join(store.lakeRoot, to), 'utf8')).toBe(`content of ${flat(to)}`);
    expect(existsSync(join(store.lakeRoot, flat(to)))).toBe(false);
    expect(existsSync(join(store.lakeRoot, flat(from)))).toBe(false);
  });

  it('deletes every *.tmp that no committed checkpoint names, and nothing else', async () => {
    const store = newStore();
    const engine = openEngine(store);
    const { checkpointer } = startCheckpointer(store, engine, 100);
    const event = rawEvent(0, 0, 9);
    await commitAll(store, checkpointer, [event]);
    const orphans = [
      `${rawFile(0, 10, 14)}.tmp`,
      `${rejectedFile(0, 10, 14)}.tmp`,
      `${aggFile(7)}.tmp`,
      `tables/iot/dt=2024-03-02/part-3-${'0'.repeat(20)}-${'0'.repeat(19)}5.parquet.tmp`,
    ];
    for (const orphan of orphans) {
      await mkdir(dirname(join(store.lakeRoot, orphan)), { recursive: true });
      await writeFile(join(store.lakeRoot, orphan), 'half-written');
    }
    // Not tmp files: left alone.
    const keep = [`tables/iot/dt=2024-03-02/notes.txt`, `tables/iot/dt=2024-03-02/part-9.parquet`];
    for (const file of keep) await writeFile(join(store.lakeRoot, file), 'keep');

    const recovery = await recoverLake(checkpointer);

    expect(recovery.deletedTmpFiles).toEqual(orphans.map((o) => join(store.lakeRoot, o)).sort());
    for (const orphan of orphans) expect(existsSync(join(store.lakeRoot, orphan))).toBe(false);
    for (const file of keep) expect(existsSync(join(store.lakeRoot, file))).toBe(true);
    await expectRenamed(store, event);
    // Recovery changes no checkpoint state.
    expect(await read(checkpointer)).toEqual(fold([event]));
  });

  it('is idempotent on a lake where every rename already happened', async () => {
    const store = newStore();
    const { checkpointer } = startCheckpointer(store, openEngine(store), 100);
    const events = [rawEvent(0, 0, 9), aggEvent(1, { '0': '9' })];
    await commitAll(store, checkpointer, events);

    expect(await recoverLake(checkpointer)).toEqual({ renamed: 2, deletedTmpFiles: [] });
    expect(await recoverLake(checkpointer)).toEqual({ renamed: 2, deletedTmpFiles: [] });
    for (const event of events) await expectRenamed(store, event);
  });
});
