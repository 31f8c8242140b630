/**
 * The checkpointer with Kafka as the commit point of raw rolls (architecture.md, "Growing past one machine"):
 * driven by messages, with fakes only for what is outside it (the partition's transactional producer, the
 * takeover's Kafka and directory I/O). The real ones are tested against the cluster in
 * test/integration/kafka/partitionTransactions.test.ts and test/integration/etl/.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  spawnCheckpointer,
  type CheckpointerMsg,
  type CommitReply,
  type LakeRecovery,
  type TakeoverReply,
} from '../../../src/actors/checkpointer.js';
import { rawSinkId, type CheckpointState, type RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { decodeCommitMetadata } from '../../../src/checkpoint/commitMetadata.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import type { TakeoverFacts } from '../../../src/etl/partitionTakeover.js';
import { type FakeTransactions, fakeTransactions } from './fakes/fakePartitionTransactions.js';
import { dispatch, query, stop, type Ref } from '../../../src/system/nact.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, tempDir } from './fakes/testKit.js';

afterEach(cleanUp);

const Q_MS = 5_000;
const TOPIC = 'iot';
/** A second topic, whose takeovers a test can hold. */
const OTHER = 'clicks';
const TOPIC_ID = 'd98082faa2eb4c93b08476c0acb04693';
const pad = (n: number): string => String(n).padStart(20, '0');

function start(
  floors: { raw: string; source?: 'metadata' | 'file-names' | 'empty' } = { raw: '-1' },
  /** Per transactional id: its first commit (the floors of a partition rebuilt from file names) fails with this. */
  failFirstCommit: ReadonlyMap<string, Error> = new Map(),
  /** Per topic: its takeovers wait for this (Kafka slow to answer) after fencing. */
  holdTakeovers: ReadonlyMap<string, Promise<void>> = new Map(),
) {
  const dir = tempDir('sdp-checkpointer-kafka-');
  const lakeRoot = join(dir, 'lake');
  const engine = new SqlitePersistenceEngine(join(dir, 'checkpoints', 'journal.db'), { synchronous: 'NORMAL' });
  onCleanUp(() => engine.close());
  const system = newSystem(engine);
  const { config } = parseConfig('{}', 'test.yml', {});
  const transactions = new Map<string, FakeTransactions>();
  const takeovers: TakeoverFacts[] = [];
  const checkpointer = spawnCheckpointer(system, {
    lakeRoot,
    logger: silentLogger,
    snapshotEvery: 100,
    storeId: 'a1b2c3',
    kafka: {
      config,
      groupId: 'g',
      tablesOf: (topic) => [topic === TOPIC ? 'iot' : 'clickstream', '_rejected'],
      topicIdOf: async () => TOPIC_ID,
      createTransactions: (id) => {
        const fake = fakeTransactions(id);
        const failure = failFirstCommit.get(id);
        if (failure) fake.failNext = failure;
        transactions.set(id, fake);
        return fake;
      },
      takeOver: async (facts) => {
        takeovers.push(facts);
        await facts.transactions.takeOver();
        await holdTakeovers.get(facts.topic);
        return {
          raw: floors.raw,
          win: null,
          source: floors.source ?? 'metadata',
          renamed: 0,
          missing: 0,
          deleted: 0,
          durationMs: 1,
        };
      },
    },
  });
  const ask = <R>(msg: CheckpointerMsg): Promise<R> => query<CheckpointerMsg, R>(checkpointer, () => msg, Q_MS);
  return { lakeRoot, checkpointer, transactions, takeovers, ask };
}

function roll(partition: number, first: number, last: number): RawCheckpoint {
  const to = `tables/iot/dt=2024-03-01/p${partition}/part-${partition}-${pad(first)}-${pad(last)}.parquet`;
  return {
    type: 'raw',
    sink: rawSinkId(TOPIC, partition),
    topic: TOPIC,
    partition,
    offset: String(last),
    renames: [{ from: `${to}.a1b2c3.tmp`, to }],
    rows: last - first + 1,
    rejected: 0,
  };
}

async function writeTmp(lakeRoot: string, event: RawCheckpoint): Promise<void> {
  for (const { from } of event.renames) {
    await mkdir(dirname(join(lakeRoot, from)), { recursive: true });
    await writeFile(join(lakeRoot, from), 'rows');
  }
}

function commitMsg(event: RawCheckpoint, taskEpoch: number): CheckpointerMsg {
  return { type: 'commit', event, taskEpoch };
}

