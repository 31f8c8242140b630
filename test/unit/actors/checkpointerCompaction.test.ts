/**
 * The owner's compaction inside the ETL (architecture.md, "Compaction"): the checkpointer's task of a partition merges
 * its unit's small files as one more commit of its own. Driven by messages, with the fake partition transactions;
 * the lake is real (Parquet files written by the project's encoder, merged on a worker thread, exchanged).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CheckpointerMsg,
  type CommitReply,
  type CompactionReport,
  spawnCheckpointer,
  type TakeoverReply,
} from '../../../src/actors/checkpointer.js';
import { rawSinkId, type RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { decodeCommitMetadata } from '../../../src/checkpoint/commitMetadata.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { rawFilePath } from '../../../src/lake/layout.js';
import { dispatch, query } from '../../../src/system/nact.js';
import { batchOf, clickstreamRows, iotRows } from '../lake/fixtures.js';
import { type FakeTransactions, fakeTransactions } from './fakes/fakePartitionTransactions.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, tempDir, waitFor } from './fakes/testKit.js';

afterEach(cleanUp);

const Q_MS = 20_000;
const TOPIC = 'iot';
const CLICKS = 'clicks';
const DT = '2024-03-01';
const P = 2;
const pad = (n: number): string => String(n).padStart(20, '0');

function start(vacuumGraceMs = 900_000, stage1 = false) {
  const dir = tempDir('sdp-checkpointer-compaction-');
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
    // Driven by compactTick messages only: the interval never passes within a test.
    compaction: { intervalMs: 3_600_000, targetBytes: 128 * 1024 * 1024, vacuumGraceMs },
    kafka: {
      config,
      groupId: 'g',
      tablesOf: () => (stage1 ? ['clickstream', '_rejected'] : ['iot', '_rejected']),
      topicIdOf: async () => null,
      ...(stage1
        ? {
            windowTopic: CLICKS,
            stage1: {
              sizeMs: 60_000,
              watermarkDelayMs: 10_000,
              idleTimeoutMs: 60_000,
              intervalMs: 3_600_000,
              repartitionTopic: 'g-pv-repartition',
              repartitions: () => 2,
            },
          }
        : {}),
      createTransactions: (id) => {
        const fake = fakeTransactions(id);
        transactions.set(id, fake);
        return fake;
      },
      takeOver: async (facts) => {
        await facts.transactions.takeOver();
        const win = stage1 ? '35' : null;
        return { raw: '39', win, source: 'metadata', renamed: 0, missing: 0, deleted: 0, durationMs: 1 };
      },
    },
  });
  const ask = <R>(msg: CheckpointerMsg): Promise<R> => query<CheckpointerMsg, R>(checkpointer, () => msg, Q_MS);
  const unit = join(lakeRoot, 'tables', 'iot', `dt=${DT}`, `p${P}`);
  return { lakeRoot, unit, transactions, ask, checkpointer };
}

/** Committed files of p2: [0-9], [10-19], [20-29] and the newest roll [30-39], a few rows each. */
async function smallFiles(lakeRoot: string, table: 'iot' | 'clickstream' = 'iot'): Promise<string[]> {
  const names: string[] = [];
  for (let first = 0; first < 40; first += 10) {
    const file = rawFilePath(lakeRoot, table, DT, P, first, first + 9);
    await mkdir(dirname(file), { recursive: true });
    const batch = table === 'iot' ? batchOf('iot', iotRows) : batchOf('clickstream', clickstreamRows);
    await getEncoder('hyparquet-writer').encodeToFile(file, table, batch, { rowGroupRows: 1000 });
    names.push(file.split('/').at(-1)!);
  }
  return names;
}

const MERGED = `part-${P}-${pad(0)}-${pad(29)}.parquet`;

function dtEntries(lakeRoot: string): string[] {
  return readdirSync(join(lakeRoot, 'tables', 'iot', `dt=${DT}`)).sort();
}

