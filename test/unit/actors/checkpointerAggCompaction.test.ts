/**
 * The process aggregator's compaction inside the ETL (architecture.md, "Compaction"): the checkpointer merges the
 * `agg` units' small files, journals the merge in the checkpoint store (its commit point) and exchanges the unit in its
 * mailbox; the next start completes a journaled merge and deletes a merged tmp file no journal event names. Driven
 * by messages; the lake and the SQLite store are real.
 */
import { existsSync, readdirSync, truncateSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CheckpointerMsg,
  type CommitReply,
  type CompactionReport,
  type LakeRecovery,
  spawnCheckpointer,
} from '../../../src/actors/checkpointer.js';
import { aggSinkId, type CheckpointState } from '../../../src/checkpoint/checkpointState.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { aggFilePath } from '../../../src/lake/layout.js';
import { readFooterSummary } from '../../../src/lake/parquetFooter.js';
import { query } from '../../../src/system/nact.js';
import { type FaultPoint, setCrashForTest, setFaultForTest } from '../../../src/system/faults.js';
import { aggRows, batchOf } from '../lake/fixtures.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, stopSystem, tempDir } from './fakes/testKit.js';

afterEach(async () => {
  setFaultForTest(undefined);
  await cleanUp();
});

const Q_MS = 20_000;
const DT = '2024-03-01';
const STORE = 'a1b2c3';
const pad = (n: number): string => String(n).padStart(20, '0');
const MERGED = `part-${pad(1)}-${pad(3)}.parquet`;

/** A checkpointer of process mode over `dir`'s lake and store; a second one over the same dir is the next start. */
function start(dir: string, compaction = true) {
  const lakeRoot = join(dir, 'lake');
  const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'journal.db'), { synchronous: 'NORMAL' });
  const system = newSystem(engine);
  onCleanUp(() => engine.close());
  const checkpointer = spawnCheckpointer(system, {
    lakeRoot,
    logger: silentLogger,
    snapshotEvery: 100,
    storeId: STORE,
    // Driven by compactTick messages only: the interval never passes within a test.
    ...(compaction
      ? { compaction: { intervalMs: 3_600_000, targetBytes: 128 * 1024 * 1024, vacuumGraceMs: 0, aggregator: true } }
      : {}),
  });
  const ask = <R>(msg: CheckpointerMsg): Promise<R> => query<CheckpointerMsg, R>(checkpointer, () => msg, Q_MS);
  const unit = join(lakeRoot, 'tables', 'clickstream_agg', `dt=${DT}`, 'agg');
  return { lakeRoot, unit, ask, stop: () => stopSystem(system) };
}

/** Window checkpoints 1..4 committed through the store, each with one file in the dt; 4 is the newest. */
async function checkpoints(c: ReturnType<typeof start>): Promise<string[]> {
  const names: string[] = [];
  for (let seq = 1; seq <= 4; seq++) {
    const to = aggFilePath('', DT, seq);
    const from = `tables/clickstream_agg/dt=${DT}/.${to.split('/').at(-1)}.${STORE}.tmp`;
    await mkdir(dirname(join(c.lakeRoot, from)), { recursive: true });
    await getEncoder('hyparquet-writer').encodeToFile(
      join(c.lakeRoot, from),
      'clickstream_agg',
      batchOf('clickstream_agg', aggRows),
      { rowGroupRows: 1000 },
    );
    const event = {
      type: 'agg' as const,
      sink: aggSinkId('clicks'),
      topic: 'clicks',
      seq,
      offsets: { '0': String(seq * 10) },
      state: { seq },
      renames: [{ from, to }],
      rows: aggRows.length,
    };
    expect(await c.ask<CommitReply>({ type: 'commit', event })).toEqual({ checkpoints: seq });
    names.push(to.split('/').at(-1)!);
  }
  return names;
}

async function rowsIn(dir: string): Promise<number> {
  let rows = 0;
  for (const name of readdirSync(dir)) rows += (await readFooterSummary(join(dir, name), 'minute_end')).rows;
  return rows;
}

const dtEntries = (lakeRoot: string): string[] =>
  readdirSync(join(lakeRoot, 'tables', 'clickstream_agg', `dt=${DT}`)).sort();

/** Arms `point`; reaching it throws instead of killing the process, as far as the test needs. */
function crashAt(point: FaultPoint): void {
  setCrashForTest((p) => {
    throw new Error(`crashed at ${p}`);
  });
  setFaultForTest(point);
}

