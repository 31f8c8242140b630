// As in the ETL: the Kafka client module is loaded first, before anything else loads kafkajs.
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  fastRecordBatch,
  type RecordBatchHeader,
  type RecordInput,
} from '../../../../src/kafka/patches/recordBatchEncoder.js';
import {
  areLeanRecords,
  decodeRecordBatches,
  LEAN_DECODE_MESSAGES,
  leanDecodeMessages,
  leanDecoderFallbacks,
  type CodecLookup,
  type DecodeMessages,
} from '../../../../src/kafka/patches/fetchRecordDecoder.js';
import {
  createBatchShim,
  LEAN_BATCH_SHIM,
  LeanBatch,
  type BatchConstructor,
  type PartitionData,
} from '../../../../src/kafka/patches/leanBatch.js';
import { registerLz4Codec } from '../../../../src/kafka/lz4Codec.js';
import { toConsumedMessages } from '../../../../src/kafka/topicConsumer.js';

const { CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);
registerLz4Codec();

type KafkajsDecoderClass = new (buffer: Buffer) => { buffer: Buffer; offset: number };
const Decoder = require('kafkajs/src/protocol/decoder.js') as KafkajsDecoderClass;
const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodecByAttributes: CodecLookup;
};
const installedDecode = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as DecodeMessages;
/** kafkajs's own decoder, kept by the installed one. */
const kafkajsDecode =
  (installedDecode as unknown as Record<symbol, DecodeMessages>)[LEAN_DECODE_MESSAGES] ?? installedDecode;
const installedBatch = require('kafkajs/src/consumer/batch.js') as BatchConstructor;
const KafkajsBatch = (installedBatch as unknown as Record<symbol, BatchConstructor>)[LEAN_BATCH_SHIM] ?? installedBatch;
const lean = leanDecodeMessages(kafkajsDecode, lookupCodecByAttributes);
const Batch = createBatchShim(KafkajsBatch);

const CONTROL = 0x20;
const LOG_APPEND_TIME = 0x08;
const T0 = 1_714_564_800_000;

/** Deterministic records of every shape: keys or not, null values, headers (repeated keys too). */
function records(count: number, seed: number): RecordInput[] {
  let state = seed;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: count }, (_, i) => {
    const kind = Math.floor(next() * 6);
    return {
      key: kind === 0 ? null : kind === 1 ? Buffer.from(`k-${i}`) : `u-${i}-😀`,
      value:
        kind === 2
          ? null
          : kind === 3
            ? ''
            : JSON.stringify({
                i,
                url: `https://shop.example.com/${Math.floor(next() * 1e6)}`,
                pad: 'x'.repeat(Math.floor(next() * 200)),
              }),
      headers:
        kind === 4
          ? { trace: `t-${i}`, dup: ['a', 'b'], bin: Buffer.from([0, 1, 2]) }
          : kind === 5
            ? { one: 'x' }
            : undefined,
      offsetDelta: i,
      timestampDelta: Math.floor(next() * 2_000_000) - 1000,
    };
  });
}

interface BatchSpec {
  baseOffset: bigint | number;
  records: RecordInput[];
  compression?: number;
  producerId?: number;
  transactional?: boolean;
  control?: 'commit' | 'abort';
  logAppendTime?: boolean;
  firstTimestamp?: number;
}

/** One encoded record batch, as a broker stores and serves it. */
async function encodeBatch(spec: BatchSpec): Promise<Buffer> {
  const recordsOf: RecordInput[] = spec.control
    ? [
        {
          key: Buffer.from([0, 0, 0, spec.control === 'commit' ? 1 : 0]),
          value: Buffer.from([0, 0, 0, 0, 0, 3]),
          offsetDelta: 0,
          timestampDelta: 0,
        },
      ]
    : spec.records;
  const header: RecordBatchHeader = {
    compression: spec.compression ?? CompressionTypes.None,
    firstOffset: spec.baseOffset.toString(),
    firstTimestamp: spec.firstTimestamp ?? T0,
    maxTimestamp: (spec.firstTimestamp ?? T0) + 5_000_000,
    transactional: spec.transactional ?? spec.producerId !== undefined,
    producerId: spec.producerId ?? -1,
    producerEpoch: 0,
    firstSequence: 0,
    lastOffsetDelta: recordsOf.length - 1,
  };
  const buffer = Buffer.from((await fastRecordBatch(header, recordsOf)).buffer);
  // The batch attributes are bytes 21-22 (after base offset, length, leader epoch, magic, crc);
  // kafkajs's encoder has no flag for control batches or log-append time. CRCs are not checked.
  if (spec.control) buffer[22] = buffer[22]! | CONTROL;
  if (spec.logAppendTime) buffer[22] = buffer[22]! | LOG_APPEND_TIME;
  return buffer;
}

