/**
 * Stage 1 of the windows across members in the checkpointer (architecture.md, "Windows across members"): a clickstream
 * partition's page views ride in its own Kafka transaction, with a roll or as marks alone every interval. Driven by
 * messages, with fakes only for what is outside the actor (the transactional producer, the takeover's I/O).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  spawnCheckpointer,
  type CheckpointerMsg,
  type CommitReply,
  type KafkaCommit,
  type PartitionLostMsg,
  type TakeoverReply,
} from '../../../src/actors/checkpointer.js';
import { rawSinkId, type RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { decodeCommitMetadata } from '../../../src/checkpoint/commitMetadata.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { parseConfig } from '../../../src/config/load.js';
import type { TaskOffset, TaskRecord } from '../../../src/kafka/partitionTransactions.js';
import { type FakeTransactions, fakeTransactions } from './fakes/fakePartitionTransactions.js';
import { dispatch, query, spawn } from '../../../src/system/nact.js';
import { decodeRepartitionRecord } from '../../../src/windows/repartitionRecords.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, sleep, tempDir, waitFor } from './fakes/testKit.js';

afterEach(cleanUp);

const Q_MS = 5_000;
const TOPIC = 'clicks';
const R = 2;
const INTERVAL_MS = 200;
const M = 1_700_000_040_000;

interface Commit {
  records: TaskRecord[];
  offsets: TaskOffset[];
}

function start(win: string | null) {
  const dir = tempDir('sdp-checkpointer-stage1-');
  const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'journal.db'), { synchronous: 'NORMAL' });
  onCleanUp(() => engine.close());
  const system = newSystem(engine);
  const { config } = parseConfig('{}', 'test.yml', {});
  const transactions = new Map<string, FakeTransactions>();
  const committed: Array<[string, number, string, KafkaCommit['kind']]> = [];
  const checkpointer = spawnCheckpointer(system, {
    lakeRoot: join(dir, 'lake'),
    logger: silentLogger,
    snapshotEvery: 100,
    storeId: 'a1b2c3',
    kafka: {
      config,
      groupId: 'g',
      windowTopic: TOPIC,
      tablesOf: () => ['clickstream', '_rejected'],
      topicIdOf: async () => null,
      createTransactions: (id) => {
        const fake = fakeTransactions(id);
        transactions.set(id, fake);
        return fake;
      },
      takeOver: async () => ({
        raw: '-1',
        win,
        source: 'metadata',
        renamed: 0,
        missing: 0,
        deleted: 0,
        durationMs: 1,
      }),
      stage1: {
        sizeMs: 60_000,
        watermarkDelayMs: 10_000,
        idleTimeoutMs: 60_000,
        intervalMs: INTERVAL_MS,
        repartitionTopic: 'g-pv-repartition',
        repartitions: () => R,
      },
      onKafkaCommitted: (topic, partition, next, commit) => committed.push([topic, partition, next, commit.kind]),
    },
  });
  onCleanUp(async () => {
    await query(checkpointer, () => ({ type: 'closeTasks' }), Q_MS);
  });
  // The ingest: hears when a partition is lost.
  const lost: PartitionLostMsg[] = [];
  const ingest = spawn<null, PartitionLostMsg>(
    system,
    (s, msg) => {
      if (msg.type === 'partitionLost') lost.push(msg);
      return s;
    },
    'ingest',
  );
  // Asked as the real ingest asks (a query, whose reply address is gone once answered), naming the ingest as owner.
  async function takeOver(partition: number): Promise<{ taskEpoch: number; agg: string | null }> {
    const reply = await query<CheckpointerMsg, TakeoverReply>(
      checkpointer,
      () => ({ type: 'takeOver', topic: TOPIC, partitions: [partition], owner: ingest }),
      Q_MS,
    );
    if (!reply.ok) throw new Error(reply.error);
    return reply.partitions[0]!;
  }
  const ask = <T>(msg: CheckpointerMsg): Promise<T> => query<CheckpointerMsg, T>(checkpointer, () => msg, Q_MS);
  return { checkpointer, transactions, committed, lost, takeOver, ask };
}

function pageViews(partition: number, taskEpoch: number, lastOffset: number, urls: string[], generation = 0) {
  const counts = new Map<string, number>();
  for (const url of urls) counts.set(url, (counts.get(url) ?? 0) + 1);
  return {
    type: 'pageViews' as const,
    topic: TOPIC,
    partition,
    taskEpoch,
    generation,
    caughtUp: false,
    batch: {
      lastOffset: String(lastOffset),
      maxEventTimeMs: M + 30_000,
      counts: [...counts].map(([url, count]) => ({ windowStartMs: M, url, count })),
      lateCount: 0,
    },
  };
}

/** A roll with no file (its renames are the per-partition commit's concern, tested beside). */
function roll(partition: number, first: number, last: number): RawCheckpoint {
  return {
    type: 'raw',
    sink: rawSinkId(TOPIC, partition),
    topic: TOPIC,
    partition,
    offset: String(last),
    renames: [],
    rows: last - first + 1,
    rejected: 0,
  };
}

