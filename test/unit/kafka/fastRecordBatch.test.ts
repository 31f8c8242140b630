import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeRecords, fastRecordBatch, installFastRecordBatch, kafkajsRecordBatch, type RecordBatchInput, type RecordInput } from '../../../src/kafka/fastRecordBatch.js';
import { registerLz4Codec } from '../../../src/kafka/lz4Codec.js';

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
    const text = JSON.stringify({ event_id: `e-${i}`, url: `https://shop.example.com/p/${Math.floor(next() * 1e6)}`, note: 'x'.repeat(Math.floor(next() * 300)) });
    out.push({
      key: kind === 0 ? null : kind === 1 ? Buffer.from(`k-${i}`) : kind === 2 ? 'clé-ü-😀' : kind === 3 ? undefined : `u-${String(i).padStart(6, '0')}`,
      value: kind === 4 ? null : kind === 5 ? Buffer.from(text) : kind === 6 ? `{"emoji":"😀","é":"ü${i}"}` : kind === 7 ? '' : text,
      offsetDelta: i,
      timestampDelta: kind === 3 ? Math.floor(next() * 100_000) : 0,
    });
  }
  return out;
}

function batchInput(records: RecordInput[], compression: number): RecordBatchInput {
  return {
    compression,
    firstTimestamp: 1_714_564_800_000,
    maxTimestamp: 1_714_564_899_999,
    transactional: true,
    producerId: 4242,
    producerEpoch: 3,
    firstSequence: 17,
    lastOffsetDelta: records.length - 1,
    records,
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
    const ours = await fastRecordBatch(batchInput(records, compression));
    const theirs = await kafkajsRecordBatch(batchInput(records, compression));
    expect(ours.buffer.length).toBeGreaterThan(100);
    expect(ours.buffer.equals(theirs.buffer)).toBe(true);
    expect(ours.size()).toBe(theirs.size());
  });

  it('falls back to kafkajs for records with headers, other field types or huge timestamp deltas, keeping the bytes identical', async () => {
    const records: RecordInput[] = [
      { key: 'a', value: 'plain', offsetDelta: 0, timestampDelta: 0 },
      { key: 'b', value: 'with headers', headers: { trace: 'abc', tags: ['x', 'y'] }, offsetDelta: 1, timestampDelta: 0 },
      { key: 'c', value: 'far in time', offsetDelta: 2, timestampDelta: 2 ** 40 },
      { key: 'd', value: 'negative delta', offsetDelta: 3, timestampDelta: -5 },
      { key: 'e', value: 'empty headers', headers: {}, offsetDelta: 4, timestampDelta: 0 },
    ];
    for (const compression of [CompressionTypes.None, CompressionTypes.LZ4]) {
      const ours = await fastRecordBatch(batchInput(records, compression));
      const theirs = await kafkajsRecordBatch(batchInput(records, compression));
      expect(ours.buffer.equals(theirs.buffer)).toBe(true);
    }
  });

  it('lays a record out as the Kafka protocol says', () => {
    // length 8 (zigzag 16), attributes 0, timestamp delta 0, offset delta 1 (zigzag 2), key "k", value "v", no headers
    expect([...encodeRecords([{ key: 'k', value: 'v', offsetDelta: 1, timestampDelta: 0 }])]).toEqual([0x10, 0, 0, 0x02, 0x02, 0x6b, 0x02, 0x76, 0]);
    // null key: length -1 (zigzag 1)
    expect([...encodeRecords([{ key: null, value: 'v', offsetDelta: 0, timestampDelta: 0 }])]).toEqual([0x0e, 0, 0, 0, 0x01, 0x02, 0x76, 0]);
  });

  it('is decoded by kafkajs back to the same messages', async () => {
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
    const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer | null; value: Buffer | null; offset: string }> }>;
    const records = messages(500);
    const encoded = await fastRecordBatch(batchInput(records, CompressionTypes.LZ4));
    const decoded = await RecordBatchDecoder(new Decoder(encoded.buffer));
    expect(decoded.records).toHaveLength(records.length);
    decoded.records.forEach((r, i) => {
      const sent = records[i]!;
      const asBuffer = (v: unknown): Buffer | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      expect(r.key === null ? null : Buffer.from(r.key)).toEqual(asBuffer(sent.key));
      expect(r.value === null ? null : Buffer.from(r.value)).toEqual(asBuffer(sent.value));
      expect(r.offset).toBe(String(i));
    });
  });

  it('installs itself into kafkajs before the first produce request is loaded', () => {
    const produceV3 = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
    expect(require.cache[produceV3]).toBeUndefined();
    expect(installFastRecordBatch()).toBe('installed');
    expect(installFastRecordBatch()).toBe('already-installed');
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: unknown };
    expect(RecordBatch).toBe(fastRecordBatch);
    // The produce request now binds the swapped modules.
    const request = require(produceV3) as (args: Record<string, unknown>) => { encode(): Promise<{ buffer: Buffer }> };
    expect(typeof request).toBe('function');
  });
});
