import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RETAKE_AFTER_MS, spawnIngest, type IngestMsg, type IngestStatus } from '../../../src/actors/ingest.js';
import {
  aggSinkId,
  applyCheckpoint,
  emptyCheckpointState,
  rawSinkId,
  type CheckpointEvent,
  type CheckpointState,
  type RawCheckpoint,
} from '../../../src/checkpoint/checkpointState.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import type { StreamName } from '../../../src/events/types.js';
import type { ConsumedBatch } from '../../../src/kafka/topicConsumer.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { ErrorCodes, isRetriable, SdpError } from '../../../src/errors.js';
import { dispatch, query, spawn, stop, type Ref } from '../../../src/system/nact.js';
import { spawnFakeAggregator, type FakeAggregator } from './fakes/fakeAggregator.js';
import { spawnFakeCheckpointer, type FakeCheckpointer } from './fakes/fakeCheckpointer.js';
import { fakeConsumerFactory, type FakeConsumer } from './fakes/fakeConsumer.js';
import { listFiles, openReader, readRows, type Reader } from './fakes/lakeFiles.js';
import pino from 'pino';
import type { Logger } from '../../../src/log/logger.js';
import {
  cleanUp,
  newSystem,
  onCleanUp,
  settleBeforeStop,
  silentLogger,
  sleep,
  tempDir,
  waitFor,
} from './fakes/testKit.js';

let reader: Reader;
beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
afterEach(cleanUp);

const Q_MS = 5_000;
const TS_MS = Date.UTC(2024, 2, 5, 10, 0, 0);
const pad = (n: number): string => String(n).padStart(20, '0');

/** The project's config.yml, with the ETL knobs a test needs. */
function testConfig(etl: Partial<Config['etl']> = {}): Config {
  const file = join(import.meta.dirname, '../../../config.yml');
  const { config } = parseConfig(readFileSync(file, 'utf8'), file, {});
  return {
    ...config,
    etl: { ...config.etl, parquet_encoder: 'hyparquet-writer', max_file_rows: 1_000, max_file_age: 3_600_000, ...etl },
  };
}

interface Harness {
  ref: Ref<IngestMsg>;
  config: Config;
  lakeRoot: string;
  checkpointer: FakeCheckpointer;
  aggregator?: FakeAggregator;
  consumer(): FakeConsumer;
  ask<R>(msg: IngestMsg): Promise<R>;
  status(): Promise<IngestStatus>;
}

async function startIngest(
  stream: StreamName,
  checkpoint: CheckpointState = emptyCheckpointState(),
  etl: Partial<Config['etl']> = {},
  ends?: ReadonlyMap<number, string>,
  joinWith?: number[],
  logger: Logger = silentLogger,
): Promise<Harness> {
  const system = newSystem();
  const config = testConfig(etl);
  const topic = config.topics[stream];
  const lakeRoot = join(tempDir('sdp-ingest-'), 'lake');
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  const checkpointer = spawnFakeCheckpointer(system, lakeRoot, 'fake-checkpointer', {
    initial: checkpoint,
    windowTopic: config.topics.clickstream,
  });
  const aggregator = stream === 'clickstream' ? spawnFakeAggregator(system) : undefined;
  const consumers = fakeConsumerFactory({ ...(ends ? { ends } : {}), ...(joinWith ? { joinWith } : {}) });
  const ref = spawnIngest(system, {
    topic,
    stream,
    config,
    logger,
    ...(aggregator ? { aggregator: aggregator.ref } : {}),
    checkpointer: checkpointer.ref,
    encoderPool,
    lakeRoot,
    createConsumer: consumers.createConsumer,
  });
  const ask = <R>(msg: IngestMsg): Promise<R> => query<IngestMsg, R>(ref, () => msg, Q_MS);
  // Clean-up runs these in reverse: release held commits, then flush the partitions' writers.
  settleBeforeStop(() => ask({ type: 'drain' }));
  onCleanUp(() => checkpointer.release());
  expect(await ask({ type: 'start' })).toEqual({ ok: true });
  return {
    ref,
    config,
    lakeRoot,
    checkpointer,
    ...(aggregator ? { aggregator } : {}),
    consumer: () => consumers.consumer(),
    ask,
    status: () => ask<IngestStatus>({ type: 'status' }),
  };
}

