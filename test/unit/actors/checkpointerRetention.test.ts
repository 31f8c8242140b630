/**
 * Retention inside the ETL (architecture.md, "Keeping the lake: retention"): the checkpointer's task of a partition
 * deletes its units of the expired dts on its chain, its record first; the process aggregator's `agg` units in the
 * mailbox. Driven by messages, with the fake partition transactions; the lake is real.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CheckpointerMsg,
  type CommitReply,
  type CompactionReport,
  type ExpiryReport,
  spawnCheckpointer,
  type TakeoverReply,
} from '../../../src/actors/checkpointer.js';
import { rawSinkId, type RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { parseConfig } from '../../../src/config/load.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { aggFilePath, aggTaskFilePath, dtOfMs, rawFilePath } from '../../../src/lake/layout.js';
import { dispatch, query } from '../../../src/system/nact.js';
import { aggRows, batchOf, iotRows } from '../lake/fixtures.js';
import { type FakeTransactions, fakeTransactions } from './fakes/fakePartitionTransactions.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, tempDir, waitFor } from './fakes/testKit.js';

afterEach(cleanUp);

const Q_MS = 20_000;
const TOPIC = 'iot';
const OLD = '2024-03-01';
const TODAY = dtOfMs(Date.now());
const P = 2;

function start(assertLakeRoot: () => void = () => undefined) {
  const dir = tempDir('sdp-checkpointer-retention-');
  const lakeRoot = join(dir, 'lake');
  const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'journal.db'), { synchronous: 'NORMAL' });
  onCleanUp(() => engine.close());
  const system = newSystem(engine);
  const { config } = parseConfig('{}', 'test.yml', {});
  const transactions = new Map<string, FakeTransactions>();
  const checkpointer = spawnCheckpointer(system, {
    lakeRoot,
    logger: silentLogger,
    snapshotEvery: 100,
    storeId: 'a1b2c3',
    // Driven by messages only: the intervals never pass within a test.
    compaction: { intervalMs: 3_600_000, targetBytes: 128 * 1024 * 1024, vacuumGraceMs: 900_000 },
    retention: {
      days: 3,
      intervalMs: 3_600_000,
      topics: { clickstream: 'clicks', iot: TOPIC },
      aggregator: true,
      assertLakeRoot,
    },
    kafka: {
      config,
      groupId: 'g',
      tablesOf: () => ['iot', '_rejected'],
      topicIdOf: async () => null,
      createTransactions: (id) => {
        const fake = fakeTransactions(id);
        transactions.set(id, fake);
        return fake;
      },
      takeOver: async (facts) => {
        await facts.transactions.takeOver();
        return { raw: '39', win: null, source: 'metadata', renamed: 0, missing: 0, deleted: 0, durationMs: 1 };
      },
    },
  });
  const ask = <R>(msg: CheckpointerMsg): Promise<R> => query<CheckpointerMsg, R>(checkpointer, () => msg, Q_MS);
  return { lakeRoot, transactions, ask, checkpointer };
}

/** Committed files of p2: [0-9], [10-19], [20-29] in the old dt, the newest roll [30-39] today. */
async function files(lakeRoot: string): Promise<void> {
  for (let first = 0; first < 40; first += 10) {
    const file = rawFilePath(lakeRoot, 'iot', first < 30 ? OLD : TODAY, P, first, first + 9);
    await mkdir(dirname(file), { recursive: true });
    await getEncoder('hyparquet-writer').encodeToFile(file, 'iot', batchOf('iot', iotRows), { rowGroupRows: 1000 });
  }
}

