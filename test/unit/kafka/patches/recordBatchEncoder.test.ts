import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  encodeRecords,
  fastProduceRequestV3,
  fastRecordBatch,
  kafkajsRecordBatch,
  type ProducerMessage,
  type RecordBatchHeader,
  type RecordInput,
} from '../../../../src/kafka/patches/recordBatchEncoder.js';
import { registerLz4Codec } from '../../../../src/kafka/lz4Codec.js';
import { EncodedRecords } from '../../../../src/kafka/encodedRecords.js';
import { RecordsBuilder } from '../../../../src/kafka/recordsBuilder.js';

const { CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);

/** Deterministic messages of every shape a producer may send. */
function messages(count: number, seed = 7): RecordInput[] {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const out: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(next() * 8);
    const text = JSON.stringify({
      event_id: `e-${i}`,
      url: `https://shop.example.com/p/${Math.floor(next() * 1e6)}`,
      note: 'x'.repeat(Math.floor(next() * 300)),
    });
    out.push({
      key:
        kind === 0
          ? null
          : kind === 1
            ? Buffer.from(`k-${i}`)
            : kind === 2
              ? 'clé-ü-😀'
              : kind === 3
                ? undefined
                : `u-${String(i).padStart(6, '0')}`,
      value:
        kind === 4
          ? null
          : kind === 5
            ? Buffer.from(text)
            : kind === 6
              ? `{"emoji":"😀","é":"ü${i}"}`
              : kind === 7
                ? ''
                : text,
      offsetDelta: i,
      timestampDelta: kind === 3 ? Math.floor(next() * 100_000) : 0,
    });
  }
  return out;
}

function header(records: readonly RecordInput[], compression: number): RecordBatchHeader {
  return {
    compression,
    firstTimestamp: 1_714_564_800_000,
    maxTimestamp: 1_714_564_899_999,
    transactional: true,
    producerId: 4242,
    producerEpoch: 3,
    firstSequence: 17,
    lastOffsetDelta: records.length - 1,
  };
}

describe('fastRecordBatch', () => {
  registerLz4Codec();

  it.each([
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['lz4', CompressionTypes.LZ4],
  ])('encodes the same bytes as kafkajs (%s)', async (_name, compression) => {
    const records = messages(2_000);
    const ours = await fastRecordBatch(header(records, compression), records);
    const theirs = await kafkajsRecordBatch(header(records, compression), records);
    expect(ours.buffer.length).toBeGreaterThan(100);
    expect(ours.buffer.equals(theirs.buffer)).toBe(true);
    expect(ours.size()).toBe(theirs.size());
  });

  it('falls back to kafkajs for records with headers, other field types or huge timestamp deltas, keeping the bytes identical', async () => {
    const records: RecordInput[] = [
      { key: 'a', value: 'plain', offsetDelta: 0, timestampDelta: 0 },
      {
        key: 'b',
        value: 'with headers',
        headers: { trace: 'abc', tags: ['x', 'y'] },
        offsetDelta: 1,
        timestampDelta: 0,
      },
      { key: 'c', value: 'far in time', offsetDelta: 2, timestampDelta: 2 ** 40 },
      { key: 'd', value: 'negative delta', offsetDelta: 3, timestampDelta: -5 },
      { key: 'e', value: 'empty headers', headers: {}, offsetDelta: 4, timestampDelta: 0 },
    ];
    for (const compression of [CompressionTypes.None, CompressionTypes.LZ4]) {
      const ours = await fastRecordBatch(header(records, compression), records);
      const theirs = await kafkajsRecordBatch(header(records, compression), records);
      expect(ours.buffer.equals(theirs.buffer)).toBe(true);
    }
  });

  it('lays a record out as the Kafka protocol says', () => {
    // length 8 (zigzag 16), attributes 0, timestamp delta 0, offset delta 1 (zigzag 2), key "k", value "v", no headers
    expect([...encodeRecords([{ key: 'k', value: 'v', offsetDelta: 1, timestampDelta: 0 }])]).toEqual([
      0x10, 0, 0, 0x02, 0x02, 0x6b, 0x02, 0x76, 0,
    ]);
    // null key: length -1 (zigzag 1)
    expect([...encodeRecords([{ key: null, value: 'v', offsetDelta: 0, timestampDelta: 0 }])]).toEqual([
      0x0e, 0, 0, 0, 0x01, 0x02, 0x76, 0,
    ]);
  });

  it('is decoded by kafkajs back to the same messages', async () => {
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
    const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
      decoder: unknown,
    ) => Promise<{ records: Array<{ key: Buffer | null; value: Buffer | null; offset: string }> }>;
    const records = messages(500);
    const encoded = await fastRecordBatch(header(records, CompressionTypes.LZ4), records);
    const decoded = await RecordBatchDecoder(new Decoder(encoded.buffer));
    expect(decoded.records).toHaveLength(records.length);
    const asBuffer = (v: unknown): Buffer | null =>
      v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v));
    decoded.records.forEach((r, i) => {
      const sent = records[i]!;
      expect(r.key === null ? null : Buffer.from(r.key)).toEqual(asBuffer(sent.key));
      expect(r.value === null ? null : Buffer.from(r.value)).toEqual(asBuffer(sent.value));
      expect(r.offset).toBe(String(i));
    });
  });
});