function iotBatch(partition: number, first: number, last: number, caughtUp = false): ConsumedBatch {
  const messages = [];
  for (let offset = first; offset <= last; offset++) {
    const value = {
      device_id: `d-${offset}`,
      site: 'plant-a',
      temp_c: 20 + offset,
      humidity: 50,
      battery: 90,
      signal_strength: -60,
      ts: TS_MS + offset * 1000,
    };
    messages.push({
      offset: String(offset),
      value: Buffer.from(JSON.stringify(value)),
      key: null,
      timestampMs: TS_MS + offset * 1000,
    });
  }
  return {
    topic: 'iot',
    partition,
    fetchedOffset: String(first),
    lastOffset: String(last),
    highWatermark: String(last + 1),
    caughtUp,
    messages,
  };
}

const raw = (topic: string, partition: number, offset: string): RawCheckpoint => ({
  type: 'raw',
  sink: rawSinkId(topic, partition),
  topic,
  partition,
  offset,
  renames: [],
  rows: 0,
  rejected: 0,
});

function stateOf(events: CheckpointEvent[]): CheckpointState {
  return events.reduce(applyCheckpoint, emptyCheckpointState());
}

/**
 * Reports an assignment as kafkajs would and waits until every assigned partition is taken over and reading:
 * answers the seeks of the partitions kept running.
 */
async function assign(h: Harness, assigned: number[], revoked: number[] = []): Promise<Map<number, string>> {
  const seeks = h.consumer().handlers().onAssignment(assigned, revoked);
  await waitFor(async () => {
    const running = (await h.status()).partitions.map((p) => p.partition);
    return assigned.every((p) => running.includes(p)) && running.length === assigned.length;
  }, 'the assigned partitions to be taken over');
  return seeks;
}

describe('ingest: start and assignment', () => {
  it('creates its consumer for its topic and group, and starts it', async () => {
    const h = await startIngest('iot');
    expect(h.consumer().created.options).toEqual({
      topic: 'iot',
      groupId: h.config.etl.consumer_group,
      concurrency: h.config.kafka.partitions,
    });
    expect(() => h.consumer().handlers()).not.toThrow();
  });

  it('spawns a partition actor per assigned partition and starts each at the minimum of its sinks + 1', async () => {
    const checkpoint = stateOf([
      raw('clickstream', 0, '9'),
      raw('clickstream', 1, '30'),
      {
        type: 'agg',
        sink: aggSinkId('clickstream'),
        topic: 'clickstream',
        seq: 1,
        offsets: { '0': '4', '1': '20' },
        state: null,
        renames: [],
        rows: 0,
      },
      raw('clickstream', 3, '7'), // no aggregator offset for 3: it must start from 0
    ]);
    // The topic has four partitions; while it starts (kafkajs joins inside run()), the group gives
    // this member two of them.
    const h = await startIngest(
      'clickstream',
      checkpoint,
      {},
      new Map([
        [0, '10'],
        [1, '40'],
        [2, '0'],
        [3, '8'],
      ]),
      [2, 3],
    );

    await assign(h, [0, 1, 2, 3]);
    // Paused until taken over, then seeked to where its sinks stand and resumed.
    expect(
      h
        .consumer()
        .seeks()
        .sort((a, b) => a[0] - b[0]),
    ).toEqual([
      [0, '5'],
      [1, '21'],
      [2, '0'],
      [3, '0'],
    ]);
    for (const partition of [0, 1, 2, 3]) {
      const calls = h
        .consumer()
        .calls.filter((c) => 'partition' in c && c.partition === partition)
        .map((c) => c.call);
      expect(calls.slice(-3)).toEqual(['pause', 'seek', 'resume']);
    }
    const status = await h.status();
    expect(status.topic).toBe('clickstream');
    expect(status.partitions.map((p) => [p.partition, p.rawOffset, p.aggOffset])).toEqual([
      [0, '9', '4'],
      [1, '30', '20'],
      [2, '-1', '-1'],
      [3, '7', '-1'],
    ]);
    // Every partition of the topic holds the watermark back before the first, partial assignment.
    await waitFor(() => h.aggregator!.others.length >= 3, 'the partitions and assignments to reach the aggregator');
    expect(h.aggregator!.others.slice(0, 3)).toEqual([
      { type: 'topicPartitions', partitions: [0, 1, 2, 3] },
      { type: 'assign', partitions: [2, 3] },
      { type: 'assign', partitions: [0, 1, 2, 3] },
    ]);
  });

  it('on a rebalance keeps the position of a kept partition, drops a revoked one and releases its producer', async () => {
    const h = await startIngest('iot');
    const handlers = h.consumer().handlers();
    expect(Object.fromEntries(await assign(h, [0, 1]))).toEqual({});
    expect(h.checkpointer.takeovers).toEqual([{ topic: 'iot', partitions: [0, 1] }]);
    await handlers.onBatch(iotBatch(0, 0, 4));
    handlers.onProgress({ partition: 1, lastOffset: '12', caughtUp: true });

    expect(Object.fromEntries(handlers.onAssignment([0, 1], []))).toEqual({ '0': '5', '1': '13' });
    expect(Object.fromEntries(handlers.onAssignment([0], [1]))).toEqual({ '0': '5' });
    expect((await h.status()).partitions.map((p) => p.partition)).toEqual([0]);
    await waitFor(() => h.checkpointer.releases.length === 1, 'the release');
    expect(h.checkpointer.releases).toEqual([{ topic: 'iot', partitions: [1] }]);
    // No takeover for the kept partitions.
    expect(h.checkpointer.takeovers).toHaveLength(1);
  });
});