const commitsOf = (tx: FakeTransactions): Commit[] =>
  tx.commits.map((offsets, i) => ({ offsets, records: tx.records[i]! }));
const decoded = (commit: Commit) => commit.records.map((r) => decodeRepartitionRecord(r.key, r.value as string));
const pvOf = (commit: Commit): number =>
  decoded(commit).reduce((n, r) => n + r.windows.reduce((m, w) => m + w.counts.reduce((k, c) => k + c.count, 0), 0), 0);

describe('checkpointer: stage 1 of the windows across members', () => {
  it('answers the committed win floor as the partition actor’s aggregator offset ("-1" without one)', async () => {
    expect((await start('41').takeOver(1)).agg).toBe('41');
    expect((await start(null).takeOver(1)).agg).toBe('-1');
  });

  it('a roll carries the page views read so far once a mark is due, to every repartition partition, and win in its metadata', async () => {
    const c = start(null);
    const { taskEpoch } = await c.takeOver(0);
    const tx = c.transactions.get(`g-${TOPIC}-0`)!;
    dispatch(c.checkpointer, pageViews(0, taskEpoch, 9, ['/a', '/b', '/a']));
    dispatch(c.checkpointer, pageViews(0, taskEpoch, 14, ['/c']));
    // A roll before the interval passed carries no records (no repartition partitions in its transaction), and the
    // group's offset stays at the window floor + 1. It is held under way past the interval, and the next roll queued
    // behind it before it ends, so the mark timer (which skips a task with a transaction under way) leaves the counts
    // to that roll.
    let release!: () => void;
    tx.gate = new Promise<void>((resolve) => (release = resolve));
    const first = c.ask<CommitReply>({ type: 'commit', event: roll(0, 0, 5), taskEpoch });
    await sleep(2 * INTERVAL_MS);
    const second = c.ask<CommitReply>({ type: 'commit', event: roll(0, 6, 11), taskEpoch });
    await c.ask({ type: 'read' }); // answered after the second roll was queued on the task
    release();
    expect(await first).toEqual({ checkpoints: 1 });
    expect(await second).toEqual({ checkpoints: 2 });
    const [early, commit] = commitsOf(tx);
    expect(early!.records).toEqual([]);
    expect(early!.offsets[0]!.offset).toBe(0n);
    expect(commit!.records.map((r) => [r.topic, r.partition])).toEqual([
      ['g-pv-repartition', 0],
      ['g-pv-repartition', 1],
    ]);
    expect(pvOf(commit!)).toBe(4);
    for (const r of decoded(commit!))
      expect([r.throughOffset, r.watermarkMs, r.sourcePartition]).toEqual(['14', M + 20_000, 0]);
    const metadata = decodeCommitMetadata(commit!.offsets[0]!.metadata);
    expect([metadata!.raw, metadata!.win]).toEqual(['11', '14']);
    // The group's offset is the smaller floor + 1, and that is what the ingest hears is durable.
    expect(commit!.offsets[0]!.offset).toBe(12n);
    expect(c.committed).toEqual([
      [TOPIC, 0, '0', 'roll'],
      [TOPIC, 0, '12', 'roll'],
    ]);
  });

  it('commits marks alone every interval while no file rolls, and nothing when nothing changed', async () => {
    const c = start('99');
    const { taskEpoch } = await c.takeOver(3);
    const tx = c.transactions.get(`g-${TOPIC}-3`)!;
    // The first mark of a new owner goes out once the interval passed: its source is known to stage 2 at once.
    await waitFor(() => tx.commits.length === 1, 'the first mark');
    dispatch(c.checkpointer, pageViews(3, taskEpoch, 120, ['/x', '/y']));
    await waitFor(() => tx.commits.length === 2, 'the counts as a mark');
    expect(pvOf(commitsOf(tx)[1]!)).toBe(2);
    const metadata = decodeCommitMetadata(tx.commits[1]![0]!.metadata);
    expect([metadata!.raw, metadata!.win]).toEqual(['-1', '120']);
    expect(tx.commits[1]![0]!.offset).toBe(0n); // the raw floor is behind: min + 1
    await sleep(3 * INTERVAL_MS);
    expect(tx.commits).toHaveLength(2);
    // The status counts these as checkpoints (the window checkpoint of members mode), a roll's in the store.
    expect(c.committed.map(([, , , kind]) => kind)).toEqual(['marks', 'marks']);
  });

  it('discards page views of an ownership that ended or of another generation', async () => {
    const c = start(null);
    const first = await c.takeOver(0);
    const second = await c.takeOver(0); // taken over again: a new task epoch
    dispatch(c.checkpointer, pageViews(0, first.taskEpoch, 5, ['/old']));
    dispatch(c.checkpointer, pageViews(0, second.taskEpoch, 6, ['/gen'], 7));
    dispatch(c.checkpointer, pageViews(0, second.taskEpoch, 7, ['/now']));
    await sleep(INTERVAL_MS); // a mark is due: the roll carries the counts (or the mark timer did)
    await c.ask<CommitReply>({ type: 'commit', event: roll(0, 0, 7), taskEpoch: second.taskEpoch });
    const commits = commitsOf(c.transactions.get(`g-${TOPIC}-0`)!).filter((x) => pvOf(x) > 0);
    const urls = decoded(commits[commits.length - 1]!).flatMap((r) =>
      r.windows.flatMap((w) => w.counts.map((x) => x.url)),
    );
    expect(urls).toEqual(['/now']);
  });

  it('a refused mark drops the partition and tells its ingest, which takes it over again', async () => {
    const c = start('5');
    const { taskEpoch } = await c.takeOver(2);
    const tx = c.transactions.get(`g-${TOPIC}-2`)!;
    tx.failNext = new Error('coordinator gone');
    await waitFor(() => c.lost.length === 1, 'partitionLost');
    expect(c.lost[0]).toMatchObject({ type: 'partitionLost', partition: 2, taskEpoch });
    // Its later page views and rolls are refused: the ownership ended.
    const reply = await c.ask<CommitReply>({ type: 'commit', event: roll(2, 6, 9), taskEpoch });
    expect(reply).toMatchObject({ fenced: false });
  });

  it('reports the watermark of each partition it owns, and the topic’s others as not assigned here', async () => {
    const c = start(null);
    const { taskEpoch } = await c.takeOver(1);
    dispatch(c.checkpointer, { type: 'topicPartitions', topic: TOPIC, count: 3 });
    dispatch(c.checkpointer, pageViews(1, taskEpoch, 4, ['/a']));
    const status = await c.ask<Array<{ partition: number; assigned: boolean; watermarkMs: number | null }>>({
      type: 'sourceStatus',
    });
    expect(status.map((s) => [s.partition, s.assigned, s.watermarkMs])).toEqual([
      [0, false, null],
      [1, true, M + 20_000],
      [2, false, null],
    ]);
  });
});
