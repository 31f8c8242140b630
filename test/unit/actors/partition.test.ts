import { afterEach, describe, expect, it } from 'vitest';
import {
  spawnPartition,
  type PartitionBatchReply,
  type PartitionMsg,
  type PartitionStatus,
} from '../../../src/actors/partition.js';
import type { WriterFlushReply } from '../../../src/actors/lakeWriter.js';
import type { StreamName } from '../../../src/events/types.js';
import type { RejectReason } from '../../../src/events/validate.js';
import type { ConsumedBatch, ConsumedMessage } from '../../../src/kafka/topicConsumer.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import type { RowOf } from '../../../src/lake/tables.js';
import { dispatch, query, spawn, type Ref, type SystemRef } from '../../../src/system/nact.js';
import type { CheckpointerMsg } from '../../../src/actors/checkpointer.js';
import { spawnFakeAggregator, type FakeAggregator } from './fakes/fakeAggregator.js';
import { spawnFakeCheckpointer } from './fakes/fakeCheckpointer.js';
import { createFakeWriter, type FakeWriter } from './fakes/fakeWriter.js';
import { cleanUp, newSystem, onCleanUp, silentLogger, sleep, waitFor } from './fakes/testKit.js';

afterEach(cleanUp);

const PARTITION = 2;
const MINUTE_MS = 60_000;
/** An epoch-aligned minute: 2024-03-05T10:00:00Z. */
const M = Date.UTC(2024, 2, 5, 10, 0, 0);
const MAX_EVENT_BYTES = 512;
const MAX_FUTURE_SKEW_MS = 3_600_000;
const Q_MS = 5_000;

interface FetchCalls {
  calls: Array<'pause' | 'resume'>;
  pause(): void;
  resume(): void;
}

interface Harness {
  ref: Ref<PartitionMsg>;
  writer: FakeWriter;
  aggregator?: FakeAggregator;
  fetch: FetchCalls;
  rejectedReasons: RejectReason[];
  batch(batch: ConsumedBatch): Promise<PartitionBatchReply>;
  status(): Promise<PartitionStatus>;
}

function startPartition(
  stream: StreamName,
  offsets: { raw?: string; agg?: string } = {},
  generation?: number,
  stage1?: (system: SystemRef) => Ref<CheckpointerMsg>,
): Harness {
  const system = newSystem();
  const writer = createFakeWriter();
  const aggregator = stream === 'clickstream' && !stage1 ? spawnFakeAggregator(system) : undefined;
  const fetch: FetchCalls = {
    calls: [],
    pause() {
      fetch.calls.push('pause');
    },
    resume() {
      fetch.calls.push('resume');
    },
  };
  const encoderPool = createEncoderPool({ threads: 0 });
  onCleanUp(() => encoderPool.close());
  const rejectedReasons: RejectReason[] = [];
  const ref = spawnPartition(system, {
    topic: stream,
    stream,
    partition: PARTITION,
    writer: {
      table: stream,
      topic: stream,
      partition: PARTITION,
      lakeRoot: '/nonexistent-lake',
      encoderPool,
      encoder: 'hyparquet-writer',
      checkpointer: spawnFakeCheckpointer(system, '/nonexistent-lake').ref,
      maxFileRows: 1000,
      maxFileBytes: 1 << 20,
      maxFileAgeMs: 60_000,
      maxFileIdleMs: 60_000,
      rowGroupRows: 1000,
      commitTimeoutMs: Q_MS,
      logger: silentLogger,
      ...(generation !== undefined ? { generation } : {}),
    },
    spawnWriter: writer.spawnWriter,
    ...(aggregator ? { aggregator: aggregator.ref } : {}),
    ...(stage1 ? { stage1: { checkpointer: stage1(system), taskEpoch: 7 } } : {}),
    rawOffset: offsets.raw ?? '-1',
    ...(offsets.agg !== undefined ? { aggOffset: offsets.agg } : {}),
    windowSizeMs: MINUTE_MS,
    decode: { maxEventBytes: MAX_EVENT_BYTES, maxFutureSkewMs: MAX_FUTURE_SKEW_MS },
    fetch,
    queryTimeoutMs: Q_MS,
    logger: silentLogger,
    onRejected: (reason) => rejectedReasons.push(reason),
  });
  return {
    ref,
    writer,
    ...(aggregator ? { aggregator } : {}),
    fetch,
    rejectedReasons,
    batch: (batch) => query<PartitionMsg, PartitionBatchReply>(ref, () => ({ type: 'batch', batch }), Q_MS),
    status: () => query<PartitionMsg, PartitionStatus>(ref, () => ({ type: 'status' }), Q_MS),
  };
}