describe('ingest: partitions added to the topic', () => {
  /** A logger that keeps the messages it logs at info and above. */
  function recordingLogger(): { logger: Logger; messages: string[] } {
    const messages: string[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => messages.push((JSON.parse(line) as { msg: string }).msg) },
    );
    return { logger, messages };
  }
  const added = 'partitions added to the topic';

  it('learns the partitions of a stream without an aggregator quietly, then logs one that appears', async () => {
    const { logger, messages } = recordingLogger();
    const h = await startIngest(
      'iot',
      emptyCheckpointState(),
      {},
      new Map([
        [0, '5'],
        [1, '5'],
        [2, '5'],
        [3, '5'],
      ]),
      undefined,
      logger,
    );
    dispatch(h.ref, { type: 'checkEnds' });
    await waitFor(async () => (await h.status()).lag !== null, 'the first end offsets');
    expect(messages).not.toContain(added);

    h.consumer().ends.set(4, '0');
    dispatch(h.ref, { type: 'checkEnds' });
    await waitFor(() => messages.includes(added), 'the added partition to be logged');
    expect(messages.filter((m) => m === added)).toHaveLength(1);
  });

  it('logs a partition that appears on a stream with an aggregator, which learned them at start', async () => {
    const { logger, messages } = recordingLogger();
    const h = await startIngest(
      'clickstream',
      emptyCheckpointState(),
      {},
      new Map([
        [0, '5'],
        [1, '5'],
      ]),
      undefined,
      logger,
    );
    dispatch(h.ref, { type: 'checkEnds' });
    await waitFor(async () => (await h.status()).lag !== null, 'the first end offsets');
    expect(messages).not.toContain(added);
    h.consumer().ends.set(2, '0');
    dispatch(h.ref, { type: 'checkEnds' });
    await waitFor(() => messages.includes(added), 'the added partition to be logged');
    await waitFor(
      () => h.aggregator!.others.some((m) => m.type === 'topicPartitions' && m.partitions.length === 3),
      'the aggregator to learn partition 2',
    );
  });
});