/** A partition's record set in a Fetch response: int32 size, the batches (cut to `cutTo` bytes), then a marker. */
async function recordSet(specs: BatchSpec[], cutTo?: number): Promise<{ buffer: Buffer; end: number }> {
  let batches = Buffer.concat(await Promise.all(specs.map(encodeBatch)));
  if (cutTo !== undefined) batches = batches.subarray(0, cutTo);
  const size = Buffer.alloc(4);
  size.writeInt32BE(batches.length);
  const trailer = Buffer.from('TRAILER');
  return { buffer: Buffer.concat([size, batches, trailer]), end: 4 + batches.length };
}

/** The fields kafkajs gives a consumer, read through whatever getters the record has. */
function plain(m: unknown): Record<string, unknown> {
  const r = m as Record<string, unknown>;
  return {
    magicByte: r.magicByte,
    attributes: r.attributes,
    timestamp: r.timestamp,
    offset: r.offset,
    key: r.key,
    value: r.value,
    headers: r.headers,
    isControlRecord: r.isControlRecord,
    batchContext: r.batchContext,
  };
}

async function decodeBoth(set: {
  buffer: Buffer;
}): Promise<{ mine: unknown[]; theirs: unknown[]; mineAt: number; theirsAt: number }> {
  const d1 = new Decoder(set.buffer);
  const d2 = new Decoder(set.buffer);
  const mine = await lean(d1);
  const theirs = await kafkajsDecode(d2);
  return { mine, theirs, mineAt: d1.offset, theirsAt: d2.offset };
}

function batchView(b: unknown): Record<string, unknown> {
  const batch = b as {
    messages: unknown[];
    fetchedOffset: string;
    highWatermark: string;
    partition: number;
    topic: string;
  } & Record<string, () => unknown>;
  return {
    topic: batch.topic,
    partition: batch.partition,
    fetchedOffset: batch.fetchedOffset,
    highWatermark: batch.highWatermark,
    messages: batch.messages.map(plain),
    isEmpty: batch.isEmpty!(),
    isEmptyIncludingFiltered: batch.isEmptyIncludingFiltered!(),
    isEmptyDueToFiltering: batch.isEmptyDueToFiltering!(),
    isEmptyControlRecord: batch.isEmptyControlRecord!(),
    isEmptyDueToLogCompactedMessages: batch.isEmptyDueToLogCompactedMessages!(),
    firstOffset: batch.firstOffset!(),
    lastOffset: batch.lastOffset!(),
    offsetLag: batch.offsetLag!(),
    offsetLagLow: batch.offsetLagLow!(),
  };
}