describe('fastProduceRequestV3', () => {
  registerLz4Codec();
  // kafkajs's own module, loaded here without any swap (this test file never installs the fast paths).
  const kafkajsRequest = require('kafkajs/src/protocol/requests/produce/v3/request.js') as typeof fastProduceRequestV3;

  it.each([
    ['lz4, transactional', CompressionTypes.LZ4, 'tx-1'],
    ['none, not transactional', CompressionTypes.None, null],
  ])('encodes the same Produce request as kafkajs (%s)', async (_name, compression, transactionalId) => {
    // Fixed clock: both encoders stamp batches without timestamps with Date.now().
    const realNow = Date.now;
    Date.now = () => 1_714_564_800_123;
    try {
      const plain = (from: number, n: number): ProducerMessage[] =>
        messages(n, from).map(({ key, value }) => ({ key, value }));
      const timed: ProducerMessage[] = plain(3, 40).map((m, i) => ({
        ...m,
        timestamp: String(1_714_564_700_000 + i * 7),
      }));
      const args = {
        acks: -1,
        timeout: 30_000,
        transactionalId,
        producerId: 99,
        producerEpoch: 2,
        compression,
        topicData: [
          {
            topic: 'clickstream',
            partitions: [
              { partition: 0, firstSequence: 5, messages: plain(1, 300) },
              { partition: 3, firstSequence: 0, messages: timed },
            ],
          },
          { topic: 'iot', partitions: [{ partition: 1, firstSequence: 12, messages: plain(2, 200) }] },
        ],
      };
      const ours = await fastProduceRequestV3(args).encode();
      const theirs = await kafkajsRequest(args).encode();
      expect(ours.buffer.equals(theirs.buffer)).toBe(true);
      // The same messages written in advance (recordsBuilder.ts), where their keys are strings: the same request.
      const stringKeyed = (from: number, n: number): ProducerMessage[] =>
        plain(from, n).map((m, i) => ({ key: `u-${from}-${i}`, value: m.value ?? '' }));
      const preEncoded = (partition: number, list: ProducerMessage[]): EncodedRecords[] => {
        const builder = new RecordsBuilder({ partitions: 1, recordsPerRequest: list.length });
        for (const m of list) builder.append(m.key as string, m.value as string | Buffer);
        const records = builder.finish()[0]![0]!;
        return new EncodedRecords(partition, records.count, records.records).asMessages();
      };
      const first = stringKeyed(1, 300);
      const second = stringKeyed(2, 200);
      const withMessages = {
        ...args,
        topicData: [
          { topic: 'clickstream', partitions: [{ partition: 2, firstSequence: 5, messages: first }] },
          { topic: 'iot', partitions: [{ partition: 1, firstSequence: 12, messages: second }] },
        ],
      };
      const withRecords = {
        ...args,
        topicData: [
          { topic: 'clickstream', partitions: [{ partition: 2, firstSequence: 5, messages: preEncoded(2, first) }] },
          { topic: 'iot', partitions: [{ partition: 1, firstSequence: 12, messages: preEncoded(1, second) }] },
        ],
      };
      const fromRecords = await fastProduceRequestV3(withRecords).encode();
      const fromMessages = await kafkajsRequest(withMessages).encode();
      expect(fromRecords.buffer.equals(fromMessages.buffer)).toBe(true);
      expect(fastProduceRequestV3(args)).toMatchObject({ apiKey: 0, apiVersion: 3, apiName: 'Produce' });
      expect(fastProduceRequestV3({ ...args, acks: 0 }).expectResponse()).toBe(false);
    } finally {
      Date.now = realNow;
    }
  });
});