describe('ingest: a consumer that cannot start', () => {
  it('answers start with the error (no crash, no hanging query), disconnects the consumer and stays alive', async () => {
    const system = newSystem();
    const config = testConfig();
    const topic = config.topics.iot;
    const lakeRoot = join(tempDir('sdp-ingest-'), 'lake');
    const encoderPool = createEncoderPool({ threads: 0 });
    onCleanUp(() => encoderPool.close());
    const checkpointer = spawnFakeCheckpointer(system, lakeRoot);
    onCleanUp(() => checkpointer.release());
    const consumers = fakeConsumerFactory({
      failStart: new Error('Connection error: connect ECONNREFUSED 127.0.0.1:29092'),
    });
    const ref = spawnIngest(system, {
      topic,
      stream: 'iot',
      config,
      logger: silentLogger,
      checkpointer: checkpointer.ref,
      encoderPool,
      lakeRoot,
      createConsumer: consumers.createConsumer,
    });
    const startedMs = Date.now();
    expect(await query<IngestMsg, unknown>(ref, () => ({ type: 'start' }), Q_MS)).toEqual({
      ok: false,
      error: 'Connection error: connect ECONNREFUSED 127.0.0.1:29092',
    });
    expect(Date.now() - startedMs).toBeLessThan(Q_MS);
    expect(consumers.consumer().calls).toContainEqual({ call: 'disconnect' });
    // Still answering: the ETL's start can close it like any other.
    expect(await query<IngestMsg, IngestStatus>(ref, () => ({ type: 'status' }), Q_MS)).toMatchObject({
      topic,
      partitions: [],
    });
  });
});

describe('ingest: a partition assigned again after a revoke', () => {
  it('drops what it buffered at the revoke and, assigned again, resumes where Kafka says its sinks stand', async () => {
    const h = await startIngest('iot');
    const handlers = h.consumer().handlers();
    await assign(h, [0, 1]);
    await handlers.onBatch(iotBatch(1, 0, 4));
    handlers.onAssignment([0], [1]); // not flushed: the new owner reads 0..4 again from the last commit
    await sleep(50);
    expect(h.checkpointer.received).toEqual([]);

    await assign(h, [0, 1]);
    expect(h.consumer().seeks().at(-1)).toEqual([1, '0']);
    await handlers.onBatch(iotBatch(1, 0, 6));
    await h.ask({ type: 'drain' });
    const rows = await reader.rows(
      `SELECT device_id, count(*) AS n FROM read_parquet('${h.lakeRoot}/tables/iot/**/*.parquet') GROUP BY device_id HAVING count(*) > 1`,
    );
    expect(rows).toEqual([]);
    expect(h.checkpointer.takeovers).toEqual([
      { topic: 'iot', partitions: [0, 1] },
      { topic: 'iot', partitions: [1] },
    ]);
  });

  it('ignores the answer of a takeover whose partition was revoked before it came', async () => {
    const h = await startIngest('iot');
    h.checkpointer.hold();
    const handlers = h.consumer().handlers();
    handlers.onAssignment([0, 1], []);
    handlers.onAssignment([0], [1]);
    await waitFor(() => h.checkpointer.takeovers.length === 1, 'the takeover');
    await waitFor(async () => (await h.status()).partitions.length === 1, 'partition 0 to be taken over');
    await sleep(50);
    expect((await h.status()).partitions.map((p) => p.partition)).toEqual([0]);
  });
});

describe('ingest: a consumer that failed for good', () => {
  it('crashes the ingest, which escalates the error marked retriable (the supervisor restarts the ETL)', async () => {
    const system = newSystem();
    const crashes: Error[] = [];
    const parent = spawn<undefined, unknown>(system, (s) => s, 'supervisor', {
      onCrash: (_msg, err, ctx) => {
        crashes.push(err);
        return ctx.stopChild;
      },
    });
    const config = testConfig();
    const lakeRoot = join(tempDir('sdp-ingest-'), 'lake');
    const encoderPool = createEncoderPool({ threads: 0 });
    onCleanUp(() => encoderPool.close());
    const ref = spawnIngest(parent, {
      topic: 'iot',
      stream: 'iot',
      config,
      logger: silentLogger,
      checkpointer: spawnFakeCheckpointer(system, lakeRoot).ref,
      encoderPool,
      lakeRoot,
    });
    dispatch(ref, { type: 'consumerFailed', error: 'group coordinator gone' });
    await waitFor(() => crashes.length === 1, 'the escalation', 3_000);
    expect(crashes[0]!.message).toMatch(/consumer of iot failed: group coordinator gone/);
    expect(isRetriable(crashes[0])).toBe(true);
  });
});