describe('checkpointer: the per-partition Kafka commit', () => {
  it('takes a partition over under <group>-<topic>-<p> and answers its floors and task epoch', async () => {
    const c = start({ raw: '41' });
    const reply = await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [2] });
    expect(reply).toEqual({ ok: true, partitions: [{ partition: 2, taskEpoch: 1, raw: '41', agg: null }], lost: [] });
    expect(c.takeovers.map((t) => [t.groupId, t.topic, t.partition, t.topicId, t.tables])).toEqual([
      ['g', TOPIC, 2, TOPIC_ID, ['iot', '_rejected']],
    ]);
    expect([...c.transactions.keys()]).toEqual(['g-iot-2']);
    // Floors already in the group with our metadata: nothing committed at the takeover.
    expect(c.transactions.get('g-iot-2')!.commits).toEqual([]);
  });

  // Seen with three members starting together: a member's takeover was fenced by another that got the partition in a
  // newer rebalance, and the whole ETL restarted (every partition taken over again, seconds of nobody reading).
  it('answers a partition whose takeover another holder fenced as lost, and takes the others over', async () => {
    const fenced = new SdpError(ErrorCodes.KAFKA_TRANSACTION_FENCED, 'transactional id g-iot-1 was taken');
    const c = start({ raw: '7', source: 'file-names' }, new Map([['g-iot-1', fenced]]));
    const reply = await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0, 1] });
    expect(reply).toEqual({
      ok: true,
      partitions: [{ partition: 0, taskEpoch: expect.any(Number), raw: '7', agg: null }],
      lost: [{ partition: 1, reason: 'transactional id g-iot-1 was taken' }],
    });
    // The fenced producer is discarded; partition 1 has no task, so a roll of it is refused.
    expect(c.transactions.get('g-iot-1')!.closed).toBe(true);
    expect(c.transactions.get('g-iot-0')!.closed).toBe(false);
    for (const taskEpoch of [1, 2]) {
      const outcome = await c.ask<{ rejected?: string }>(commitMsg(roll(1, 8, 9), taskEpoch));
      expect(outcome.rejected).toMatch(/not the current owner's roll/);
    }
  });

  it('answers a takeover that failed for another reason as failed (the ETL restarts and takes over again)', async () => {
    const timedOut = new SdpError(ErrorCodes.CHECKPOINT_FAILED, 'OffsetFetch timed out');
    const c = start({ raw: '7', source: 'file-names' }, new Map([['g-iot-1', timedOut]]));
    const reply = await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0, 1] });
    expect(reply).toEqual({ ok: false, error: 'OffsetFetch timed out' });
  });

  it('moves the cached raw offset up to what Kafka says at a takeover (a commit this store missed)', async () => {
    const c = start({ raw: '41' });
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [2] });
    const state = await c.ask<CheckpointState>({ type: 'read' });
    expect(state.offsets[rawSinkId(TOPIC, 2)]).toEqual({ 2: '41' });
    // Never backwards: a later takeover that finds the same floor adds nothing.
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [2] });
    expect((await c.ask<CheckpointState>({ type: 'read' })).checkpoints).toBe(1);
  });

  it('commits a roll as offset + 1 with metadata naming its files, then renames and caches it', async () => {
    const c = start();
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const event = roll(0, 0, 99);
    await writeTmp(c.lakeRoot, event);
    expect(await c.ask<CommitReply>(commitMsg(event, partitions[0]!.taskEpoch))).toEqual({ checkpoints: 1 });
    const [offsets] = c.transactions.get('g-iot-0')!.commits;
    expect(offsets!.map((o) => [o.topic, o.partition, o.offset])).toEqual([[TOPIC, 0, 100n]]);
    const metadata = decodeCommitMetadata(offsets![0]!.metadata);
    expect(metadata).toMatchObject({ v: 1, topicId: TOPIC_ID, raw: '99', win: null, writer: 'a1b2c3' });
    expect(metadata!.files).toEqual([{ table: 'iot', dt: '2024-03-01', first: '0', last: '99' }]);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.from))).toBe(false);
    expect(await readFile(join(c.lakeRoot, event.renames[0]!.to), 'utf8')).toBe('rows');
    const state = await c.ask<CheckpointState>({ type: 'read' });
    expect(state.offsets[rawSinkId(TOPIC, 0)]).toEqual({ 0: '99' });
  });

  it('a fenced commit renames nothing, caches nothing, deletes its tmp files and says fenced', async () => {
    const c = start();
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [1] });
    const event = roll(1, 0, 9);
    await writeTmp(c.lakeRoot, event);
    c.transactions.get('g-iot-1')!.failNext = new SdpError(
      ErrorCodes.KAFKA_TRANSACTION_FENCED,
      'INVALID_PRODUCER_EPOCH',
    );
    const reply = await c.ask<CommitReply>(commitMsg(event, 1));
    expect(reply).toEqual({ rejected: 'INVALID_PRODUCER_EPOCH', fenced: true });
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.from))).toBe(false);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.to))).toBe(false);
    expect((await c.ask<CheckpointState>({ type: 'read' })).checkpoints).toBe(0);
    // The producer is gone: a later roll of the same ownership is refused without reaching Kafka.
    expect(c.transactions.get('g-iot-1')!.closed).toBe(true);
    const next = roll(1, 10, 19);
    await writeTmp(c.lakeRoot, next);
    expect(await c.ask<CommitReply>(commitMsg(next, 1))).toMatchObject({ fenced: false });
    expect(c.transactions.get('g-iot-1')!.commits).toEqual([]);
  });

  it('after a failure that is not a fence, keeps the tmp files for the next takeover and renames nothing', async () => {
    const c = start();
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [1] });
    const event = roll(1, 0, 9);
    await writeTmp(c.lakeRoot, event);
    c.transactions.get('g-iot-1')!.failNext = new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'EndTxn timed out');
    expect(await c.ask<CommitReply>(commitMsg(event, 1))).toEqual({ rejected: 'EndTxn timed out', fenced: false });
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.from))).toBe(true);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.to))).toBe(false);
  });

  it('refuses a roll of an ownership that ended (taken over again, or released)', async () => {
    const c = start();
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [3] });
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [3] }); // epoch 2
    const event = roll(3, 0, 9);
    await writeTmp(c.lakeRoot, event);
    expect(await c.ask<CommitReply>(commitMsg(event, 1))).toMatchObject({ fenced: false });
    expect([...c.transactions.values()].flatMap((t) => t.commits)).toEqual([]);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.from))).toBe(true);
    c.checkpointer satisfies Ref<CheckpointerMsg>;
    await c.ask({ type: 'closeTasks' });
    expect([...c.transactions.values()].every((t) => t.closed)).toBe(true);
  });

  it('commits the floors at once for a partition rebuilt from file names (a new or reset group)', async () => {
    const c = start({ raw: '500', source: 'file-names' });
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] });
    const [offsets] = c.transactions.get('g-iot-0')!.commits;
    expect(offsets!.map((o) => o.offset)).toEqual([501n]);
    expect(decodeCommitMetadata(offsets![0]!.metadata)).toMatchObject({ raw: '500', files: [] });
  });

  it("a partition's transaction waiting on Kafka does not hold another partition's commit", async () => {
    const c = start();
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0, 1] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const slow = roll(0, 0, 99);
    const fast = roll(1, 0, 49);
    await writeTmp(c.lakeRoot, slow);
    await writeTmp(c.lakeRoot, fast);
    let open!: () => void;
    c.transactions.get('g-iot-0')!.gate = new Promise<void>((resolve) => (open = resolve));
    const slowReply = c.ask<CommitReply>(commitMsg(slow, partitions[0]!.taskEpoch));
    expect(await c.ask<CommitReply>(commitMsg(fast, partitions[1]!.taskEpoch))).toEqual({ checkpoints: 1 });
    expect(existsSync(join(c.lakeRoot, fast.renames[0]!.to))).toBe(true);
    // Partition 0 is still in its transaction: not renamed, not cached.
    expect(existsSync(join(c.lakeRoot, slow.renames[0]!.from))).toBe(true);
    expect((await c.ask<CheckpointState>({ type: 'read' })).offsets[rawSinkId(TOPIC, 0)]).toBeUndefined();
    open();
    expect(await slowReply).toEqual({ checkpoints: 2 });
    expect(existsSync(join(c.lakeRoot, slow.renames[0]!.to))).toBe(true);
  });

  it('one transaction at a time per partition; a release closes the producer after the one under way', async () => {
    const c = start();
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const fake = c.transactions.get('g-iot-0')!;
    const first = roll(0, 0, 99);
    await writeTmp(c.lakeRoot, first);
    let open!: () => void;
    fake.gate = new Promise<void>((resolve) => (open = resolve));
    const reply = c.ask<CommitReply>(commitMsg(first, partitions[0]!.taskEpoch));
    dispatch(c.checkpointer, { type: 'release', topic: TOPIC, partitions: [0] });
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.closed).toBe(false);
    open();
    expect(await reply).toEqual({ checkpoints: 1 });
    expect(existsSync(join(c.lakeRoot, first.renames[0]!.to))).toBe(true);
    await expect.poll(() => fake.closed).toBe(true);
    expect(fake.maxConcurrent).toBe(1);
  });

  // A rebalance used to hold the whole checkpointer for its takeovers: the ETL's start read one topic, then the other.
  it("a topic's takeover waiting on Kafka holds neither another topic's takeover nor another task's commit", async () => {
    let open!: () => void;
    const c = start({ raw: '-1' }, new Map(), new Map([[OTHER, new Promise<void>((resolve) => (open = resolve))]]));
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const slow = c.ask<TakeoverReply>({ type: 'takeOver', topic: OTHER, partitions: [0, 1] });
    await expect.poll(() => c.takeovers.filter((t) => t.topic === OTHER).length).toBe(2);
    expect(await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [1] })).toMatchObject({
      ok: true,
      partitions: [{ partition: 1 }],
    });
    const event = roll(0, 0, 9);
    await writeTmp(c.lakeRoot, event);
    expect(await c.ask<CommitReply>(commitMsg(event, partitions[0]!.taskEpoch))).toEqual({ checkpoints: 1 });
    open();
    expect(await slow).toMatchObject({ ok: true, partitions: [{ partition: 0 }, { partition: 1 }], lost: [] });
  });

  it("a release waits for the topic's takeover under way, closes what it opened, and the answer says lost", async () => {
    let open!: () => void;
    const c = start({ raw: '-1' }, new Map(), new Map([[OTHER, new Promise<void>((resolve) => (open = resolve))]]));
    const taking = c.ask<TakeoverReply>({ type: 'takeOver', topic: OTHER, partitions: [0, 1] });
    await expect.poll(() => c.takeovers.length).toBe(2);
    // Revoked meanwhile: the release comes after the takeover's tasks exist, and closes partition 0's.
    dispatch(c.checkpointer, { type: 'release', topic: OTHER, partitions: [0] });
    await new Promise((r) => setTimeout(r, 30));
    expect([...c.transactions.values()].some((t) => t.closed)).toBe(false);
    open();
    // Its task ended before the answer: answered lost, not as a partition to read with a task that is gone.
    expect(await taking).toEqual({
      ok: true,
      partitions: [{ partition: 1, taskEpoch: 2, raw: '-1', agg: null }],
      lost: [{ partition: 0, reason: 'its task ended before the takeover was answered' }],
    });
    expect([...c.transactions.values()].map((t) => [t.transactionalId, t.closed])).toEqual([
      [`g-${OTHER}-0`, true],
      [`g-${OTHER}-1`, false],
    ]);
    await c.ask({ type: 'closeTasks' });
    expect(c.transactions.get(`g-${OTHER}-1`)!.closed).toBe(true);
  });

  it('closeTasks waits for a takeover under way and closes what it opened', async () => {
    let open!: () => void;
    const c = start({ raw: '-1' }, new Map(), new Map([[OTHER, new Promise<void>((resolve) => (open = resolve))]]));
    const taking = c.ask<TakeoverReply>({ type: 'takeOver', topic: OTHER, partitions: [0] });
    await expect.poll(() => c.takeovers.length).toBe(1);
    const closing = c.ask({ type: 'closeTasks' });
    await new Promise((r) => setTimeout(r, 30));
    expect(c.transactions.get(`g-${OTHER}-0`)!.closed).toBe(false);
    open();
    await closing;
    expect(c.transactions.get(`g-${OTHER}-0`)!.closed).toBe(true);
    await taking;
  });

  // The queued takeover's fence would hit the next generation's producer of the same partition.
  it('a takeover queued behind another of its topic does not start once the checkpointer stopped', async () => {
    let open!: () => void;
    const c = start({ raw: '-1' }, new Map(), new Map([[OTHER, new Promise<void>((resolve) => (open = resolve))]]));
    dispatch(c.checkpointer, { type: 'takeOver', topic: OTHER, partitions: [0] });
    await expect.poll(() => c.takeovers.length).toBe(1);
    dispatch(c.checkpointer, { type: 'takeOver', topic: OTHER, partitions: [1] });
    await new Promise((r) => setTimeout(r, 20));
    stop(c.checkpointer);
    await new Promise((r) => setTimeout(r, 10)); // its afterStop runs
    open();
    await new Promise((r) => setTimeout(r, 50));
    expect(c.takeovers.map((t) => t.partition)).toEqual([0]);
    expect([...c.transactions.keys()]).toEqual([`g-${OTHER}-0`]);
    expect(c.transactions.get(`g-${OTHER}-0`)!.closed).toBe(true);
  });

  it('a takeover of a partition whose roll is in flight waits for it, and the roll is cached once', async () => {
    const floors = { raw: '-1' };
    const c = start(floors);
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const event = roll(0, 0, 99);
    await writeTmp(c.lakeRoot, event);
    let open!: () => void;
    c.transactions.get('g-iot-0')!.gate = new Promise<void>((resolve) => (open = resolve));
    const rolled = c.ask<CommitReply>(commitMsg(event, partitions[0]!.taskEpoch));
    // Assigned here again (a rebalance): Kafka then holds the roll's offset, which the takeover caches first.
    floors.raw = '99';
    const takenOver = c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] });
    await new Promise((r) => setTimeout(r, 50));
    open();
    expect(await takenOver).toMatchObject({ ok: true, partitions: [{ partition: 0, raw: '99' }] });
    expect(await rolled).toEqual({ checkpoints: 1 });
    const state = await c.ask<CheckpointState>({ type: 'read' });
    expect(state.offsets[rawSinkId(TOPIC, 0)]).toEqual({ 0: '99' });
    expect(state.checkpoints).toBe(1);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.to))).toBe(true);
  });

  it("closes every partition's producer when stopped without closeTasks (it failed), a commit under way too", async () => {
    const c = start();
    const { partitions } = (await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0, 1] })) as {
      partitions: Array<{ taskEpoch: number }>;
    };
    const event = roll(0, 0, 99);
    await writeTmp(c.lakeRoot, event);
    c.transactions.get('g-iot-0')!.gate = new Promise<void>(() => undefined); // Kafka never answers
    dispatch(c.checkpointer, commitMsg(event, partitions[0]!.taskEpoch));
    await new Promise((r) => setTimeout(r, 20));
    stop(c.checkpointer);
    await expect.poll(() => [...c.transactions.values()].map((t) => t.closed)).toEqual([true, true]);
  });

  it('a roll fenced after the checkpointer stopped leaves its tmp files to the next takeover', async () => {
    const c = start();
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [1] });
    const fake = c.transactions.get('g-iot-1')!;
    const event = roll(1, 0, 9);
    await writeTmp(c.lakeRoot, event);
    let open!: () => void;
    fake.gate = new Promise<void>((resolve) => (open = resolve));
    fake.failNext = new SdpError(ErrorCodes.KAFKA_TRANSACTION_FENCED, 'INVALID_PRODUCER_EPOCH');
    dispatch(c.checkpointer, commitMsg(event, 1));
    await new Promise((r) => setTimeout(r, 20));
    // The next generation's takeover fenced it: that generation may be writing a tmp file of the same name.
    stop(c.checkpointer);
    await new Promise((r) => setTimeout(r, 10)); // its afterStop runs
    open();
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.commits).toEqual([]);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.from))).toBe(true);
  });

  it("recoverLake skips a cached roll's rename whose files were merged away by the partition's owner", async () => {
    const c = start();
    await c.ask<TakeoverReply>({ type: 'takeOver', topic: TOPIC, partitions: [0] });
    const event = roll(0, 40, 49);
    await writeTmp(c.lakeRoot, event);
    expect(await c.ask<CommitReply>(commitMsg(event, 1))).not.toHaveProperty('rejected');
    // Compacted since (another member's rolls came after it): neither its tmp nor its final name is there.
    await rm(join(c.lakeRoot, event.renames[0]!.to));
    const recovery = await c.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(recovery).toEqual({ renamed: 0, deletedTmpFiles: [] });
  });

  it('recoverLake leaves raw tmp files to their partition takeover', async () => {
    const c = start();
    const event = roll(0, 0, 9);
    await writeTmp(c.lakeRoot, event);
    const recovery = await c.ask<LakeRecovery>({ type: 'recoverLake' });
    expect(recovery.deletedTmpFiles).toEqual([]);
    expect(existsSync(join(c.lakeRoot, event.renames[0]!.from))).toBe(true);
  });
});