describe('lean fetch record decoder', () => {
  it('is the one kafkajs uses in this process', () => {
    expect(typeof createKafkaClient).toBe('function');
    expect(installedDecode).not.toBe(kafkajsDecode);
    expect(installedBatch).not.toBe(KafkajsBatch);
  });

  for (const [name, compression] of [
    ['uncompressed', CompressionTypes.None],
    ['LZ4', CompressionTypes.LZ4],
    ['GZIP (an async codec)', CompressionTypes.GZIP],
  ] as const) {
    it(`decodes ${name} batches with keys, headers, null values exactly as kafkajs`, async () => {
      const fallbacks = leanDecoderFallbacks();
      const set = await recordSet([
        { baseOffset: 0, records: records(50, 1), compression },
        { baseOffset: 50, records: records(1, 2), compression, producerId: 7 },
        { baseOffset: 51, records: records(300, 3), compression, logAppendTime: true },
        { baseOffset: 351, records: records(20, 4), compression, firstTimestamp: 0 },
      ]);
      const { mine, theirs, mineAt, theirsAt } = await decodeBoth(set);
      expect(areLeanRecords(mine)).toBe(true);
      expect(mine).toHaveLength(371);
      expect(mine.map(plain)).toEqual(theirs.map(plain));
      expect(mineAt).toBe(theirsAt);
      expect(mineAt).toBe(set.end);
      expect(leanDecoderFallbacks()).toBe(fallbacks);
      // A consumer's view: the records as they are, numbers that match kafkajs's strings.
      const consumed = toConsumedMessages(mine as never);
      expect(consumed).toBe(mine);
      expect(consumed.map((m) => [m.offset, m.timestampMs, m.key, m.value])).toEqual(
        theirs.map((m) => {
          const t = m as { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null };
          return [t.offset, Number(t.timestamp), t.key, t.value];
        }),
      );
    });
  }

  it('stops at a last batch the broker cut short, at every cut', async () => {
    const specs: BatchSpec[] = [
      { baseOffset: 1000, records: records(5, 5), compression: CompressionTypes.LZ4, producerId: 3 },
      { baseOffset: 1005, records: records(7, 6) },
      { baseOffset: 1012, records: records(4, 7), compression: CompressionTypes.LZ4 },
    ];
    const full = (await recordSet(specs)).end - 4;
    for (let cut = 0; cut <= full; cut += cut < 70 || cut > full - 70 ? 1 : 13) {
      const set = await recordSet(specs, cut);
      // Below 17 bytes kafkajs cannot read the magic byte and throws: so must the lean path.
      const outcome = await decodeBoth(set).then(
        ({ mine, theirs, mineAt, theirsAt }) => ({
          mine: mine.map(plain),
          theirs: theirs.map(plain),
          mineAt,
          theirsAt,
        }),
        (err: unknown) => ({ error: String(err) }),
      );
      if ('error' in outcome) {
        expect(cut, outcome.error).toBeLessThanOrEqual(16);
        await expect(kafkajsDecode(new Decoder(set.buffer))).rejects.toThrow();
        continue;
      }
      expect(outcome.mine, `cut at ${cut}`).toEqual(outcome.theirs);
      expect(outcome.mineAt, `cut at ${cut}`).toBe(outcome.theirsAt);
      if (cut === full) expect(outcome.mine).toHaveLength(16);
    }
  });

  it('leaves offsets beyond 2^53 to kafkajs, which decodes them exactly', async () => {
    const fallbacks = leanDecoderFallbacks();
    const base = 2n ** 53n - 2n;
    const set = await recordSet([{ baseOffset: base, records: records(4, 8), compression: CompressionTypes.LZ4 }]);
    const { mine, theirs, mineAt, theirsAt } = await decodeBoth(set);
    expect(areLeanRecords(mine)).toBe(false);
    expect(mine.map(plain)).toEqual(theirs.map(plain));
    expect((mine as Array<{ offset: string }>).map((m) => m.offset)).toEqual([
      '9007199254740990',
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
    ]);
    expect(mineAt).toBe(theirsAt);
    expect(leanDecoderFallbacks()).toBe(fallbacks + 1);
    // The consumer copies kafkajs's records, offsets exact.
    expect(toConsumedMessages(mine as never).map((m) => m.offset)).toEqual([
      '9007199254740990',
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
    ]);
    // And its Batch is kafkajs's, with exact string offsets.
    const batch = new Batch('t', base.toString(), {
      partition: 0,
      highWatermark: (base + 4n).toString(),
      abortedTransactions: [],
      messages: mine,
    });
    expect(batch).not.toBeInstanceOf(LeanBatch);
    expect(batchView(batch)).toEqual(
      batchView(
        new KafkajsBatch('t', base.toString(), {
          partition: 0,
          highWatermark: (base + 4n).toString(),
          abortedTransactions: [],
          messages: theirs,
        }),
      ),
    );
  });

  it('leaves an empty record set to kafkajs', async () => {
    const empty = Buffer.from([0, 0, 0, 0, 9, 9]);
    const { mine, theirs, mineAt, theirsAt } = await decodeBoth({ buffer: empty });
    expect(mine).toEqual(theirs);
    expect(mineAt).toBe(theirsAt);
  });

  it('leaves a legacy message set (magic 1) to kafkajs, which decodes it as before', async () => {
    type MessageSetEncoder = (options: {
      messageVersion: number;
      compression: number;
      entries: Array<{ key: string | null; value: string; timestamp: number }>;
    }) => { buffer: Buffer };
    const MessageSet = require('kafkajs/src/protocol/messageSet/index.js') as MessageSetEncoder;
    const legacy = MessageSet({
      messageVersion: 1,
      compression: CompressionTypes.None,
      entries: [
        { key: 'a', value: 'one', timestamp: T0 },
        { key: null, value: 'two', timestamp: T0 + 1 },
      ],
    }).buffer;
    const size = Buffer.alloc(4);
    size.writeInt32BE(legacy.length);
    const fallbacks = leanDecoderFallbacks();
    const { mine, theirs, mineAt, theirsAt } = await decodeBoth({ buffer: Buffer.concat([size, legacy]) });
    expect(theirs).toHaveLength(2);
    expect(areLeanRecords(mine as never)).toBe(false);
    expect((mine as Array<{ value: Buffer }>).map((m) => m.value.toString())).toEqual(['one', 'two']);
    expect(mine).toEqual(theirs);
    expect(mineAt).toBe(theirsAt);
    // Seen by its magic byte before the lean decoder starts: not counted as a fallback.
    expect(leanDecoderFallbacks()).toBe(fallbacks);
  });

  it('rejects nothing kafkajs accepts: decodeRecordBatches on a set of only a partial batch gives no records', async () => {
    const set = await recordSet([{ baseOffset: 0, records: records(3, 9) }], 60);
    expect(await decodeRecordBatches(set.buffer, 4, set.end, lookupCodecByAttributes)).toEqual([]);
  });
});