describe('ingest: batches', () => {
  it('routes batches to their partition actor, whose writer puts them in the lake; drain quiesces and flushes', async () => {
    const h = await startIngest('iot');
    const handlers = h.consumer().handlers();
    await assign(h, [0, 1]);
    await handlers.onBatch(iotBatch(0, 0, 2));
    await handlers.onBatch(iotBatch(1, 0, 1));
    // Already processed, and not assigned: both ignored.
    await handlers.onBatch(iotBatch(0, 0, 2));
    await handlers.onBatch(iotBatch(5, 0, 3));
    expect((await h.status()).partitions.map((p) => [p.partition, p.valid])).toEqual([
      [0, 3],
      [1, 2],
    ]);
    expect(h.checkpointer.received).toEqual([]);

    expect(await h.ask({ type: 'drain' })).toEqual({ ok: true });
    expect(h.consumer().calls).toContainEqual({ call: 'quiesce' });
    expect(h.checkpointer.committed.map((e) => [e.sink, (e as RawCheckpoint).offset]).sort()).toEqual([
      ['raw:iot:0', '2'],
      ['raw:iot:1', '1'],
    ]);
    const files = await listFiles(h.lakeRoot);
    expect(files).toEqual([
      `tables/iot/dt=2024-03-05/p0/part-0-${pad(0)}-${pad(2)}.parquet`,
      `tables/iot/dt=2024-03-05/p1/part-1-${pad(0)}-${pad(1)}.parquet`,
    ]);
    const rows = await readRows(reader, join(h.lakeRoot, files[0]!), 'iot');
    expect(rows.map((r) => [r.device_id, r.ts])).toEqual([0, 1, 2].map((o) => [`d-${o}`, TS_MS + o * 1000]));
  });

  it("pauses the consumer's partition when its writer is behind and resumes it once drained", async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 2 });
    const handlers = h.consumer().handlers();
    await assign(h, [0]);
    const before = h.consumer().calls.length;
    h.checkpointer.hold();
    await handlers.onBatch(iotBatch(0, 0, 1)); // a full roll: its commit is held
    await waitFor(() => h.checkpointer.received.length === 1, 'the first roll');
    await handlers.onBatch(iotBatch(0, 2, 3)); // a second full roll, written behind the first
    expect(h.consumer().calls.slice(before)).toEqual([]);
    await handlers.onBatch(iotBatch(0, 4, 5)); // a third full roll's worth waits
    expect(h.consumer().calls.slice(before)).toEqual([{ call: 'pause', partition: 0 }]);

    h.checkpointer.release();
    await waitFor(() => h.consumer().calls.length === before + 2, 'resume');
    expect(h.consumer().calls.slice(before)).toEqual([
      { call: 'pause', partition: 0 },
      { call: 'resume', partition: 0 },
    ]);
  });
});

