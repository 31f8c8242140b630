/**
 * Microbenchmark of the consumer side of the ETL hot path: `npm run
 * bench:fetch-decode [records] [rounds]`. Builds Fetch record sets as the brokers serve the
 * project's topics (generator clickstream events keyed by user id, transactional LZ4 batches of
 * 500 records, four batches per partition fetch, a commit marker after each batch), then times,
 * per record, what happens between the socket and the partition actor:
 *  - kafkajs: kafkajs 2.2.4's decodeMessages + its Batch (with the aborted-record fix) + the copy
 *    into ConsumedMessage that topicConsumer.ts made before the lean decoding;
 *  - lean: fetchRecordDecoder.ts + leanBatch.ts, records handed on as they are.
 *  - lz4 only: just the LZ4 decompression of the same batches (the floor of both).
 * Rounds alternate so a loaded machine skews all alike; prints ns per record, the best round and the median.
 */
import { createKafkaClient } from '../src/kafka/client.js';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { fastRecordBatch } from '../src/kafka/patches/recordBatchEncoder.js';
import {
  LEAN_DECODE_MESSAGES,
  leanDecodeMessages,
  type CodecLookup,
  type DecodeMessages,
} from '../src/kafka/patches/fetchRecordDecoder.js';
import { createBatchShim, LEAN_BATCH_SHIM, type BatchConstructor } from '../src/kafka/patches/leanBatch.js';
import { lz4FrameCodec, registerLz4Codec } from '../src/kafka/lz4Codec.js';
import { toConsumedMessages, type ConsumedMessage } from '../src/kafka/topicConsumer.js';
import { createClickstreamGenerator } from '../src/generators/clickstream.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const PER_BATCH = 500;
const BATCHES_PER_FETCH = 4;

void createKafkaClient; // loads the swaps first, as the ETL does
const require = createRequire(import.meta.url);
registerLz4Codec();
type DecoderClass = new (buffer: Buffer) => { buffer: Buffer; offset: number };
const Decoder = require('kafkajs/src/protocol/decoder.js') as DecoderClass;
const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodecByAttributes: CodecLookup;
};
const installedDecode = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as DecodeMessages;
const kafkajsDecode =
  (installedDecode as unknown as Record<symbol, DecodeMessages>)[LEAN_DECODE_MESSAGES] ?? installedDecode;
const installedBatch = require('kafkajs/src/consumer/batch.js') as BatchConstructor;
const KafkajsBatch = (installedBatch as unknown as Record<symbol, BatchConstructor>)[LEAN_BATCH_SHIM] ?? installedBatch;
const leanDecode = leanDecodeMessages(kafkajsDecode, lookupCodecByAttributes);
const LeanBatchShim = createBatchShim(KafkajsBatch);

async function fetches(): Promise<Array<{ set: Buffer; fetchedOffset: string; highWatermark: string }>> {
  const g = createClickstreamGenerator({ seed: 1 });
  const start = Date.UTC(2026, 11, 1);
  const out: Array<{ set: Buffer; fetchedOffset: string; highWatermark: string }> = [];
  let offset = 0;
  let made = 0;
  while (made < N) {
    const fetchedOffset = String(offset);
    const parts: Buffer[] = [];
    for (let b = 0; b < BATCHES_PER_FETCH && made < N; b++) {
      const records = [];
      for (let i = 0; i < PER_BATCH; i++, made++) {
        const event = g.next(start + made * 8) as { user_id: string };
        records.push({ key: event.user_id, value: JSON.stringify(event), offsetDelta: i, timestampDelta: i });
      }
      const header = {
        compression: kafkajs.CompressionTypes.LZ4,
        firstOffset: String(offset),
        firstTimestamp: start,
        maxTimestamp: start + PER_BATCH,
        transactional: true,
        producerId: 1000,
        lastOffsetDelta: PER_BATCH - 1,
      };
      parts.push(Buffer.from((await fastRecordBatch(header, records)).buffer));
      offset += PER_BATCH;
      const marker = Buffer.from(
        (
          await fastRecordBatch(
            { firstOffset: String(offset), transactional: true, producerId: 1000, lastOffsetDelta: 0 },
            [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]), offsetDelta: 0 }],
          )
        ).buffer,
      );
      marker[22] = marker[22]! | 0x20; // control batch
      parts.push(marker);
      offset += 1;
    }
    const body = Buffer.concat(parts);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    out.push({ set: Buffer.concat([size, body]), fetchedOffset, highWatermark: String(offset + 100_000) });
  }
  return out;
}

const lz4 = lz4FrameCodec;
const EMPTY: ConsumedMessage = { offset: '0', value: null, key: null, timestampMs: 0 };
type Path = (set: Buffer, fetchedOffset: string, highWatermark: string) => Promise<ConsumedMessage[]>;
const paths: Record<string, Path> = {
  kafkajs: async (set, fetchedOffset, highWatermark) => {
    const messages = await kafkajsDecode(new Decoder(set));
    const batch = new KafkajsBatch('t', fetchedOffset, {
      partition: 0,
      highWatermark,
      abortedTransactions: [],
      messages,
    }) as { messages: Array<{ offset: string; value: Buffer | null; key: Buffer | null; timestamp: string }> };
    return batch.messages.map((m) => ({
      offset: m.offset,
      value: m.value,
      key: m.key ?? null,
      timestampMs: Number(m.timestamp),
    }));
  },
  'lz4 only': async (set) => {
    // Batches: 12 bytes of offset and length, 45 of header, the record count, then the LZ4 frame.
    const out: ConsumedMessage[] = [];
    for (let at = 4; at < set.length; ) {
      const end = at + 12 + set.readInt32BE(at + 8);
      if ((set.readInt16BE(at + 21) & 0x07) !== 0) {
        const records = set.readInt32BE(at + 57);
        lz4.decompressSync(set.subarray(at + 61, end));
        for (let i = 0; i < records; i++) out.push(EMPTY);
      }
      at = end;
    }
    return out;
  },
  lean: async (set, fetchedOffset, highWatermark) => {
    const messages = await leanDecode(new Decoder(set));
    const batch = new LeanBatchShim('t', fetchedOffset, {
      partition: 0,
      highWatermark,
      abortedTransactions: [],
      messages,
    }) as { messages: never };
    return toConsumedMessages(batch.messages);
  },
};

async function main(): Promise<void> {
  const data = await fetches();
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
  let sink = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, path] of Object.entries(paths)) {
      let count = 0;
      const t0 = process.hrtime.bigint();
      for (const { set, fetchedOffset, highWatermark } of data) {
        const messages = await path(set, fetchedOffset, highWatermark);
        count += messages.length;
        // What the partition actor reads of each record.
        for (const m of messages) sink += (m.value?.length ?? 0) + (m.timestampMs & 1);
        sink += Number(messages[messages.length - 1]?.offset ?? 0) & 1;
      }
      times[name]!.push(Number(process.hrtime.bigint() - t0) / count);
      if (count !== N && name !== 'lz4 only') throw new Error(`${name} gave ${count} records, expected ${N}`);
    }
  }
  console.log(
    `fetch decoding, ${N} clickstream records in LZ4 batches of ${PER_BATCH}, ${BATCHES_PER_FETCH} per fetch, ${ROUNDS} rounds`,
  );
  for (const name of Object.keys(paths)) {
    const sorted = [...times[name]!].sort((a, b) => a - b);
    console.log(
      `${name.padEnd(9)} best ${sorted[0]!.toFixed(0)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ns/record  rounds ${times[name]!.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
  if (sink < 0) console.log(sink);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