describe('checkpointer: the owner compacts its partition as one more commit', () => {
  it('commits the merge with the last offset and floors, then exchanges the unit; the newest roll stays', async () => {
    const c = start();
    const names = await smallFiles(c.lakeRoot);
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] });
    const fake = c.transactions.get(`g-iot-${P}`)!;
    let release!: () => void;
    fake.gate = new Promise((resolve) => (release = resolve));
    const report = c.ask<CompactionReport>({ type: 'compactTick', force: true });
    // The commit is under way: the merged tmp file is written, the unit not exchanged yet.
    await waitFor(() => fake.maxConcurrent === 1, 'the compaction commit under way', 10_000);
    expect(readdirSync(c.unit).sort()).toEqual(names);
    expect(dtEntries(c.lakeRoot)).toEqual([`.${MERGED}.a1b2c3.tmp`, `p${P}`]);
    release();
    expect(await report).toEqual([{ topic: TOPIC, partition: P, merged: 1, vacuumed: 0 }]);
    expect(readdirSync(c.unit).sort()).toEqual([MERGED, names[3]]);
    expect(dtEntries(c.lakeRoot)).toEqual([`p${P}`]);
    const [offsets] = fake.commits;
    expect(offsets!.map((o) => o.offset)).toEqual([40n]);
    expect(decodeCommitMetadata(offsets![0]!.metadata)).toEqual({
      v: 1,
      topicId: null,
      raw: '39',
      win: null,
      writer: 'a1b2c3',
      files: [],
      merge: { table: 'iot', dt: DT, first: '0', last: '29' },
    });
    // The old version waits in _swap for the vacuum.
    expect(readdirSync(join(c.lakeRoot, '_swap', 'iot', `dt=${DT}`))).toEqual([`p${P}.${MERGED.slice(0, -8)}`]);
  });

  it('a roll of the same partition waits for the compaction commit and its exchange', async () => {
    const c = start();
    await smallFiles(c.lakeRoot);
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const fake = c.transactions.get(`g-iot-${P}`)!;
    let release!: () => void;
    fake.gate = new Promise((resolve) => (release = resolve));
    const report = c.ask<CompactionReport>({ type: 'compactTick', force: true });
    await waitFor(() => fake.maxConcurrent === 1, 'the compaction commit under way', 10_000);
    const to = rawFilePath('', 'iot', DT, P, 40, 49).replace(/^\//, '');
    const event: RawCheckpoint = {
      type: 'raw',
      sink: rawSinkId(TOPIC, P),
      topic: TOPIC,
      partition: P,
      offset: '49',
      renames: [{ from: `tables/iot/dt=${DT}/.${to.split('/').at(-1)}.a1b2c3.tmp`, to }],
      rows: 10,
      rejected: 0,
    };
    await mkdir(dirname(join(c.lakeRoot, event.renames[0]!.from)), { recursive: true });
    await writeFile(join(c.lakeRoot, event.renames[0]!.from), 'rows');
    let rolled = false;
    const roll = c.ask<CommitReply>({ type: 'commit', event, taskEpoch: partitions[0]!.taskEpoch }).then((r) => {
      rolled = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(rolled).toBe(false);
    expect(fake.commits).toEqual([]);
    release();
    expect(await roll).not.toHaveProperty('rejected');
    await report;
    // One transaction at a time, the compaction's first; the roll lands in the exchanged unit.
    expect(fake.maxConcurrent).toBe(1);
    expect(fake.commits.map((offsets) => decodeCommitMetadata(offsets[0]!.metadata)?.merge)).toEqual([
      { table: 'iot', dt: DT, first: '0', last: '29' },
      undefined,
    ]);
    expect(readdirSync(c.unit).sort()).toEqual([
      MERGED,
      `part-${P}-${pad(30)}-${pad(39)}.parquet`,
      to.split('/').at(-1),
    ]);
  });

  it.each([
    ['fenced', new SdpError(ErrorCodes.KAFKA_TRANSACTION_FENCED, 'INVALID_PRODUCER_EPOCH')],
    ['failed', new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'EndTxn timed out')],
  ])('a %s compaction commit leaves no tmp file and no swap, and drops the task', async (_, error) => {
    const c = start();
    const names = await smallFiles(c.lakeRoot);
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] });
    const fake = c.transactions.get(`g-iot-${P}`)!;
    fake.failNext = error;
    expect(await c.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([
      { topic: TOPIC, partition: P, merged: 0, vacuumed: 0 },
    ]);
    expect(readdirSync(c.unit).sort()).toEqual(names);
    expect(dtEntries(c.lakeRoot)).toEqual([`p${P}`]);
    expect(existsSync(join(c.lakeRoot, '_swap'))).toBe(false);
    expect(fake.closed).toBe(true);
  });

  it('vacuums the old versions of its units once lake.vacuum_grace passed', async () => {
    const c = start(0);
    await smallFiles(c.lakeRoot);
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [P] });
    const [first] = await c.ask<CompactionReport>({ type: 'compactTick', force: true });
    expect(first!.merged).toBe(1);
    expect(first!.vacuumed).toBe(1);
    expect(readdirSync(join(c.lakeRoot, '_swap', 'iot', `dt=${DT}`))).toEqual([]);
  });

  it('with stage 1 (windows across members): the same raw and win floors, the page views left to the next roll', async () => {
    const c = start(900_000, true);
    await smallFiles(c.lakeRoot, 'clickstream');
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: CLICKS, partitions: [P] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const M = 1_700_000_040_000;
    const views: CheckpointerMsg = {
      type: 'pageViews',
      topic: CLICKS,
      partition: P,
      taskEpoch: partitions[0]!.taskEpoch,
      generation: 0,
      caughtUp: false,
      batch: { lastOffset: '39', maxEventTimeMs: M, counts: [{ windowStartMs: M, url: '/a', count: 3 }], lateCount: 0 },
    };
    dispatch(c.checkpointer, views);
    expect(await c.ask<CompactionReport>({ type: 'compactTick', force: true })).toEqual([
      { topic: CLICKS, partition: P, merged: 1, vacuumed: 0 },
    ]);
    const fake = c.transactions.get(`g-${CLICKS}-${P}`)!;
    expect(fake.commits.map((offsets) => offsets.map((o) => o.offset))).toEqual([[36n]]);
    expect(decodeCommitMetadata(fake.commits[0]![0]!.metadata)).toMatchObject({
      raw: '39',
      win: '35',
      merge: { table: 'clickstream', dt: DT, first: '0', last: '29' },
    });
    expect(fake.records).toEqual([[]]);
  });
});