describe('ingest: a roll Kafka refuses', () => {
  it('drops the partition (its rows are read again) and takes it over again while it is assigned here', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 2 });
    const handlers = h.consumer().handlers();
    await assign(h, [0, 1]);
    h.checkpointer.rejectNext(1, true);
    await handlers.onBatch(iotBatch(1, 0, 1)); // a full roll: Kafka refuses it
    await waitFor(() => h.checkpointer.takeovers.length === 2, 'the second takeover');
    expect(h.checkpointer.takeovers[1]).toEqual({ topic: 'iot', partitions: [1] });
    await waitFor(async () => (await h.status()).partitions.length === 2, 'partition 1 to read again');
    // Taken over again where Kafka says it stands: nothing of the refused roll was committed.
    expect(h.consumer().seeks().at(-1)).toEqual([1, '0']);
    await handlers.onBatch(iotBatch(1, 0, 1));
    await waitFor(() => h.checkpointer.committed.length === 1, 'the roll read again');
    expect((h.checkpointer.committed[0] as RawCheckpoint).offset).toBe('1');
  });

  // The checkpointer tells the ingest itself, not the takeover query's reply address (gone once answered): a refused
  // stage-1 mark is reported by no roll.
  it('a partition the checkpointer reports lost (a refused mark) is dropped and taken over again', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 2 });
    await assign(h, [0, 1]);
    expect(h.checkpointer.loseTask(1, 'kafka commit of window marks failed: coordinator gone')).toBe(true);
    await waitFor(() => h.checkpointer.takeovers.length === 2, 'the second takeover', RETAKE_AFTER_MS * 3);
    expect(h.checkpointer.takeovers[1]).toEqual({ topic: 'iot', partitions: [1] });
    await waitFor(async () => (await h.status()).partitions.length === 2, 'partition 1 to read again');
  });

  it('a takeover another member fenced: the partition waits a rebalance out, then is taken over again if still here', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 2 });
    h.checkpointer.fenceNextTakeoverOf(1);
    h.consumer().handlers().onAssignment([0, 1], []);
    await waitFor(async () => (await h.status()).partitions.length === 1, 'partition 0 to read');
    expect((await h.status()).partitions.map((p) => p.partition)).toEqual([0]);
    expect(h.checkpointer.takeovers).toHaveLength(1); // not at once: that would fence the other member in turn
    await sleep(RETAKE_AFTER_MS / 2);
    expect(h.checkpointer.takeovers).toHaveLength(1);
    await waitFor(() => h.checkpointer.takeovers.length === 2, 'the second takeover', RETAKE_AFTER_MS * 3);
    expect(h.checkpointer.takeovers[1]).toEqual({ topic: 'iot', partitions: [1] });
    await waitFor(async () => (await h.status()).partitions.length === 2, 'partition 1 to read');
  });

  it('a takeover another member fenced, revoked before the retry: not taken over again', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 2 });
    h.checkpointer.fenceNextTakeoverOf(1);
    h.consumer().handlers().onAssignment([0, 1], []);
    await waitFor(async () => (await h.status()).partitions.length === 1, 'partition 0 to read');
    h.consumer().handlers().onAssignment([0], [1]); // the rebalance that gave it to the other member
    await sleep(RETAKE_AFTER_MS * 2);
    expect(h.checkpointer.takeovers).toHaveLength(1);
  });

  it('a takeover another member fenced, then the ingest closed (an ETL restart): not taken over again', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 2 });
    h.checkpointer.fenceNextTakeoverOf(1);
    h.consumer().handlers().onAssignment([0, 1], []);
    await waitFor(async () => (await h.status()).partitions.length === 1, 'partition 0 to read');
    expect(await h.ask({ type: 'close' })).toEqual({ ok: true }); // left the group: partition 1 is another's now
    await sleep(RETAKE_AFTER_MS * 2);
    expect(h.checkpointer.takeovers).toHaveLength(1);
  });

  it('while draining for shutdown, drops it without taking it over again, and the drain completes', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 100 });
    const handlers = h.consumer().handlers();
    await assign(h, [0]);
    await handlers.onBatch(iotBatch(0, 0, 4));
    h.checkpointer.rejectNext(1, true);
    expect(await h.ask({ type: 'drain' })).toEqual({ ok: true });
    await sleep(50);
    expect(h.checkpointer.takeovers).toHaveLength(1);
    expect(h.checkpointer.committed).toEqual([]);
  });
});

describe('ingest: a rebalance during the drain for shutdown', () => {
  // Seen in a chaos run: SIGTERM while a broker was down, the group coordinator forgot the member mid-drain and
  // revoked everything; the drain waited on the flushes of stopped partition actors until the shutdown timeout.
  it('completes the drain when a partition whose flush is awaited is revoked, and takes nothing over', async () => {
    const h = await startIngest('iot', emptyCheckpointState(), { max_file_rows: 100 });
    const handlers = h.consumer().handlers();
    await assign(h, [0, 1]);
    await handlers.onBatch(iotBatch(0, 0, 4));
    await handlers.onBatch(iotBatch(1, 0, 4));
    h.checkpointer.hold(); // the flushes' commits wait, as behind a broker that is down
    const drained = h.ask({ type: 'drain' });
    await waitFor(() => h.checkpointer.waiting() >= 2, 'both flushes to wait on their commits');
    handlers.onAssignment([], [0, 1]); // the coordinator forgot this member: everything revoked ...
    handlers.onAssignment([0, 1], []); // ... and assigned again to its new member id
    expect(await drained).toEqual({ ok: true });
    expect(h.checkpointer.takeovers).toHaveLength(1); // only the first assignment's
    h.checkpointer.release();
  });
});

