// As in the ETL: the Kafka client module is loaded first, before anything else loads kafkajs.
import '../../../../src/kafka/client.js';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { registerLz4Codec } from '../../../../src/kafka/lz4Codec.js';
import { fastRecordBatch, type RecordInput } from '../../../../src/kafka/patches/recordBatchEncoder.js';
import {
  CommittedRecordCounter,
  recordOffsetDeltas,
  type Decompress,
} from '../../../../src/kafka/wire/recordSetCount.js';

const { CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);
registerLz4Codec();
const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodecByAttributes: (a: number) => { decompress(b: Buffer): Promise<Buffer> } | null;
};
const decompress: Decompress = (attributes, records) =>
  lookupCodecByAttributes(attributes)?.decompress(records) ?? null;

const CONTROL = 0x20;

interface Spec {
  base: number;
  /** Offset deltas of the records (holes = compacted away); default 0..n-1. */
  deltas?: number[];
  n?: number;
  producerId?: number;
  control?: 'commit' | 'abort';
  lz4?: boolean;
}

async function batch(s: Spec): Promise<Buffer> {
  const deltas = s.control ? [0] : (s.deltas ?? Array.from({ length: s.n ?? 1 }, (_, i) => i));
  const records: RecordInput[] = deltas.map((d) =>
    s.control
      ? {
          key: Buffer.from([0, 0, 0, s.control === 'commit' ? 1 : 0]),
          value: Buffer.from([0, 0, 0, 0, 0, 3]),
          offsetDelta: d,
          timestampDelta: 0,
        }
      : { key: null, value: JSON.stringify({ d, pad: 'x'.repeat(50) }), offsetDelta: d, timestampDelta: d },
  );
  const buffer = Buffer.from(
    (
      await fastRecordBatch(
        {
          compression: s.lz4 ? CompressionTypes.LZ4 : CompressionTypes.None,
          firstOffset: String(s.base),
          firstTimestamp: 1_714_564_800_000,
          maxTimestamp: 1_714_564_900_000,
          transactional: s.producerId !== undefined,
          producerId: s.producerId ?? -1,
          producerEpoch: 0,
          firstSequence: 0,
          lastOffsetDelta: deltas[deltas.length - 1]!,
        },
        records,
      )
    ).buffer,
  );
  if (s.control) buffer[22] = buffer[22]! | CONTROL;
  return buffer;
}

const span = (first: number, last: number) => ({ first: BigInt(first), last: BigInt(last) });

async function count(
  specs: Spec[],
  spans: Array<{ first: bigint; last: bigint }>,
  aborted: Array<{ producerId: string; firstOffset: string }> = [],
): Promise<CommittedRecordCounter> {
  const set = Buffer.concat(await Promise.all(specs.map(batch)));
  const counter = new CommittedRecordCounter(spans, spans[0]!.first);
  await counter.addRecordSet(set, 0, set.length, aborted, decompress);
  return counter;
}

describe('CommittedRecordCounter', () => {
  it('counts plain batches per range, cutting batches at range boundaries', async () => {
    const c = await count(
      [
        { base: 0, n: 10 },
        { base: 10, n: 5, lz4: true },
      ],
      [span(0, 3), span(4, 11), span(12, 14)],
    );
    expect(c.counts).toEqual([4, 8, 3]);
    expect(c.nextOffset).toBe(15n);
  });

  it('never counts transaction markers; committed transactions count, aborted ones do not', async () => {
    // p7 commits 0..4 (marker 5); p8 writes 6..8 and aborts (marker 9); p7 commits 10..11 (marker 12).
    const c = await count(
      [
        { base: 0, n: 5, producerId: 7 },
        { base: 5, producerId: 7, control: 'commit' },
        { base: 6, n: 3, producerId: 8 },
        { base: 9, producerId: 8, control: 'abort' },
        { base: 10, n: 2, producerId: 7, lz4: true },
        { base: 12, producerId: 7, control: 'commit' },
      ],
      [span(0, 4), span(5, 9), span(10, 12)],
      [{ producerId: '8', firstOffset: '6' }],
    );
    expect(c.counts).toEqual([5, 0, 2]);
    expect(c.nextOffset).toBe(13n);
  });

  it('interleaved transactions: an abort marker ends only its own producer', async () => {
    const c = await count(
      [
        { base: 0, n: 2, producerId: 1 },
        { base: 2, n: 2, producerId: 2 },
        { base: 4, producerId: 1, control: 'abort' },
        { base: 5, n: 2, producerId: 2 },
        { base: 7, producerId: 2, control: 'commit' },
        { base: 8, n: 2, producerId: 1 },
      ],
      [span(0, 9)],
      [{ producerId: '1', firstOffset: '0' }],
    );
    // producer 1's 0..1 aborted; producer 2's 2..3 and 5..6 committed; producer 1's 8..9 is a new transaction.
    expect(c.counts).toEqual([6]);
  });

  it('a batch with holes (compaction) cut by a range boundary is counted record by record', async () => {
    const c = await count([{ base: 100, deltas: [0, 2, 5, 9], lz4: true }], [span(100, 104), span(105, 109)]);
    expect(c.counts).toEqual([2, 2]);
  });

  it('overlapping ranges are each counted whole', async () => {
    const c = await count([{ base: 0, n: 20 }], [span(0, 9), span(5, 14), span(15, 19)]);
    expect(c.counts).toEqual([10, 10, 5]);
  });

  it('stops at a batch the broker cut short, for the next fetch to read', async () => {
    const set = Buffer.concat([await batch({ base: 0, n: 3 }), await batch({ base: 3, n: 3 })]);
    const counter = new CommittedRecordCounter([span(0, 5)], 0n);
    expect(await counter.addRecordSet(set, 0, set.length - 5, [], decompress)).toBe(1);
    expect(counter.counts).toEqual([3]);
    expect(counter.nextOffset).toBe(3n);
  });

  it('reads records offset deltas', async () => {
    const b = await batch({ base: 0, deltas: [0, 3, 4] });
    expect(recordOffsetDeltas(b.subarray(61), 3)).toEqual([0, 3, 4]);
  });
});
