// First import, as in the ETL (main.ts, client.ts): the swaps must happen before kafkajs loads.
import {
  installKafkajsFetchFastPaths,
  kafkajsFetchFastPathsStatus,
} from '../../../../src/kafka/patches/fetchFastPaths.js';
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fastRecordBatch } from '../../../../src/kafka/patches/recordBatchEncoder.js';
import { areLeanRecords, LEAN_DECODE_MESSAGES } from '../../../../src/kafka/patches/fetchRecordDecoder.js';
import { installKafkajsConsumerFixes } from '../../../../src/kafka/patches/consumerFixes.js';
import { LEAN_BATCH_SHIM, LeanBatch } from '../../../../src/kafka/patches/leanBatch.js';
import { registerLz4Codec } from '../../../../src/kafka/lz4Codec.js';

const require = createRequire(import.meta.url);
const { CompressionTypes } = kafkajs;

/** A Fetch v11 response with one topic and one partition holding `records`. */
function fetchV11Response(topic: string, partition: number, records: Buffer): Buffer {
  const name = Buffer.from(topic);
  const head = Buffer.alloc(4 + 2 + 4 + 4 + 2 + name.length + 4);
  let at = head.writeInt32BE(0, 0); // throttle
  at = head.writeInt16BE(0, at); // error
  at = head.writeInt32BE(0, at); // session
  at = head.writeInt32BE(1, at); // topics
  at = head.writeInt16BE(name.length, at);
  at += name.copy(head, at);
  head.writeInt32BE(1, at); // partitions
  const part = Buffer.alloc(4 + 2 + 8 * 3 + 4 + 4 + 4);
  at = part.writeInt32BE(partition, 0);
  at = part.writeInt16BE(0, at);
  at = part.writeBigInt64BE(3n, at); // high watermark
  at = part.writeBigInt64BE(3n, at); // last stable offset
  at = part.writeBigInt64BE(0n, at); // log start offset
  at = part.writeInt32BE(0, at); // aborted transactions
  at = part.writeInt32BE(-1, at); // preferred read replica
  part.writeInt32BE(records.length, at);
  return Buffer.concat([head, part, records]);
}

describe('kafkajs lean fetch decoding', () => {
  it('is installed in a thread that loads the Kafka client module first', () => {
    expect(typeof createKafkaClient).toBe('function');
    expect(installKafkajsConsumerFixes().state).toBe('active');
    expect(kafkajsFetchFastPathsStatus()).toEqual({ decodeMessages: 'swapped', batch: 'swapped' });
    expect(installKafkajsFetchFastPaths()).toEqual({ decodeMessages: 'swapped', batch: 'swapped' });
    const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as Record<
      symbol,
      unknown
    >;
    expect(decodeMessages[LEAN_DECODE_MESSAGES]).toBeTypeOf('function');
    const batch = require('kafkajs/src/consumer/batch.js') as Record<symbol, unknown>;
    expect(batch[LEAN_BATCH_SHIM]).toBeTypeOf('function');
  });

  it("reaches kafkajs's Fetch response decoding and its consumer group's Batch", async () => {
    registerLz4Codec();
    const records = (
      await fastRecordBatch(
        { compression: CompressionTypes.LZ4, firstOffset: '0', lastOffsetDelta: 2 },
        [0, 1, 2].map((i) => ({ key: null, value: `v${i}`, offsetDelta: i, timestampDelta: i })),
      )
    ).buffer;
    // The Fetch version kafkajs 2.2.4 negotiates with current brokers: its response module loads now.
    const fetch = require('kafkajs/src/protocol/requests/fetch/index.js') as {
      protocol(args: { version: number }): (args: Record<string, unknown>) => {
        response: {
          decode(buffer: Buffer): Promise<{
            responses: Array<{ partitions: Array<{ messages: unknown[]; highWatermark: string; partition: number }> }>;
          }>;
        };
      };
    };
    const { response } = fetch.protocol({ version: 11 })({
      maxWaitTime: 100,
      minBytes: 1,
      maxBytes: 1024,
      topics: [],
      isolationLevel: 1,
    });
    const decoded = await response.decode(fetchV11Response('t', 2, Buffer.from(records)));
    const partitionData = decoded.responses[0]!.partitions[0]!;
    expect(areLeanRecords(partitionData.messages)).toBe(true);
    // consumerGroup.js binds './batch' when kafkajs loads: the shim it got builds lean batches.
    const Batch = require('kafkajs/src/consumer/batch.js') as new (
      topic: string,
      offset: string,
      data: unknown,
    ) => unknown;
    const batch = new Batch('t', '0', partitionData) as LeanBatch;
    expect(batch).toBeInstanceOf(LeanBatch);
    expect(batch.messages.map((m) => [m.offset, m.value?.toString()])).toEqual([
      ['0', 'v0'],
      ['1', 'v1'],
      ['2', 'v2'],
    ]);
    expect(batch.lastOffset()).toBe('2');
  });
});