describe('ingest: leaving the group', () => {
  it("commits no offsets of its own: the rolls' Kafka transactions do", async () => {
    const h = await startIngest('iot');
    await assign(h, [0, 1]);
    dispatch(h.ref, { type: 'durable', partition: 1, nextOffset: '4' });
    expect(await h.ask({ type: 'close' })).toEqual({ ok: true });
    expect(
      h
        .consumer()
        .calls.map((c) => c.call)
        .filter((c) => c !== 'pause' && c !== 'seek' && c !== 'resume'),
    ).toEqual(['disconnect']);
  });

  it('disconnects a consumer that was never closed when it stops, so that it leaves the group', async () => {
    const h = await startIngest('iot');
    await assign(h, [0, 1]);
    stop(h.ref);
    await waitFor(
      () => h.consumer().calls.some((c) => c.call === 'disconnect'),
      'the abandoned consumer to be disconnected',
      3_000,
    );
  });
});

describe('ingest: failures that reach the operator carry an SDP_ERR_* code', () => {
  function spawnWith(failStart?: Error) {
    const system = newSystem();
    const config = testConfig();
    const topic = config.topics.iot;
    const lakeRoot = join(tempDir('sdp-ingest-'), 'lake');
    const encoderPool = createEncoderPool({ threads: 0 });
    onCleanUp(() => encoderPool.close());
    const checkpointer = spawnFakeCheckpointer(system, lakeRoot);
    onCleanUp(() => checkpointer.release());
    const crashes: Error[] = [];
    const parent = spawn<undefined, unknown>(system, (s) => s, 'supervisor', {
      onCrash: (_msg, err, ctx) => {
        crashes.push(err);
        return ctx.stopChild;
      },
    });
    const consumers = fakeConsumerFactory(failStart ? { failStart } : {});
    const ref = spawnIngest(parent, {
      topic,
      stream: 'iot',
      config,
      logger: silentLogger,
      checkpointer: checkpointer.ref,
      encoderPool,
      lakeRoot,
      createConsumer: consumers.createConsumer,
    });
    return { ref, topic, crashes, checkpointer, consumers };
  }

  it("answers a start that failed with an SdpError with that error's code (startEtl throws it)", async () => {
    const { ref } = spawnWith(new SdpError(ErrorCodes.KAFKA_AUTH_FAILED, 'SASL authentication failed'));
    expect(await query<IngestMsg, unknown>(ref, () => ({ type: 'start' }), Q_MS)).toEqual({
      ok: false,
      error: 'SASL authentication failed',
      code: ErrorCodes.KAFKA_AUTH_FAILED,
    });
  });

  it('crashes with SDP_ERR_KAFKA_CONSUMER_FAILED, retriable, when a takeover fails (the restart takes over again)', async () => {
    const { ref, topic, crashes, checkpointer, consumers } = spawnWith();
    expect(await query<IngestMsg, unknown>(ref, () => ({ type: 'start' }), Q_MS)).toEqual({ ok: true });
    checkpointer.failNextTakeover('InitProducerId timed out');
    consumers.consumer().handlers().onAssignment([0], []);
    await waitFor(() => crashes.length > 0, 'the crash');
    expect(crashes.map((e) => [(e as SdpError).code, e.message, isRetriable(e)])).toEqual([
      [
        ErrorCodes.KAFKA_CONSUMER_FAILED,
        `consumer of ${topic} failed: takeover of ${topic} failed: InitProducerId timed out`,
        true,
      ],
    ]);
  });

  it('crashes with SDP_ERR_KAFKA_CONSUMER_FAILED when its consumer fails for good', async () => {
    const { ref, topic, crashes } = spawnWith();
    dispatch(ref, { type: 'consumerFailed', error: 'kafkajs gave up' });
    await waitFor(() => crashes.length > 0, 'the crash');
    expect(crashes.map((e) => [(e as SdpError).code, e.message])).toEqual([
      [ErrorCodes.KAFKA_CONSUMER_FAILED, `consumer of ${topic} failed: kafkajs gave up`],
    ]);
  });
});