describe('lean Batch', () => {
  /**
   * A read_committed fetch from offset 102: producers 1 and 2 began aborted transactions before
   * it, producer 3 commits; markers end every transaction; the fetch starts inside a batch.
   */
  async function transactionalFetch(
    compression: number,
  ): Promise<{ set: { buffer: Buffer }; partition: Omit<PartitionData, 'messages'> }> {
    const set = await recordSet([
      { baseOffset: 100, records: records(5, 10), compression, producerId: 1 },
      { baseOffset: 105, records: records(5, 11), compression, producerId: 2 },
      { baseOffset: 110, records: records(5, 12), compression, producerId: 3 },
      { baseOffset: 115, records: [], producerId: 2, control: 'abort' },
      { baseOffset: 116, records: records(3, 13), compression }, // not transactional
      { baseOffset: 119, records: [], producerId: 3, control: 'commit' },
      { baseOffset: 120, records: records(2, 14), compression, producerId: 1 },
      { baseOffset: 122, records: [], producerId: 1, control: 'abort' },
      { baseOffset: 123, records: records(4, 15), compression, producerId: 2 },
      { baseOffset: 127, records: [], producerId: 2, control: 'commit' },
    ]);
    return {
      set,
      partition: {
        partition: 3,
        highWatermark: '140',
        abortedTransactions: [
          { producerId: '2', firstOffset: '105' },
          { producerId: '1', firstOffset: '90' },
        ],
      },
    };
  }

  for (const [name, compression] of [
    ['uncompressed', CompressionTypes.None],
    ['LZ4', CompressionTypes.LZ4],
  ] as const) {
    it(`keeps exactly what kafkajs's fixed Batch keeps (${name}, aborted transactions, markers)`, async () => {
      const { set, partition } = await transactionalFetch(compression);
      const { mine, theirs } = await decodeBoth(set);
      const leanBatch = new Batch('t', '102', { ...partition, messages: mine });
      expect(leanBatch).toBeInstanceOf(LeanBatch);
      const reference = new KafkajsBatch('t', '102', { ...partition, messages: theirs });
      expect(batchView(leanBatch)).toEqual(batchView(reference));
      // Producer 3's committed records, the plain ones and producer 2's last (committed) transaction.
      expect((leanBatch as LeanBatch).messages.map((m) => m.offsetNumber)).toEqual([
        110, 111, 112, 113, 114, 116, 117, 118, 123, 124, 125, 126,
      ]);
      expect((leanBatch as LeanBatch).lastOffset()).toBe('127');
      expect((leanBatch as LeanBatch).offsetLag()).toBe('12');
    });
  }

  it('reports progress over a fetch that holds only markers and aborted records', async () => {
    const set = await recordSet([
      { baseOffset: 200, records: records(3, 16), producerId: 5, compression: CompressionTypes.LZ4 },
      { baseOffset: 203, records: [], producerId: 5, control: 'abort' },
      { baseOffset: 204, records: [], producerId: 6, control: 'commit' },
    ]);
    const { mine, theirs } = await decodeBoth(set);
    const partition = {
      partition: 0,
      highWatermark: '205',
      abortedTransactions: [{ producerId: '5', firstOffset: '200' }],
    };
    const leanBatch = new Batch('t', '200', { ...partition, messages: mine }) as LeanBatch;
    expect(leanBatch).toBeInstanceOf(LeanBatch);
    expect(batchView(leanBatch)).toEqual(batchView(new KafkajsBatch('t', '200', { ...partition, messages: theirs })));
    expect(leanBatch.isEmpty()).toBe(true);
    expect(leanBatch.isEmptyDueToFiltering()).toBe(true);
    expect(leanBatch.lastOffset()).toBe('204');
    expect(leanBatch.offsetLag()).toBe('0');
  });

  it('answers as kafkajs for an empty fetch and for records all below the fetched offset', async () => {
    const emptyPartition = { partition: 1, highWatermark: '42', abortedTransactions: [], messages: [] };
    expect(batchView(new Batch('t', '42', emptyPartition))).toEqual(
      batchView(new KafkajsBatch('t', '42', emptyPartition)),
    );
    const set = await recordSet([{ baseOffset: 10, records: records(5, 17), compression: CompressionTypes.LZ4 }]);
    const { mine, theirs } = await decodeBoth(set);
    const partition = { partition: 1, highWatermark: '30', abortedTransactions: [] };
    expect(batchView(new Batch('t', '15', { ...partition, messages: mine }))).toEqual(
      batchView(new KafkajsBatch('t', '15', { ...partition, messages: theirs })),
    );
    expect(batchView(new Batch('t', '12', { ...partition, messages: mine }))).toEqual(
      batchView(new KafkajsBatch('t', '12', { ...partition, messages: theirs })),
    );
  });
});