interface KafkaRecord {
  offset: number;
  value: Buffer | null;
  /** Kafka record timestamp; the event time by default. */
  timestampMs: number;
}

function batchOf(topic: string, records: KafkaRecord[], caughtUp = false): ConsumedBatch {
  const messages: ConsumedMessage[] = records.map((r) => ({
    offset: String(r.offset),
    value: r.value,
    key: null,
    timestampMs: r.timestampMs,
  }));
  const last = records[records.length - 1]!.offset;
  return {
    topic,
    partition: PARTITION,
    fetchedOffset: String(records[0]!.offset),
    lastOffset: String(last),
    highWatermark: String(last + 1),
    caughtUp,
    messages,
  };
}

function clickEvent(offset: number, tsMs: number, url = '/home', overrides: object = {}): object {
  return {
    event_id: `e-${offset}`,
    user_id: `u-${offset % 3}`,
    url,
    referrer: offset % 2 === 0 ? 'https://ref.example/' : null,
    ua: 'Mozilla/5.0',
    ts: new Date(tsMs).toISOString(),
    ...overrides,
  };
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function click(offset: number, tsMs: number, url = '/home'): KafkaRecord {
  return { offset, value: json(clickEvent(offset, tsMs, url)), timestampMs: tsMs + 5 };
}

function clickRow(offset: number, tsMs: number, url = '/home'): { dt: string; row: RowOf<'clickstream'> } {
  return {
    dt: new Date(tsMs).toISOString().slice(0, 10),
    row: {
      event_id: `e-${offset}`,
      user_id: `u-${offset % 3}`,
      url,
      referrer: offset % 2 === 0 ? 'https://ref.example/' : null,
      ua: 'Mozilla/5.0',
      ts: tsMs,
    },
  };
}

function iotEvent(offset: number, tsMs: number | string, overrides: object = {}): object {
  return {
    device_id: `d-${offset}`,
    site: 'plant-a',
    temp_c: 21.5,
    humidity: 40,
    battery: 87.5,
    signal_strength: -67,
    ts: tsMs,
    ...overrides,
  };
}

const sum = (counts: ReadonlyArray<{ count: number }>): number => counts.reduce((n, c) => n + c.count, 0);

describe('partition: routing valid events', () => {
  it('sends clickstream rows by UTC date to the writer and page views per (window, url) to the aggregator', async () => {
    const h = startPartition('clickstream');
    const events: Array<[number, number, string]> = [
      [0, M + 1_000, '/home'],
      [1, M + 2_000, '/cart'],
      [2, M + 59_999, '/home'],
      [3, M + MINUTE_MS, '/home'],
      [4, M + MINUTE_MS + 30_000, '/cart'],
    ];
    const records = events.map(([o, ts, url]) => click(o, ts, url));
    // Epoch millis on the wire are accepted too.
    records.push({
      offset: 5,
      value: json({ ...clickEvent(5, M + 90_000, '/home'), ts: M + 90_000 }),
      timestampMs: M + 90_000,
    });

    expect(await h.batch(batchOf('clickstream', records, true))).toEqual({ paused: false });

    expect(h.writer.appends).toEqual([
      {
        type: 'append',
        generation: 0,
        firstOffset: '0',
        lastOffset: '5',
        rows: [...events.map(([o, ts, url]) => clickRow(o, ts, url)), clickRow(5, M + 90_000, '/home')],
        rejected: [],
      },
    ]);
    expect(h.aggregator!.batches).toEqual([
      {
        partition: PARTITION,
        lastOffset: '5',
        maxEventTimeMs: M + 90_000,
        caughtUp: true,
        lateCount: 0,
        counts: [
          { windowStartMs: M, url: '/cart', count: 1 },
          { windowStartMs: M, url: '/home', count: 2 },
          { windowStartMs: M + MINUTE_MS, url: '/cart', count: 1 },
          { windowStartMs: M + MINUTE_MS, url: '/home', count: 2 },
        ],
      },
    ]);
    expect(sum(h.aggregator!.batches[0]!.counts)).toBe(records.length);
    expect(await h.status()).toMatchObject({
      valid: 6,
      rejected: {},
      rawOffset: '5',
      aggOffset: '5',
      caughtUp: true,
      paused: false,
    });
  });

  it('sends IoT rows to the writer, split by the UTC date of their ts', async () => {
    const h = startPartition('iot');
    const lastMsOfDay = Date.UTC(2024, 2, 5, 23, 59, 59, 999);
    const nextDay = Date.UTC(2024, 2, 6);
    await h.batch(
      batchOf('iot', [
        { offset: 10, value: json(iotEvent(10, new Date(lastMsOfDay).toISOString())), timestampMs: lastMsOfDay },
        {
          offset: 11,
          value: json(iotEvent(11, nextDay, { temp_c: -5.25, battery: 0, signal_strength: -150 })),
          timestampMs: nextDay,
        },
      ]),
    );
    expect(h.writer.appends).toEqual([
      {
        type: 'append',
        generation: 0,
        firstOffset: '10',
        lastOffset: '11',
        rows: [
          {
            dt: '2024-03-05',
            row: {
              device_id: 'd-10',
              site: 'plant-a',
              temp_c: 21.5,
              humidity: 40,
              battery: 87.5,
              signal_strength: -67,
              ts: lastMsOfDay,
            },
          },
          {
            dt: '2024-03-06',
            row: {
              device_id: 'd-11',
              site: 'plant-a',
              temp_c: -5.25,
              humidity: 40,
              battery: 0,
              signal_strength: -150,
              ts: nextDay,
            },
          },
        ],
        rejected: [],
      },
    ]);
    expect(await h.status()).toMatchObject({ valid: 2, aggOffset: null });
  });

  it('hands the writer its committed offset and an onDrained callback', async () => {
    const h = startPartition('clickstream', { raw: '41', agg: '17' });
    await h.status();
    expect(h.writer.options).toMatchObject({ committedOffset: '41', table: 'clickstream', partition: PARTITION });
    expect(typeof h.writer.options!.onDrained).toBe('function');
    expect(await h.status()).toMatchObject({ rawOffset: '41', aggOffset: '17' });
  });
});

describe('partition: rejected records', () => {
  const recordMs = M + 30_000;
  const otherDayMs = Date.UTC(2024, 2, 4, 23, 59, 59, 999);
  const valid = clickEvent(0, recordMs) as { [key: string]: unknown };
  const { user_id: _dropped, ...missingUser } = valid;
  const invalidUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
  const tooLarge = json({ ...valid, url: `/${'x'.repeat(MAX_EVENT_BYTES)}` });
  const cases: Array<{ name: string; value: Buffer | null; reason: RejectReason; timestampMs?: number }> = [
    { name: 'not JSON', value: Buffer.from('hello, world'), reason: 'not_json' },
    { name: 'truncated JSON', value: json(valid).subarray(0, 30), reason: 'not_json' },
    { name: 'a JSON array', value: Buffer.from('[1,2,3]'), reason: 'not_object' },
    { name: 'a JSON number', value: Buffer.from('42'), reason: 'not_object' },
    { name: 'a missing field', value: json(missingUser), reason: 'missing_field' },
    { name: 'url as a number', value: json({ ...valid, url: 7 }), reason: 'wrong_type' },
    { name: 'an empty value', value: Buffer.alloc(0), reason: 'empty' },
    { name: 'a null value (tombstone)', value: null, reason: 'tombstone', timestampMs: otherDayMs },
    { name: 'larger than max_event_bytes', value: tooLarge, reason: 'too_large' },
    { name: 'invalid UTF-8', value: invalidUtf8, reason: 'invalid_utf8' },
    { name: 'an unparseable ts', value: json({ ...valid, ts: 'yesterday at noon' }), reason: 'ts_unparseable' },
    { name: 'a ts in 1970', value: json({ ...valid, ts: '1970-01-01T00:00:01Z' }), reason: 'ts_out_of_range' },
    {
      name: 'a ts a year ahead of the record',
      value: json({ ...valid, ts: new Date(recordMs + 365 * 86_400_000).toISOString() }),
      reason: 'ts_out_of_range',
    },
  ];

  it('turns every kind of bad record into a _rejected row with its reason, and carries on', async () => {
    const h = startPartition('clickstream');
    const records: KafkaRecord[] = cases.map((c, i) => ({
      offset: 100 + i,
      value: c.value,
      timestampMs: c.timestampMs ?? recordMs,
    }));
    const validOffset = 100 + cases.length;
    records.push(click(validOffset, recordMs, '/after'));
    await h.batch(batchOf('clickstream', records));

    const [append] = h.writer.appends;
    expect(append!.firstOffset).toBe('100');
    expect(append!.lastOffset).toBe(String(validOffset));
    expect(append!.rows).toEqual([clickRow(validOffset, recordMs, '/after')]);
    expect(append!.rejected.map((r) => r.row.reason)).toEqual(cases.map((c) => c.reason));
    cases.forEach((c, i) => {
      const rejected = append!.rejected[i]!;
      const kafkaTsMs = c.timestampMs ?? recordMs;
      expect(rejected.dt, c.name).toBe(new Date(kafkaTsMs).toISOString().slice(0, 10));
      expect(rejected.row, c.name).toMatchObject({
        topic: 'clickstream',
        partition: PARTITION,
        offset: 100 + i,
        reason: c.reason,
        kafka_ts: kafkaTsMs,
      });
      expect(typeof rejected.row.detail, c.name).toBe('string');
      if (c.reason === 'invalid_utf8') {
        expect(rejected.row).toMatchObject({ payload_encoding: 'base64', payload: invalidUtf8.toString('base64') });
      } else {
        expect(rejected.row, c.name).toMatchObject({
          payload_encoding: 'utf8',
          payload: (c.value ?? Buffer.alloc(0)).toString('utf8'),
        });
      }
    });
    // The tombstone's row lands under the date of its own Kafka timestamp.
    expect(append!.rejected[7]!.dt).toBe('2024-03-04');

    const counts: Partial<Record<RejectReason, number>> = {};
    for (const c of cases) counts[c.reason] = (counts[c.reason] ?? 0) + 1;
    expect(await h.status()).toMatchObject({ valid: 1, rejected: counts });
    expect([...h.rejectedReasons].sort()).toEqual(cases.map((c) => c.reason).sort());
    // Only the valid event is a page view.
    expect(h.aggregator!.batches[0]!.counts).toEqual([{ windowStartMs: M, url: '/after', count: 1 }]);

    // The next batch flows as usual.
    await h.batch(batchOf('clickstream', [click(validOffset + 1, recordMs + 1)]));
    expect(h.writer.appends[1]!.rows).toEqual([clickRow(validOffset + 1, recordMs + 1)]);
    expect(h.aggregator!.batches[1]!.counts).toEqual([{ windowStartMs: M, url: '/home', count: 1 }]);
  });

  it('rejects an IoT reading with a negative battery as value_out_of_range', async () => {
    const h = startPartition('iot');
    const payload = json(iotEvent(0, M, { battery: -1 }));
    await h.batch(
      batchOf('iot', [
        { offset: 0, value: payload, timestampMs: M },
        { offset: 1, value: json(iotEvent(1, M)), timestampMs: M },
      ]),
    );
    const [append] = h.writer.appends;
    expect(append!.rejected).toEqual([
      {
        dt: '2024-03-05',
        row: {
          topic: 'iot',
          partition: PARTITION,
          offset: 0,
          reason: 'value_out_of_range',
          detail: expect.stringContaining('battery'),
          payload: payload.toString('utf8'),
          payload_encoding: 'utf8',
          kafka_ts: M,
        },
      },
    ]);
    expect(append!.rows.map((r) => (r.row as RowOf<'iot'>).device_id)).toEqual(['d-1']);
    expect(h.rejectedReasons).toEqual(['value_out_of_range']);
  });
});

describe('partition: sink offsets', () => {
  const records = (from: number, to: number): KafkaRecord[] =>
    Array.from({ length: to - from + 1 }, (_, i) => click(from + i, M + (from + i) * 1000));
  const offsetsOf = (h: Harness, i: number): string[] =>
    h.writer.appends[i]!.rows.map((r) => (r.row as RowOf<'clickstream'>).event_id);

  it('sends the writer only records above its offset, the aggregator those above its own', async () => {
    const h = startPartition('clickstream', { raw: '4', agg: '1' });
    await h.batch(batchOf('clickstream', records(0, 7)));
    expect(h.writer.appends[0]).toMatchObject({ firstOffset: '5', lastOffset: '7' });
    expect(offsetsOf(h, 0)).toEqual(['e-5', 'e-6', 'e-7']);
    expect(h.aggregator!.batches[0]).toMatchObject({ lastOffset: '7' });
    expect(sum(h.aggregator!.batches[0]!.counts)).toBe(6); // offsets 2..7

    // Both floors are now 7: the next batch goes whole to both.
    await h.batch(batchOf('clickstream', records(8, 9)));
    expect(offsetsOf(h, 1)).toEqual(['e-8', 'e-9']);
    expect(sum(h.aggregator!.batches[1]!.counts)).toBe(2);
  });

  it('and the other way round: aggregator behind the writer', async () => {
    const h = startPartition('clickstream', { raw: '1', agg: '4' });
    await h.batch(batchOf('clickstream', records(0, 7)));
    expect(h.writer.appends[0]).toMatchObject({ firstOffset: '2', lastOffset: '7' });
    expect(offsetsOf(h, 0)).toEqual(['e-2', 'e-3', 'e-4', 'e-5', 'e-6', 'e-7']);
    expect(sum(h.aggregator!.batches[0]!.counts)).toBe(3); // offsets 5..7
  });

  it('sends a batch only to the sinks still behind it, and nowhere when both hold it', async () => {
    const h = startPartition('clickstream', { raw: '9', agg: '5' });
    await h.batch(batchOf('clickstream', records(0, 5)));
    expect(h.writer.appends).toEqual([]);
    expect(h.aggregator!.batches).toEqual([]);

    await h.batch(batchOf('clickstream', records(6, 9)));
    expect(h.writer.appends).toEqual([]);
    expect(h.aggregator!.batches).toHaveLength(1);
    expect(sum(h.aggregator!.batches[0]!.counts)).toBe(4);
    expect(await h.status()).toMatchObject({ rawOffset: '9', aggOffset: '9', valid: 0 });
  });

  it('does not reject again, nor count, bad records the writer already holds', async () => {
    const h = startPartition('clickstream', { raw: '1', agg: '-1' });
    await h.batch(
      batchOf('clickstream', [{ offset: 0, value: Buffer.from('junk'), timestampMs: M }, click(1, M), click(2, M + 1)]),
    );
    expect(h.writer.appends[0]!.rejected).toEqual([]);
    expect(offsetsOf(h, 0)).toEqual(['e-2']);
    expect(h.rejectedReasons).toEqual([]);
    expect(sum(h.aggregator!.batches[0]!.counts)).toBe(2);
  });
});

describe('partition: late events', () => {
  it('counts as late the events older than the watermark the aggregator last replied, and still writes them', async () => {
    const h = startPartition('clickstream');
    const watermarkMs = M + 2 * MINUTE_MS;
    h.aggregator!.globalWatermarkMs = watermarkMs;
    await h.batch(batchOf('clickstream', [click(0, M + 10_000), click(1, watermarkMs + 30_000)]));
    // Before the first reply the partition knows no watermark: nothing is late.
    expect(h.aggregator!.batches[0]).toMatchObject({ lateCount: 0 });

    await h.batch(
      batchOf('clickstream', [
        click(2, M + MINUTE_MS, '/late'),
        click(3, watermarkMs + 10_000),
        click(4, M + 5_000, '/late'),
        click(5, watermarkMs, '/edge'),
      ]),
    );
    expect(h.aggregator!.batches[1]).toEqual({
      partition: PARTITION,
      lastOffset: '5',
      maxEventTimeMs: watermarkMs + 10_000,
      caughtUp: false,
      lateCount: 2,
      counts: [
        { windowStartMs: watermarkMs, url: '/edge', count: 1 },
        { windowStartMs: watermarkMs, url: '/home', count: 1 },
      ],
    });
    expect(h.writer.appends[1]!.rows.map((r) => (r.row as RowOf<'clickstream'>).event_id)).toEqual([
      'e-2',
      'e-3',
      'e-4',
      'e-5',
    ]);
  });
});

describe('partition: back-pressure', () => {
  it('pauses once when the writer reports a full backlog and resumes when it drains', async () => {
    const h = startPartition('clickstream');
    h.writer.backlogHigh = true;
    expect(await h.batch(batchOf('clickstream', [click(0, M)]))).toEqual({ paused: true });
    expect(await h.batch(batchOf('clickstream', [click(1, M)]))).toEqual({ paused: true });
    expect(h.fetch.calls).toEqual(['pause']);
    expect(h.aggregator!.others).toEqual([{ type: 'paused', generation: 0, partition: PARTITION, paused: true }]);
    expect(await h.status()).toMatchObject({ paused: true });

    h.writer.backlogHigh = false;
    h.writer.drained();
    await waitFor(() => h.fetch.calls.length === 2, 'resume');
    expect(h.fetch.calls).toEqual(['pause', 'resume']);
    expect(h.aggregator!.others).toEqual([
      { type: 'paused', generation: 0, partition: PARTITION, paused: true },
      { type: 'paused', generation: 0, partition: PARTITION, paused: false },
    ]);
    expect(await h.status()).toMatchObject({ paused: false });

    // A drained signal while not paused changes nothing.
    h.writer.drained();
    await sleep(20);
    expect(h.fetch.calls).toEqual(['pause', 'resume']);
    expect(await h.batch(batchOf('clickstream', [click(2, M)]))).toEqual({ paused: false });
  });

  it('pauses an IoT partition too (no aggregator to tell)', async () => {
    const h = startPartition('iot');
    h.writer.backlogHigh = true;
    expect(await h.batch(batchOf('iot', [{ offset: 0, value: json(iotEvent(0, M)), timestampMs: M }]))).toEqual({
      paused: true,
    });
    expect(h.fetch.calls).toEqual(['pause']);
    h.writer.drained();
    await waitFor(() => h.fetch.calls.length === 2, 'resume');
    expect(h.fetch.calls).toEqual(['pause', 'resume']);
  });
});

describe('partition: the end of a backlog', () => {
  // The harness's writer has maxFileRows 1000: a backlog is at least 100 records behind.
  const behindBy = (lag: number, records: KafkaRecord[]): ConsumedBatch => {
    const batch = batchOf('clickstream', records);
    return { ...batch, highWatermark: String(Number(batch.lastOffset) + 1 + lag) };
  };

  it('tells the writer once, after the batch that reaches the end of a backlog', async () => {
    const h = startPartition('clickstream');
    await h.batch(behindBy(500, [click(0, M), click(1, M)]));
    await h.batch(behindBy(120, [click(2, M)]));
    expect(h.writer.backlogEnds).toEqual([]);
    await h.batch(batchOf('clickstream', [click(3, M), click(4, M)], true));
    // After the last append: the writer rolls a buffer that holds offset 4.
    await waitFor(() => h.writer.backlogEnds.length === 1, 'the end of the backlog');
    expect(h.writer.backlogEnds).toEqual(['4']);
    // Keeping up afterwards is no new backlog.
    await h.batch(batchOf('clickstream', [click(5, M)], true));
    await h.batch(behindBy(10, [click(6, M)]));
    await h.batch(batchOf('clickstream', [click(7, M)], true));
    await sleep(20);
    expect(h.writer.backlogEnds).toEqual(['4']);
    // A second backlog ends again.
    await h.batch(behindBy(100, [click(8, M)]));
    await h.batch(batchOf('clickstream', [click(9, M)], true));
    await waitFor(() => h.writer.backlogEnds.length === 2, 'the end of the second backlog');
    expect(h.writer.backlogEnds).toEqual(['4', '9']);
  });

  it('never tells the writer of a partition that keeps up (a paced stream keeps its large files)', async () => {
    const h = startPartition('iot');
    for (let offset = 0; offset < 20; offset++) {
      const record = { offset, value: json(iotEvent(offset, M)), timestampMs: M };
      // Some fetches end a little short of the end: less than a tenth of a file is no backlog.
      const batch =
        offset % 3 === 0
          ? { ...batchOf('iot', [record]), highWatermark: String(offset + 1 + 99) }
          : batchOf('iot', [record], true);
      await h.batch(batch);
    }
    await sleep(20);
    expect(h.writer.backlogEnds).toEqual([]);
  });

  it('counts a fetch of transaction markers only that reaches the end as the end of the backlog', async () => {
    const h = startPartition('clickstream');
    await h.batch(behindBy(1_000, [click(0, M)]));
    dispatch(h.ref, { type: 'progress', caughtUp: false });
    await sleep(20);
    expect(h.writer.backlogEnds).toEqual([]);
    dispatch(h.ref, { type: 'progress', caughtUp: true });
    await waitFor(() => h.writer.backlogEnds.length === 1, 'the end of the backlog');
    expect(h.writer.backlogEnds).toEqual(['0']);
  });
});

describe('partition: ETL generation', () => {
  it("tags every append, batch, pause and progress report with its writer options' generation", async () => {
    const h = startPartition('clickstream', {}, 3);
    await h.batch(batchOf('clickstream', [click(0, M), click(1, M)]));
    dispatch(h.ref, { type: 'progress', caughtUp: true });
    await waitFor(() => h.aggregator!.others.length === 1, 'progress');
    expect(h.writer.appends.map((a) => a.generation)).toEqual([3]);
    expect(h.aggregator!.batchGenerations).toEqual([3]);
    expect(h.aggregator!.others).toEqual([{ type: 'progress', generation: 3, partition: PARTITION, caughtUp: true }]);
  });
});

describe('partition: other messages', () => {
  it('forwards progress to the aggregator and flush to the writer', async () => {
    const h = startPartition('clickstream');
    await h.batch(batchOf('clickstream', [click(0, M), click(1, M)]));
    const flushed = await query<PartitionMsg, WriterFlushReply>(h.ref, () => ({ type: 'flush' }), Q_MS);
    expect(flushed).toEqual({ committedOffset: '1' });
    expect(h.writer.flushes).toBe(1);

    dispatch(h.ref, { type: 'progress', caughtUp: true });
    await waitFor(() => h.aggregator!.others.length === 1, 'progress');
    expect(h.aggregator!.others).toEqual([{ type: 'progress', generation: 0, partition: PARTITION, caughtUp: true }]);
    expect(await h.status()).toMatchObject({ caughtUp: true });
  });
});

describe('partition: stage 1 of the windows across members', () => {
  /** The checkpointer as the partition sees it: where its page views and state go. */
  function recorder(): { messages: CheckpointerMsg[]; spawn: (system: SystemRef) => Ref<CheckpointerMsg> } {
    const messages: CheckpointerMsg[] = [];
    return {
      messages,
      spawn: (system) =>
        spawn<null, CheckpointerMsg>(
          system,
          (st, msg) => {
            messages.push(msg);
            return st;
          },
          'checkpointer-recorder',
        ),
    };
  }
  const records = (from: number, to: number): KafkaRecord[] =>
    Array.from({ length: to - from + 1 }, (_, i) => click(from + i, M + (from + i) * 1000));

  it('sends each batch’s page views above its window floor to its task, counted with no watermark', async () => {
    const r = recorder();
    const h = startPartition('clickstream', { raw: '-1', agg: '2' }, 3, r.spawn);
    await h.batch(batchOf('clickstream', records(0, 7), true));
    await waitFor(() => r.messages.length > 0, 'pageViews');
    const [msg] = r.messages;
    expect(msg).toMatchObject({
      type: 'pageViews',
      topic: 'clickstream',
      partition: PARTITION,
      taskEpoch: 7,
      generation: 3,
      caughtUp: true,
      batch: { lastOffset: '7', lateCount: 0 },
    });
    if (msg?.type !== 'pageViews') throw new Error('not pageViews');
    expect(sum(msg.batch.counts)).toBe(5); // offsets 3..7
    expect(h.writer.appends[0]).toMatchObject({ firstOffset: '0', lastOffset: '7' });
    expect(await h.status()).toMatchObject({ aggOffset: '7' });
  });

  it('tells its task how far it is read when a fetch brings nothing for the windows', async () => {
    const r = recorder();
    const h = startPartition('clickstream', { raw: '9', agg: '9' }, 0, r.spawn);
    await h.batch(batchOf('clickstream', records(0, 5), true));
    dispatch(h.ref, { type: 'progress', caughtUp: true });
    await waitFor(() => r.messages.length >= 2, 'sourceState');
    for (const m of r.messages)
      expect(m).toMatchObject({ type: 'sourceState', partition: PARTITION, taskEpoch: 7, caughtUp: true });
  });
});