describe('checkpointer: each owner expires its own files while running', () => {
  it("a task deletes its unit of the expired dt, record first, keeps today's; the dt directory goes", async () => {
    const c = start();
    await files(c.lakeRoot);
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] });
    // Compaction leaves an expired dt to retention: nothing merged there.
    expect(await c.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([
      { topic: TOPIC, partition: P, merged: 0, vacuumed: 0 },
    ]);
    const report = await c.ask<ExpiryReport>({ type: 'expireTick', force: true });
    expect(report).toEqual([{ owner: `${TOPIC}[${P}]`, dts: [OLD], files: 3, failed: false }]);
    expect(existsSync(join(c.lakeRoot, 'tables', 'iot', `dt=${OLD}`))).toBe(false);
    expect(readdirSync(join(c.lakeRoot, 'tables', 'iot', `dt=${TODAY}`, `p${P}`))).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(c.lakeRoot, '_expired', `p-${TOPIC}-${P}.json`), 'utf8'));
    expect(record.partitions[TOPIC][String(P)]).toEqual({ floor: '29', ranges: [['0', '29']] });
    // Nothing in Kafka: the record and the files are the owner's alone.
    expect(c.transactions.get(`g-iot-${P}`)!.commits).toEqual([]);
    expect(await c.ask<ExpiryReport>({ type: 'expireTick', force: true })).toEqual([
      { owner: `${TOPIC}[${P}]`, dts: [], files: 0, failed: false },
    ]);
  });

  it('runs on the task chain: a roll of the partition in flight ends first, its file into the old dt is not lost', async () => {
    const c = start();
    await files(c.lakeRoot);
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const fake = c.transactions.get(`g-iot-${P}`)!;
    let release!: () => void;
    fake.gate = new Promise((resolve) => (release = resolve));
    // A late event's roll into the old dt, its commit held.
    const to = rawFilePath('', 'iot', OLD, P, 40, 49).replace(/^\//, '');
    const from = `tables/iot/dt=${OLD}/.${to.split('/').at(-1)}.a1b2c3.tmp`;
    await writeFile(join(c.lakeRoot, from), 'rows');
    const event: RawCheckpoint = {
      type: 'raw',
      sink: rawSinkId(TOPIC, P),
      topic: TOPIC,
      partition: P,
      offset: '49',
      renames: [{ from, to }],
      rows: 10,
      rejected: 0,
    };
    const roll = c.ask<CommitReply>({ type: 'commit', event, taskEpoch: partitions[0]!.taskEpoch });
    await waitFor(() => fake.maxConcurrent === 1, 'the roll commit under way', 10_000);
    const expiry = c.ask<ExpiryReport>({ type: 'expireTick', force: true });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Waiting behind the roll: nothing deleted yet.
    expect(readdirSync(join(c.lakeRoot, 'tables', 'iot', `dt=${OLD}`, `p${P}`))).toHaveLength(3);
    release();
    expect(await roll).not.toHaveProperty('rejected');
    // The roll renamed its file in before the round listed the unit: it goes with the others, and is recorded.
    expect(await expiry).toEqual([{ owner: `${TOPIC}[${P}]`, dts: [OLD], files: 4, failed: false }]);
    const record = JSON.parse(readFileSync(join(c.lakeRoot, '_expired', `p-${TOPIC}-${P}.json`), 'utf8'));
    expect(record.partitions[TOPIC][String(P)]).toEqual({
      floor: '49',
      ranges: [
        ['0', '29'],
        ['40', '49'],
      ],
    });
  });

  it('a task released during its round writes no record and deletes nothing from there on', async () => {
    let released = false;
    // The lake root check is the round's first step: the partition is revoked right then, the round under way.
    const c = start(() => {
      if (!released) dispatch(c.checkpointer, { type: 'release', topic: TOPIC, partitions: [P] });
      released = true;
    });
    await files(c.lakeRoot);
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] });
    const report = await c.ask<ExpiryReport>({ type: 'expireTick', force: true });
    expect(report).toEqual([{ owner: `${TOPIC}[${P}]`, dts: [], files: 0, failed: false, lost: true }]);
    const records = join(c.lakeRoot, '_expired');
    expect(existsSync(records) ? readdirSync(records) : []).toEqual([]);
    expect(readdirSync(join(c.lakeRoot, 'tables', 'iot', `dt=${OLD}`, `p${P}`))).toHaveLength(3);
  });

  it('the process aggregator expires its agg units once the lake was recovered, with their windows frontier', async () => {
    const c = start();
    const old = aggFilePath(c.lakeRoot, OLD, 7);
    const kept = aggFilePath(c.lakeRoot, TODAY, 9);
    // A stage-2 task's unit left by a switch from etl.windows: members: no task writes it in process mode.
    const orphan = aggTaskFilePath(c.lakeRoot, OLD, 3, 0, 9);
    for (const file of [old, kept, orphan]) {
      await mkdir(dirname(file), { recursive: true });
      await getEncoder('hyparquet-writer').encodeToFile(file, 'clickstream_agg', batchOf('clickstream_agg', aggRows), {
        rowGroupRows: 1000,
      });
    }
    // Before recoverLake: the store's pending renames come first.
    expect(await c.ask<ExpiryReport>({ type: 'expireTick', force: true })).toEqual([]);
    await c.ask({ type: 'recoverLake' });
    expect(await c.ask<ExpiryReport>({ type: 'expireTick', force: true })).toEqual([
      { owner: 'aggregator', dts: [OLD], files: 2, failed: false },
    ]);
    expect([existsSync(old), existsSync(orphan), existsSync(kept)]).toEqual([false, false, true]);
    const record = JSON.parse(readFileSync(join(c.lakeRoot, '_expired', 'agg.json'), 'utf8'));
    expect(record.agg).toEqual({
      seq: '7',
      emitted_until_ms: Math.max(...aggRows.map((r) => Number(r.minute_end))),
    });
  });

  it('a file whose footer cannot be read fails the round before anything is recorded or deleted', async () => {
    const c = start();
    const old = aggFilePath(c.lakeRoot, OLD, 7);
    await mkdir(dirname(old), { recursive: true });
    await writeFile(old, 'not parquet');
    await c.ask({ type: 'recoverLake' });
    expect(await c.ask<ExpiryReport>({ type: 'expireTick', force: true })).toEqual([
      { owner: 'aggregator', dts: [], files: 0, failed: true },
    ]);
    expect(existsSync(old)).toBe(true);
    expect(existsSync(join(c.lakeRoot, '_expired'))).toBe(false);
  });

  it('a lake root retention may not delete in fails the round, nothing deleted', async () => {
    const c = start(() => {
      throw new Error('no .sdp-root marker');
    });
    await files(c.lakeRoot);
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] });
    expect(await c.ask<ExpiryReport>({ type: 'expireTick', force: true })).toEqual([
      { owner: `${TOPIC}[${P}]`, dts: [], files: 0, failed: true },
    ]);
    expect(readdirSync(join(c.lakeRoot, 'tables', 'iot', `dt=${OLD}`, `p${P}`))).toHaveLength(3);
  });
});