describe('checkpointer: the process aggregator compacts its agg units', () => {
  it('a due round merges the older files, journals the merge, exchanges the unit; the newest checkpoint stays', async () => {
    const c = start(tempDir('sdp-agg-compaction-'));
    const names = await checkpoints(c);
    // Before recoverLake: the store's pending renames come first.
    expect(await c.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([]);
    await c.ask<LakeRecovery>({ type: 'recoverLake' });
    const rowsBefore = await rowsIn(c.unit);
    const report = await c.ask<CompactionReport>({ type: 'compactTick', force: true });
    // The vacuum grace is 0: the old version goes in the same round.
    expect(report).toEqual([{ owner: 'aggregator', merged: 1, vacuumed: 1 }]);
    expect(readdirSync(c.unit).sort()).toEqual([MERGED, names[3]]);
    expect(await rowsIn(c.unit)).toBe(rowsBefore);
    expect(dtEntries(c.lakeRoot)).toEqual(['agg']); // no tmp file left
    const state = await c.ask<CheckpointState>({ type: 'read' });
    expect(state.aggMerge).toEqual({
      type: 'aggMerge',
      unitDir: `tables/clickstream_agg/dt=${DT}/agg`,
      inputs: names.slice(0, 3),
      merged: MERGED,
      tmp: `tables/clickstream_agg/dt=${DT}/.${MERGED}.${STORE}.tmp`,
    });
    // A merge is no checkpoint: the count and the aggregator's offsets stay.
    expect(state.checkpoints).toBe(4);
    expect(state.offsets[aggSinkId('clicks')]).toEqual({ '0': '40' });
    // Nothing more to merge: one merged file and the newest checkpoint's.
    expect(await c.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([
      { owner: 'aggregator', merged: 0, vacuumed: 0 },
    ]);
  });

  it('leaves the agg units alone without the aggregator setting (etl.windows: members)', async () => {
    const c = start(tempDir('sdp-agg-compaction-'), false);
    await checkpoints(c);
    await c.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(await c.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([]);
    expect(readdirSync(c.unit)).toHaveLength(4);
  });

  it('the next start completes a merge journaled before its exchange', async () => {
    const dir = tempDir('sdp-agg-compaction-');
    const first = start(dir);
    const names = await checkpoints(first);
    await first.ask<LakeRecovery>({ type: 'recoverLake' });
    crashAt('agg-compaction-after-commit');
    expect(await first.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([
      { owner: 'aggregator', merged: 0, vacuumed: 0 },
    ]);
    setFaultForTest(undefined);
    // Journaled, not exchanged: readers still list the inputs, the merged tmp file is there.
    expect(readdirSync(first.unit).sort()).toEqual(names);
    expect(dtEntries(dir + '/lake')).toEqual([`.${MERGED}.${STORE}.tmp`, 'agg']);
    first.stop();

    const next = start(dir);
    const recovery = await next.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(recovery.deletedTmpFiles).toEqual([]);
    expect(readdirSync(next.unit).sort()).toEqual([MERGED, names[3]]);
    expect(await rowsIn(next.unit)).toBe(4 * aggRows.length);
    expect(dtEntries(next.lakeRoot)).toEqual(['agg']);
  });

  it('the next start deletes a merged tmp file no journal event names; the unit keeps its files', async () => {
    const dir = tempDir('sdp-agg-compaction-');
    const first = start(dir);
    const names = await checkpoints(first);
    await first.ask<LakeRecovery>({ type: 'recoverLake' });
    crashAt('agg-compaction-after-merged-tmp');
    await first.ask<CompactionReport>({ type: 'compactTick', force: true });
    setFaultForTest(undefined);
    expect(dtEntries(dir + '/lake')).toEqual([`.${MERGED}.${STORE}.tmp`, 'agg']);
    expect((await first.ask<CheckpointState>({ type: 'read' })).aggMerge).toBeUndefined();
    first.stop();

    const next = start(dir);
    const recovery = await next.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(recovery.deletedTmpFiles).toEqual([
      join(dir, 'lake', 'tables', 'clickstream_agg', `dt=${DT}`, `.${MERGED}.${STORE}.tmp`),
    ]);
    expect(readdirSync(next.unit).sort()).toEqual(names);
    expect(existsSync(join(dir, 'lake', '_swap'))).toBe(false);
  });

  it("a journaled merge whose exchange failed is not completed with a later round's tmp file cut short", async () => {
    const dir = tempDir('sdp-agg-compaction-');
    const first = start(dir);
    const names = await checkpoints(first);
    await first.ask<LakeRecovery>({ type: 'recoverLake' });
    // The exchange fails after the journal event: the tmp file goes, the journal still names its path.
    crashAt('agg-compaction-after-version-built');
    await first.ask<CompactionReport>({ type: 'compactTick', force: true });
    const tmp = `.${MERGED}.${STORE}.tmp`;
    expect(dtEntries(dir + '/lake')).toEqual(['agg']);
    expect((await first.ask<CheckpointState>({ type: 'read' })).aggMerge?.tmp).toBe(
      `tables/clickstream_agg/dt=${DT}/${tmp}`,
    );
    // The next round writes the same merge under the same name; the process dies while the worker streams it.
    crashAt('agg-compaction-after-merged-tmp');
    await first.ask<CompactionReport>({ type: 'compactTick', force: true });
    setFaultForTest(undefined);
    first.stop();
    truncateSync(join(dir, 'lake', 'tables', 'clickstream_agg', `dt=${DT}`, tmp), 100);

    const next = start(dir);
    await next.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(readdirSync(next.unit).sort()).toEqual(names);
    expect(await rowsIn(next.unit)).toBe(4 * aggRows.length);
    expect(dtEntries(next.lakeRoot)).toEqual(['agg']);
    // The next round merges them again, from the inputs.
    expect(await next.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([
      { owner: 'aggregator', merged: 1, vacuumed: 1 },
    ]);
    expect(readdirSync(next.unit).sort()).toEqual([MERGED, names[3]]);
    expect(await rowsIn(next.unit)).toBe(4 * aggRows.length);
  });

  it('a journaled merge whose inputs left the unit since (lake compact merged it otherwise) is dropped, not exchanged', async () => {
    const dir = tempDir('sdp-agg-compaction-');
    const first = start(dir);
    const names = await checkpoints(first);
    await first.ask<LakeRecovery>({ type: 'recoverLake' });
    crashAt('agg-compaction-after-commit');
    await first.ask<CompactionReport>({ type: 'compactTick', force: true });
    setFaultForTest(undefined);
    first.stop();
    // As if `lake compact` had merged the unit another way meanwhile: an input is gone.
    const { rm } = await import('node:fs/promises');
    await rm(join(first.unit, names[0]!));

    const next = start(dir);
    await next.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(readdirSync(next.unit).sort()).toEqual(names.slice(1));
    expect(dtEntries(next.lakeRoot)).toEqual(['agg']);
  });
});
