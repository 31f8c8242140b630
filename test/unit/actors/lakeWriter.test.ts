import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  spawnLakeWriter,
  type LakeWriterMsg,
  type LakeWriterOptions,
  type WriterAppend,
  type WriterAppendReply,
  type WriterFlushReply,
  type WriterStatus,
} from '../../../src/actors/lakeWriter.js';
import type { RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { ColumnBuffer } from '../../../src/lake/columnBuffer.js';
import { BufferBudget } from '../../../src/lake/bufferBudget.js';
import { createEncoderPool, type EncoderPool } from '../../../src/lake/encoderPool.js';
import { tmpPathFor } from '../../../src/lake/layout.js';
import type { ClickstreamRow } from '../../../src/events/types.js';
import type { RowOf } from '../../../src/lake/tables.js';
import { dispatch, query, stop, type Ref } from '../../../src/system/nact.js';
import { spawnFakeCheckpointer, type FakeCheckpointer } from './fakes/fakeCheckpointer.js';
import { columnTypes, listFiles, openReader, readRows, type Reader } from './fakes/lakeFiles.js';
import {
  cleanUp,
  gate,
  newSystem,
  onCleanUp,
  settleBeforeStop,
  silentLogger,
  sleep,
  tempDir,
  waitFor,
  type Gate,
} from './fakes/testKit.js';

let reader: Reader;
beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
afterEach(cleanUp);

const TOPIC = 'clickstream';
const PARTITION = 3;
const DAY1_MS = Date.UTC(2024, 2, 1, 10, 0, 0);
const END_OF_DAY1_MS = Date.UTC(2024, 2, 1, 23, 59, 59, 999);
const DAY2_MS = Date.UTC(2024, 2, 2, 0, 0, 0, 0);
const Q_MS = 10_000;

const pad = (offset: number): string => String(offset).padStart(20, '0');

/** A validated clickstream event, as the partition actor appends it. */
function click(offset: number, tsMs = DAY1_MS + offset * 1000): ClickstreamRow {
  return {
    event_id: `e-${offset}`,
    user_id: `u-${offset % 4}`,
    url: `/p/${offset % 3}`,
    referrer: offset % 2 === 0 ? null : 'https://ref.example/',
    ua: 'Mozilla/5.0',
    tsMs,
  };
}

function rejected(offset: number, kafkaTsMs: number): RowOf<'_rejected'> {
  return {
    topic: TOPIC,
    partition: PARTITION,
    offset,
    reason: 'not_json',
    detail: 'Unexpected token',
    payload: `{bad ${offset}`,
    payload_encoding: 'utf8',
    kafka_ts: kafkaTsMs,
  };
}

/** The row as the lake holds it: `ts`, not `tsMs`. */
const asLakeRow = ({ tsMs, ...fields }: ClickstreamRow): RowOf<'clickstream'> => ({ ...fields, ts: tsMs });

const dtOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** One append covering `offsets` (consecutive), valid rows for all but the `rejectedOffsets`. */
function appendOf(
  offsets: number[],
  options: { tsOf?: (offset: number) => number; rejectedOffsets?: number[] } = {},
): WriterAppend {
  const rejectedOffsets = new Set(options.rejectedOffsets ?? []);
  const rows: WriterAppend['rows'] = [];
  const rejectedRows: WriterAppend['rejected'] = [];
  for (const offset of offsets) {
    const tsMs = options.tsOf?.(offset) ?? DAY1_MS + offset * 1000;
    if (rejectedOffsets.has(offset)) rejectedRows.push({ dt: dtOf(tsMs), row: rejected(offset, tsMs) });
    else rows.push(click(offset, tsMs));
  }
  return {
    type: 'append',
    firstOffset: String(offsets[0]),
    lastOffset: String(offsets[offsets.length - 1]),
    rows,
    rejected: rejectedRows,
  };
}

const range = (first: number, last: number): number[] => Array.from({ length: last - first + 1 }, (_, i) => first + i);

interface Harness {
  lakeRoot: string;
  checkpointer: FakeCheckpointer;
  writer: Ref<LakeWriterMsg>;
  drained: number[];
  append(msg: WriterAppend): Promise<WriterAppendReply>;
  flush(timeoutMs?: number): Promise<WriterFlushReply>;
  status(): Promise<WriterStatus>;
}

function startWriter(overrides: Partial<LakeWriterOptions> = {}): Harness {
  const system = newSystem();
  const lakeRoot = join(tempDir('sdp-lakewriter-'), 'lake');
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  const checkpointer = spawnFakeCheckpointer(system, lakeRoot);
  const drained: number[] = [];
  const writer = spawnLakeWriter(system, {
    table: 'clickstream',
    topic: TOPIC,
    partition: PARTITION,
    lakeRoot,
    committedOffset: '-1',
    encoderPool,
    encoder: 'hyparquet-writer',
    checkpointer: checkpointer.ref,
    maxFileRows: 1_000_000,
    maxFileBytes: 1 << 30,
    maxFileAgeMs: 3_600_000,
    maxFileIdleMs: 3_600_000,
    rowGroupRows: 1_000,
    commitTimeoutMs: Q_MS,
    logger: silentLogger,
    onDrained: () => drained.push(Date.now()),
    ...overrides,
  });
  // Clean-up runs these in reverse: release held commits, then let the writer finish its roll.
  settleBeforeStop(() => query<LakeWriterMsg, WriterFlushReply>(writer, () => ({ type: 'flush' }), Q_MS));
  onCleanUp(() => checkpointer.release());
  return {
    lakeRoot,
    checkpointer,
    writer,
    drained,
    append: (msg) => query<LakeWriterMsg, WriterAppendReply>(writer, () => msg, Q_MS),
    flush: (timeoutMs = Q_MS) => query<LakeWriterMsg, WriterFlushReply>(writer, () => ({ type: 'flush' }), timeoutMs),
    status: () => query<LakeWriterMsg, WriterStatus>(writer, () => ({ type: 'status' }), Q_MS),
  };
}

/** An in-thread encoder pool whose encodes, after the first `free` ones, start once `encodes` opens. */
function gatedEncoderPool(encodes: Gate, free = 0): EncoderPool {
  const pool = createEncoderPool({ threads: 0 });
  onCleanUp(() => pool.close());
  let started = 0;
  return {
    encode: async (req) => {
      started += 1;
      if (started > free) await encodes.promise;
      return pool.encode(req);
    },
    close: () => pool.close(),
  };
}

/** An in-thread encoder pool that records the lake-relative path of every file it encodes. */
function countingEncoderPool(encoded: string[]): EncoderPool {
  const pool = createEncoderPool({ threads: 0 });
  onCleanUp(() => pool.close());
  return {
    encode: (req) => {
      encoded.push(req.path.slice(req.path.indexOf('/tables/') + 1));
      return pool.encode(req);
    },
    close: () => pool.close(),
  };
}

const rawPath = (dt: string, first: number, last: number): string =>
  `tables/clickstream/dt=${dt}/p${PARTITION}/part-${PARTITION}-${pad(first)}-${pad(last)}.parquet`;
const rejectedPath = (dt: string, first: number, last: number): string =>
  `tables/_rejected/dt=${dt}/p${PARTITION}-${TOPIC}/part-${TOPIC}-${PARTITION}-${pad(first)}-${pad(last)}.parquet`;

async function eventIds(h: Harness, file: string): Promise<unknown[]> {
  return (await readRows(reader, join(h.lakeRoot, file), 'clickstream')).map((r) => r.event_id);
}

describe('lake writer: rolling', () => {
  it('rolls when max_file_rows records are buffered, one checkpoint per roll', async () => {
    const h = startWriter({ maxFileRows: 3 });
    await h.append(appendOf([0]));
    await h.append(appendOf([1]));
    expect(await h.status()).toMatchObject({ bufferedRows: 2, rolling: false });
    expect(h.checkpointer.received).toEqual([]);

    await h.append(appendOf([2]));
    await waitFor(() => h.checkpointer.committed.length === 1, 'the first roll');
    const first = h.checkpointer.committed[0] as RawCheckpoint;
    expect(first).toMatchObject({
      type: 'raw',
      sink: `raw:${TOPIC}:${PARTITION}`,
      topic: TOPIC,
      partition: PARTITION,
      offset: '2',
      rows: 3,
    });
    expect(first.renames).toEqual([{ from: tmpPathFor(rawPath('2024-03-01', 0, 2)), to: rawPath('2024-03-01', 0, 2) }]);
    expect(await eventIds(h, rawPath('2024-03-01', 0, 2))).toEqual(['e-0', 'e-1', 'e-2']);

    // Rejected records count towards the threshold as well.
    await h.append(appendOf([3, 4, 5], { rejectedOffsets: [4] }));
    await waitFor(() => h.checkpointer.committed.length === 2, 'the second roll');
    expect(h.checkpointer.committed[1]).toMatchObject({ offset: '5', rows: 2 });
    expect(await listFiles(h.lakeRoot)).toEqual(
      [rejectedPath('2024-03-01', 3, 5), rawPath('2024-03-01', 0, 2), rawPath('2024-03-01', 3, 5)].sort(),
    );
    expect(await h.status()).toMatchObject({
      committedOffset: '5',
      bufferedRows: 0,
      rolling: false,
      filesWritten: 3,
      rowsWritten: 5,
    });
  });

  it('rolls when the buffered bytes reach max_file_bytes', async () => {
    const probe = new ColumnBuffer('clickstream');
    probe.append(click(0));
    const rowBytes = probe.approxBytes;
    const h = startWriter({ maxFileBytes: Math.floor(rowBytes * 2.5) });

    await h.append(appendOf([0]));
    await h.append(appendOf([1]));
    expect(await h.status()).toMatchObject({ bufferedRows: 2, rolling: false });
    await h.append(appendOf([2]));
    await waitFor(() => h.checkpointer.committed.length === 1, 'a roll by size');
    expect(h.checkpointer.committed[0]).toMatchObject({ offset: '2', rows: 3 });
    expect(await eventIds(h, rawPath('2024-03-01', 0, 2))).toEqual(['e-0', 'e-1', 'e-2']);
  });

  it('rolls a buffer older than max_file_age without any further append', async () => {
    const maxFileAgeMs = 200;
    const h = startWriter({ maxFileAgeMs });
    const appendedMs = Date.now();
    await h.append(appendOf([0, 1]));
    expect(await h.status()).toMatchObject({ bufferedRows: 2, rolling: false });

    await waitFor(() => h.checkpointer.committed.length === 1, 'a roll by age', 3_000);
    expect(Date.now() - appendedMs).toBeGreaterThanOrEqual(maxFileAgeMs);
    expect(h.checkpointer.committed[0]).toMatchObject({ offset: '1', rows: 2 });
    expect(await eventIds(h, rawPath('2024-03-01', 0, 1))).toEqual(['e-0', 'e-1']);
  });

  it('rolls a buffer that received nothing for max_file_idle, but not one that keeps receiving', async () => {
    const maxFileIdleMs = 300;
    const h = startWriter({ maxFileIdleMs });
    // Appends every 100 ms for ~1 s: never quiet for 300 ms, so no roll.
    for (let i = 0; i < 10; i++) {
      await h.append(appendOf([i]));
      await sleep(100);
    }
    expect(h.checkpointer.committed).toHaveLength(0);
    const lastAppendMs = Date.now();
    await waitFor(() => h.checkpointer.committed.length === 1, 'a roll once quiet', 3_000);
    expect(Date.now() - lastAppendMs).toBeGreaterThanOrEqual(maxFileIdleMs - 100);
    expect(h.checkpointer.committed[0]).toMatchObject({ offset: '9', rows: 10 });
  });

  it('rolls what is buffered at the end of a backlog, without waiting for max_file_idle or max_file_age', async () => {
    const h = startWriter();
    dispatch(h.writer, { type: 'endOfBacklog', generation: 0 });
    await h.append(appendOf([0, 1, 2]));
    // The end of a backlog with nothing buffered (above) rolled nothing; nothing else rolls either.
    await sleep(50);
    expect(h.checkpointer.received).toHaveLength(0);
    dispatch(h.writer, { type: 'endOfBacklog', generation: 0 });
    await waitFor(() => h.checkpointer.committed.length === 1, 'a roll at the end of the backlog', 3_000);
    expect(h.checkpointer.committed[0]).toMatchObject({ offset: '2', rows: 3 });
    // Another generation's end of backlog is not this writer's.
    await h.append(appendOf([3]));
    dispatch(h.writer, { type: 'endOfBacklog', generation: 7 });
    await sleep(50);
    expect(await h.status()).toMatchObject({ committedOffset: '2', bufferedRows: 1 });
  });

  it('encodes the rest while the roll before it commits when a backlog ends, and commits them in order', async () => {
    const h = startWriter({ maxFileRows: 3 });
    h.checkpointer.hold();
    await h.append(appendOf([0, 1, 2])); // full: this roll is written and waits for its commit
    await h.append(appendOf([3, 4]));
    dispatch(h.writer, { type: 'endOfBacklog', generation: 0 });
    // The rest is written while the first commit is held, and its own commit waits for that one.
    await waitFor(() => existsSync(join(h.lakeRoot, tmpPathFor(rawPath('2024-03-01', 3, 4)))), 'the rest written');
    expect(await h.status()).toMatchObject({ rolling: true, bufferedRows: 0 });
    await sleep(50);
    expect(h.checkpointer.received).toHaveLength(1);
    h.checkpointer.release();
    await waitFor(() => h.checkpointer.committed.length === 2, 'both rolls committed', 3_000);
    expect((h.checkpointer.committed as RawCheckpoint[]).map((c) => [c.offset, c.rows])).toEqual([
      ['2', 3],
      ['4', 2],
    ]);
    expect(h.checkpointer.maxInFlightPerSink()).toBe(1);
  });

  it('rolls the rest as soon as the roll before it is written when a backlog ends while it is encoded', async () => {
    const encodes = gate();
    const h = startWriter({ maxFileRows: 3, encoderPool: gatedEncoderPool(encodes) });
    await h.append(appendOf([0, 1, 2])); // full: this roll is being encoded
    await h.append(appendOf([3, 4]));
    dispatch(h.writer, { type: 'endOfBacklog', generation: 0 });
    await sleep(50);
    // One roll is encoded at a time: the rest waits for it.
    expect(await h.status()).toMatchObject({ rolling: true, bufferedRows: 2 });
    encodes.open();
    await waitFor(() => h.checkpointer.committed.length === 2, 'the rest rolled after the first was written', 3_000);
    expect((h.checkpointer.committed as RawCheckpoint[]).map((c) => [c.offset, c.rows])).toEqual([
      ['2', 3],
      ['4', 2],
    ]);
  });

  it('rolls everything on flush and replies once it is committed; a flush with nothing buffered commits nothing', async () => {
    const h = startWriter();
    expect(await h.flush()).toEqual({ committedOffset: '-1' });
    expect(h.checkpointer.received).toEqual([]);

    await h.append(appendOf([0, 1, 2]));
    await h.append(appendOf([3, 4]));
    expect(await h.flush()).toEqual({ committedOffset: '4' });
    // The reply comes after the commit: the file is already visible.
    expect(await eventIds(h, rawPath('2024-03-01', 0, 4))).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-4']);
    expect(h.checkpointer.received).toHaveLength(1);

    expect(await h.flush()).toEqual({ committedOffset: '4' });
    expect(h.checkpointer.received).toHaveLength(1);
  });
});

describe('lake writer: files and checkpoint events', () => {
  it('writes one file per UTC date and the rejected rows under the date of their Kafka timestamp', async () => {
    const h = startWriter();
    // Offsets 7..12: 7, 8 on day 1 (8 at its last millisecond), 9, 11, 12 on day 2, 10 rejected.
    const tsOf = (offset: number): number =>
      offset === 7 ? DAY1_MS : offset === 8 ? END_OF_DAY1_MS : DAY2_MS + (offset - 9) * 1000;
    await h.append(appendOf(range(7, 12), { tsOf, rejectedOffsets: [10] }));
    expect(await h.flush()).toEqual({ committedOffset: '12' });

    const event = h.checkpointer.committed[0] as RawCheckpoint;
    const finals = [rawPath('2024-03-01', 7, 12), rawPath('2024-03-02', 7, 12), rejectedPath('2024-03-02', 7, 12)];
    // Renames are relative to the lake root and say tmp → final.
    expect([...event.renames].sort((a, b) => a.to.localeCompare(b.to))).toEqual(
      finals.map((to) => ({ from: tmpPathFor(to), to })).sort((a, b) => a.to.localeCompare(b.to)),
    );
    expect(event).toMatchObject({ type: 'raw', sink: `raw:${TOPIC}:${PARTITION}`, offset: '12', rows: 5 });
    expect(await listFiles(h.lakeRoot)).toEqual([...finals].sort());

    expect(await readRows(reader, join(h.lakeRoot, finals[0]!), 'clickstream')).toEqual(
      [click(7, DAY1_MS), click(8, END_OF_DAY1_MS)].map(asLakeRow),
    );
    expect(await readRows(reader, join(h.lakeRoot, finals[1]!), 'clickstream')).toEqual(
      [click(9, DAY2_MS), click(11, DAY2_MS + 2000), click(12, DAY2_MS + 3000)].map(asLakeRow),
    );
    expect(await readRows(reader, join(h.lakeRoot, finals[2]!), '_rejected')).toEqual([rejected(10, DAY2_MS + 1000)]);
    expect(await columnTypes(reader, join(h.lakeRoot, finals[0]!))).toMatchObject({ ts: 'TIMESTAMP', url: 'VARCHAR' });
  });

  it("counts the roll's rows and rejected records in the checkpoint event", async () => {
    const h = startWriter();
    await h.append(appendOf(range(0, 5), { rejectedOffsets: [1, 4] }));
    await h.flush();
    expect(h.checkpointer.committed).toHaveLength(1);
    const { rows, rejected: rejectedCount } = h.checkpointer.committed[0] as RawCheckpoint;
    expect({ rows, rejected: rejectedCount }).toEqual({ rows: 4, rejected: 2 });
  });

  it('skips appends at or below its committed offset (a replay), and replays of what it buffers', async () => {
    const h = startWriter({ committedOffset: '9' });
    expect(await h.append(appendOf(range(5, 9)))).toEqual({ backlogHigh: false });
    expect(await h.status()).toMatchObject({ bufferedRows: 0, committedOffset: '9' });
    expect(await h.flush()).toEqual({ committedOffset: '9' });
    expect(h.checkpointer.received).toEqual([]);

    await h.append(appendOf([10, 11]));
    await h.append(appendOf([10, 11])); // the same records again
    expect(await h.status()).toMatchObject({ bufferedRows: 2 });
    expect(await h.flush()).toEqual({ committedOffset: '11' });
    await h.append(appendOf([8, 9, 10, 11])); // replay after the roll
    expect(await h.flush()).toEqual({ committedOffset: '11' });

    expect(h.checkpointer.received).toHaveLength(1);
    expect(await listFiles(h.lakeRoot)).toEqual([rawPath('2024-03-01', 10, 11)]);
    expect(await eventIds(h, rawPath('2024-03-01', 10, 11))).toEqual(['e-10', 'e-11']);
  });
});

describe('lake writer: back-pressure and failures', () => {
  it('replies backlogHigh while a full roll waits behind two rolls in flight, and calls onDrained once one commits', async () => {
    const h = startWriter({ maxFileRows: 2 });
    h.checkpointer.hold();
    expect(await h.append(appendOf([0, 1]))).toEqual({ backlogHigh: false });
    await waitFor(() => h.checkpointer.received.length === 1, 'the first roll to reach the checkpointer');
    // The first roll is written and commits: the next one is rolled and written behind it.
    expect(await h.append(appendOf([2]))).toEqual({ backlogHigh: false });
    expect(await h.append(appendOf([3]))).toEqual({ backlogHigh: false });
    expect(await h.append(appendOf([4]))).toEqual({ backlogHigh: false });
    // A third full roll waits behind both.
    expect(await h.append(appendOf([5]))).toEqual({ backlogHigh: true });
    expect(await h.append(appendOf([6]))).toEqual({ backlogHigh: true });
    expect(h.drained).toEqual([]);
    expect(h.checkpointer.received).toHaveLength(1);

    h.checkpointer.release();
    await waitFor(() => h.drained.length === 1, 'onDrained');
    await waitFor(() => h.checkpointer.committed.length === 3, 'the backlog rolls');
    expect(h.checkpointer.committed.map((e) => (e as RawCheckpoint).offset)).toEqual(['1', '3', '6']);
    expect(await h.append(appendOf([7]))).toEqual({ backlogHigh: false });
    await h.flush();
    expect(h.drained).toHaveLength(1);
  });

  it('deletes the tmp files of a roll written behind one Kafka refused as fenced, and commits neither', async () => {
    const lost: string[] = [];
    const h = startWriter({ maxFileRows: 2, onLost: (reason) => lost.push(reason) });
    h.checkpointer.hold();
    h.checkpointer.rejectNext(1, true); // answered on release
    await h.append(appendOf([0, 1]));
    await waitFor(() => h.checkpointer.received.length === 1, 'the first roll to reach the checkpointer');
    await h.append(appendOf([2, 3]));
    const behind = join(h.lakeRoot, tmpPathFor(rawPath('2024-03-01', 2, 3)));
    await waitFor(() => existsSync(behind), 'the roll behind written');
    h.checkpointer.release();
    await waitFor(() => lost.length === 1, 'onLost', Q_MS);
    await waitFor(() => !existsSync(behind), 'the tmp file of the roll behind deleted', Q_MS);
    await sleep(50);
    expect(lost).toHaveLength(1);
    expect(h.checkpointer.committed).toEqual([]);
    expect(h.checkpointer.received).toHaveLength(1);
    // Only the refused roll's tmp file is left: the checkpointer deletes that one (this fake does not).
    expect(await listFiles(h.lakeRoot)).toEqual([tmpPathFor(rawPath('2024-03-01', 0, 1))]);
  });

  it('reports a fenced partition lost once the roll behind the refused one is written, and deletes its tmp files first', async () => {
    const lost: string[] = [];
    const encodes = gate();
    const h = startWriter({
      maxFileRows: 2,
      onLost: (reason) => lost.push(reason),
      encoderPool: gatedEncoderPool(encodes, 1),
    });
    h.checkpointer.hold();
    h.checkpointer.rejectNext(1, true); // answered on release
    await h.append(appendOf([0, 1]));
    await waitFor(() => h.checkpointer.received.length === 1, 'the first roll to reach the checkpointer');
    await h.append(appendOf([2, 3])); // rolled behind it; its encode waits for the gate
    h.checkpointer.release();
    await sleep(100);
    // Refused, but the roll behind is still being encoded: the owner does not hear yet (it would stop this writer, and
    // the encode's tmp file would then be nobody's to delete).
    expect(lost).toEqual([]);
    encodes.open();
    await waitFor(() => lost.length === 1, 'onLost once the roll behind ended', Q_MS);
    expect(existsSync(join(h.lakeRoot, tmpPathFor(rawPath('2024-03-01', 2, 3))))).toBe(false);
    expect(await listFiles(h.lakeRoot)).toEqual([tmpPathFor(rawPath('2024-03-01', 0, 1))]);
    expect(h.checkpointer.received).toHaveLength(1);
  });

  it('never has two commits of one writer in flight, and its rolls cover every offset once, in order', async () => {
    const h = startWriter({ maxFileRows: 2 });
    h.checkpointer.delayMs = 30;
    for (const offset of range(0, 19)) await h.append(appendOf([offset]));
    await h.flush();

    expect(h.checkpointer.maxInFlightPerSink()).toBe(1);
    const events = h.checkpointer.committed as RawCheckpoint[];
    expect(events.length).toBeGreaterThan(1);
    // Consecutive ranges, ending at 19, each named after its own first and last offset.
    let next = 0;
    for (const event of events) {
      const match = /part-3-(\d{20})-(\d{20})\.parquet$/.exec(event.renames[0]!.to);
      expect(Number(match?.[1])).toBe(next);
      expect(match?.[2]).toBe(pad(Number(event.offset)));
      next = Number(event.offset) + 1;
    }
    expect(next).toBe(20);
    const all = await reader.rows(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM read_parquet('${h.lakeRoot}/tables/clickstream/**/*.parquet')`,
    );
    expect(all).toEqual([{ n: '20', ids: '20' }]);
  });

  it('retries a commit that fails, with the same offset and files, written once', async () => {
    const encoded: string[] = [];
    const h = startWriter({ commitTimeoutMs: 200, encoderPool: countingEncoderPool(encoded) });
    h.checkpointer.failNext(1);
    await h.append(appendOf([0, 1, 2]));
    expect(await h.flush(10_000)).toEqual({ committedOffset: '2' });
    // The retry committed the tmp file the first attempt wrote (its rows were no longer in memory).
    expect(encoded).toEqual([tmpPathFor(rawPath('2024-03-01', 0, 2))]);

    expect(h.checkpointer.failed).toHaveLength(1);
    expect(h.checkpointer.received).toHaveLength(2);
    expect(h.checkpointer.received[1]).toEqual(h.checkpointer.received[0]);
    expect(h.checkpointer.renameErrors).toEqual([]);
    expect(await listFiles(h.lakeRoot)).toEqual([rawPath('2024-03-01', 0, 2)]);
    expect(await eventIds(h, rawPath('2024-03-01', 0, 2))).toEqual(['e-0', 'e-1', 'e-2']);
    expect(existsSync(join(h.lakeRoot, tmpPathFor(rawPath('2024-03-01', 0, 2))))).toBe(false);
    // Nothing else is in flight afterwards.
    await sleep(50);
    expect(await h.status()).toMatchObject({ rolling: false, committedOffset: '2', bufferedRows: 0 });
  });

  it('does not write a roll again when its commit happened but the reply was lost', async () => {
    const h = startWriter({ commitTimeoutMs: 200 });
    h.checkpointer.loseRepliesOfNext(1);
    await h.append(appendOf([0, 1, 2]));
    expect(await h.flush(10_000)).toEqual({ committedOffset: '2' });

    // One commit only: the retry saw the offset committed and wrote nothing.
    expect(h.checkpointer.received).toHaveLength(1);
    expect(h.checkpointer.committed).toHaveLength(1);
    expect(await listFiles(h.lakeRoot)).toEqual([rawPath('2024-03-01', 0, 2)]);
    expect(await eventIds(h, rawPath('2024-03-01', 0, 2))).toEqual(['e-0', 'e-1', 'e-2']);
    await h.append(appendOf([3]));
    expect(await h.flush(10_000)).toEqual({ committedOffset: '3' });
    expect(h.checkpointer.committed.map((e) => (e.type === 'raw' ? e.offset : ''))).toEqual(['2', '3']);
  });
});

describe('lake writer: the shared row budget', () => {
  it('rolls early when the budget is spent, pauses while its roll holds the rows, and gives them back once written', async () => {
    const budget = new BufferBudget(20); // rolls of at least 20 / 16 = 1 row under pressure
    const encodes = gate();
    const h = startWriter({ budget, maxFileRows: 1_000, encoderPool: gatedEncoderPool(encodes) });
    // Over budget with 25 rows: rolled at once although far below max_file_rows, and since the
    // rows stay held until that roll has written them, fetching must pause meanwhile.
    expect(await h.append(appendOf(range(0, 24)))).toEqual({ backlogHigh: true });
    await sleep(50);
    expect(budget.used).toBe(25);
    expect(h.drained).toHaveLength(0);
    encodes.open();
    await waitFor(() => h.drained.length === 1, 'onDrained once the roll is written', Q_MS);
    expect(budget.used).toBe(0);
    await waitFor(() => h.checkpointer.committed.length === 1, 'the commit', Q_MS);
    expect(h.checkpointer.committed[0]).toMatchObject({ offset: '24', rows: 25 });
  });

  it("gives a roll's rows back once its tmp files are written, while its commit is still under way", async () => {
    const budget = new BufferBudget(20);
    const h = startWriter({ budget, maxFileRows: 1_000 });
    h.checkpointer.hold();
    expect(await h.append(appendOf(range(0, 24)))).toEqual({ backlogHigh: true });
    // The rows are on disk: fetching resumes although Kafka has not committed the roll yet.
    await waitFor(() => h.drained.length === 1, 'onDrained before the commit', Q_MS);
    expect(budget.used).toBe(0);
    expect(h.checkpointer.committed).toHaveLength(0);
    expect(existsSync(join(h.lakeRoot, tmpPathFor(rawPath('2024-03-01', 0, 24))))).toBe(true);
    // What arrives meanwhile is held until the next roll has written it.
    expect(await h.append(appendOf(range(25, 29)))).toEqual({ backlogHigh: false });
    expect(budget.used).toBe(5);
    h.checkpointer.release();
    expect(await h.flush()).toEqual({ committedOffset: '29' });
    expect(budget.used).toBe(0);
    expect(await listFiles(h.lakeRoot)).toEqual([rawPath('2024-03-01', 0, 24), rawPath('2024-03-01', 25, 29)]);
  });

  it('stopped with a written roll in flight, it gives back only the rows it still buffers', async () => {
    const budget = new BufferBudget(1_000);
    budget.take(100); // another writer's rows
    const h = startWriter({ budget, maxFileRows: 3 });
    h.checkpointer.hold();
    await h.append(appendOf([0, 1, 2])); // a roll, written, its commit held
    await waitFor(() => budget.used === 100, 'the roll written', Q_MS);
    await h.append(appendOf([3])); // buffered behind it
    expect(budget.used).toBe(101);
    stop(h.writer);
    await sleep(50);
    // The written roll's rows went back once; the other writer's 100 are still held.
    expect(budget.used).toBe(100);
  });

  it('rolls early from three quarters of the budget without pausing, so the encoder gets rolls while rows still arrive', async () => {
    const budget = new BufferBudget(160); // early rolls of at least 160 / 16 = 10 rows
    const h = startWriter({ budget, maxFileRows: 1_000 });
    budget.take(100); // other writers' rows
    expect(await h.append(appendOf(range(0, 9)))).toEqual({ backlogHigh: false }); // 110: not pressing yet
    await sleep(50);
    expect(h.checkpointer.received).toHaveLength(0);
    // 125 of 160: pressing, not exceeded; this writer holds 25 rows and rolls them, fetching goes on.
    expect(await h.append(appendOf(range(10, 24)))).toEqual({ backlogHigh: false });
    await waitFor(() => h.checkpointer.committed.length === 1, 'an early roll under the soft limit', Q_MS);
    expect(h.checkpointer.committed[0]).toMatchObject({ offset: '24', rows: 25 });
    expect(budget.used).toBe(100);
    expect(h.drained).toHaveLength(0);
  });

  it('pauses a writer that cannot help while others hold the budget, and resumes it when they give rows back', async () => {
    const budget = new BufferBudget(100);
    const h = startWriter({ budget, maxFileRows: 1_000 });
    budget.take(100); // another writer's rows
    // 3 rows are fewer than an early roll may be (100 / 16 = 6): this writer pauses instead.
    expect(await h.append(appendOf([0, 1, 2]))).toEqual({ backlogHigh: true });
    await sleep(50);
    expect(h.checkpointer.received).toHaveLength(0);
    budget.release(100);
    await waitFor(() => h.drained.length === 1, 'onDrained once the budget has room', Q_MS);
    expect(await h.append(appendOf([3]))).toEqual({ backlogHigh: false });
  });
});
