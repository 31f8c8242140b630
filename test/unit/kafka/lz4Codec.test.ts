import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { LZ4_FRAME_MAGIC, lz4FrameCodec, registerLz4Codec } from '../../../src/kafka/lz4Codec.js';

const { CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);

const json = Buffer.from(
  JSON.stringify(
    Array.from({ length: 200 }, (_, i) => ({ event_id: `e-${i}`, url: `/p/${i % 7}`, ts: '2024-03-05T10:00:00.000Z' })),
  ),
);

describe('lz4FrameCodec', () => {
  it('round-trips compressible, random and empty payloads', async () => {
    for (const payload of [json, randomBytes(64 * 1024), Buffer.alloc(0)]) {
      const compressed = await lz4FrameCodec.compress({ buffer: payload });
      expect(Buffer.compare(await lz4FrameCodec.decompress(compressed), payload)).toBe(0);
    }
  });

  it('writes the LZ4 frame format: output starts with the magic bytes 04 22 4D 18', async () => {
    const compressed = await lz4FrameCodec.compress({ buffer: json });
    expect(LZ4_FRAME_MAGIC).toEqual(Buffer.from([0x04, 0x22, 0x4d, 0x18]));
    expect(compressed.subarray(0, 4)).toEqual(LZ4_FRAME_MAGIC);
    expect(compressed.length).toBeLessThan(json.length / 4);
  });
});

describe('registerLz4Codec with kafkajs', () => {
  it('lets kafkajs encode and decode an LZ4 RecordBatch', async () => {
    registerLz4Codec();
    registerLz4Codec(); // idempotent
    // kafkajs internals (no exports map): the same encoder and decoder its producer and consumer use.
    const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
      RecordBatch: (args: object) => Promise<{ buffer: Buffer }>;
    };
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (args: object) => unknown;
    const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
      decoder: unknown,
    ) => Promise<{ records: Array<{ key: Buffer; value: Buffer; offset: string }> }>;
    const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;

    const values = Array.from({ length: 50 }, (_, i) => JSON.stringify({ event_id: `e-${i}`, url: `/p/${i % 5}` }));
    const records = values.map((value, i) =>
      Record({ offsetDelta: i, key: Buffer.from(`u-${i}`), value: Buffer.from(value) }),
    );
    const encoded = await RecordBatch({
      compression: CompressionTypes.LZ4,
      records,
      lastOffsetDelta: values.length - 1,
    });

    // The records went through the LZ4 codec: the batch says so, holds an LZ4 frame and got smaller.
    // Layout: firstOffset int64, length int32, leaderEpoch int32, magic int8, crc int32, attributes int16.
    expect(encoded.buffer.readInt16BE(21) & 0x07).toBe(CompressionTypes.LZ4);
    expect(encoded.buffer.includes(LZ4_FRAME_MAGIC)).toBe(true);
    const plain = await RecordBatch({
      compression: CompressionTypes.None,
      records,
      lastOffsetDelta: values.length - 1,
    });
    expect(encoded.buffer.length).toBeLessThan(plain.buffer.length);

    const decoded = await decodeBatch(new Decoder(encoded.buffer));
    expect(decoded.records.map((r) => r.value.toString())).toEqual(values);
    expect(decoded.records.map((r) => r.key.toString())).toEqual(values.map((_, i) => `u-${i}`));
    expect(decoded.records.map((r) => r.offset)).toEqual(values.map((_, i) => String(i)));
  });
});
