import { describe, expect, it } from 'vitest';
import { EncodedRecords, preEncodedIn, toMessages } from '../../../src/kafka/encodedRecords.js';
import { partitionForKey } from '../../../src/kafka/patches/partitioning.js';
import { encodeRecords } from '../../../src/kafka/patches/recordBatchEncoder.js';
import { RecordsBuilder } from '../../../src/kafka/recordsBuilder.js';

/** Keys and values of every shape the builder takes, including UTF-8 lengths that differ from the string's. */
function inputs(count: number): Array<{ key: string; value: string | Buffer }> {
  const out: Array<{ key: string; value: string | Buffer }> = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 7;
    const key = kind === 3 ? `clé-ü-😀-${i}` : `u-${String((i * 7919) % 50_000).padStart(6, '0')}`;
    const value =
      kind === 0
        ? JSON.stringify({ event_id: `e-${i}`, note: 'x'.repeat(i % 300) })
        : kind === 1
          ? Buffer.from(`{"buffer":${i}}`)
          : kind === 2
            ? `{"emoji":"😀","é":"ü${i}"}`
            : kind === 4
              ? ''
              : kind === 5
                ? // 63 characters, 64 bytes: a length varint of two bytes where one was assumed from the characters.
                  `${'a'.repeat(62)}é`
                : 'ü'.repeat(i % 200);
    out.push({ key, value });
  }
  return out;
}

/** What recordBatchEncoder.ts writes for the same messages in one request to one partition. */
function expected(messages: ReadonlyArray<{ key: string; value: string | Buffer }>): Buffer {
  return encodeRecords(messages.map((m, i) => ({ key: m.key, value: m.value, offsetDelta: i, timestampDelta: 0 })));
}

describe('RecordsBuilder', () => {
  it.each([
    ['sized up front', { expectedRecords: 3_000, bytesPerRecord: 300 }],
    ['grown from the smallest buffers', {}],
  ])('writes each partition the bytes the Produce encoder writes for its messages (%s)', (_name, sizing) => {
    const partitions = 4;
    const recordsPerRequest = 500;
    const all = inputs(3_000);
    const builder = new RecordsBuilder({ partitions, recordsPerRequest, ...sizing });
    for (const m of all) builder.append(m.key, m.value);
    expect(builder.count).toBe(all.length);
    expect(builder.valueBytes).toBe(all.reduce((n, m) => n + Buffer.byteLength(m.value), 0));
    const built = builder.finish();

    const byPartition = new Map<number, Array<{ key: string; value: string | Buffer }>>();
    for (const m of all) {
      const p = partitionForKey(m.key, partitions);
      byPartition.set(p, [...(byPartition.get(p) ?? []), m]);
    }
    expect(built.map((requests) => requests[0]!.partition)).toEqual([...byPartition.keys()].sort((a, b) => a - b));
    for (const requests of built) {
      const partition = requests[0]!.partition;
      const messages = byPartition.get(partition)!;
      // At most recordsPerRequest records per request, the partition's messages in the order appended.
      expect(requests.map((r) => r.count)).toEqual(
        Array.from({ length: Math.ceil(messages.length / recordsPerRequest) }, (_, i) =>
          Math.min(recordsPerRequest, messages.length - i * recordsPerRequest),
        ),
      );
      requests.forEach((records, i) => {
        expect(records.partition).toBe(partition);
        const slice = messages.slice(i * recordsPerRequest, (i + 1) * recordsPerRequest);
        expect(records.records.equals(expected(slice))).toBe(true);
      });
    }
  });

  it.each([
    ['sized up front', { expectedRecords: 3_000, bytesPerRecord: 300 }],
    ['grown from the smallest buffers', {}],
  ])(
    'writes a record reserved for its value as `append` writes it, either way in the same stream (%s)',
    (_n, sizing) => {
      const partitions = 3;
      const recordsPerRequest = 300;
      // Every third by `reserve`, its value written where it says (as the generators do), the others by `append`.
      const all = inputs(3_000).map((m, i) => ({ key: `k-${i % 97}`, value: Buffer.from(m.value) }));
      const reserving = new RecordsBuilder({ partitions, recordsPerRequest, ...sizing });
      const appending = new RecordsBuilder({ partitions, recordsPerRequest, ...sizing });
      for (const [i, m] of all.entries()) {
        appending.append(m.key, m.value);
        if (i % 3 !== 0) {
          reserving.append(m.key, m.value);
          continue;
        }
        // The key's bytes inside a larger buffer, as the generators keep them.
        const table = Buffer.from(`<<${m.key}>>`);
        const at = reserving.reserve(table, 2, table.length - 2, m.value.length);
        m.value.copy(reserving.valueBuffer, at);
      }
      expect(reserving.count).toBe(appending.count);
      expect(reserving.valueBytes).toBe(appending.valueBytes);
      const ours = reserving.finish();
      const theirs = appending.finish();
      expect(ours.map((requests) => requests.map((r) => [r.partition, r.count]))).toEqual(
        theirs.map((requests) => requests.map((r) => [r.partition, r.count])),
      );
      for (const [p, requests] of ours.entries()) {
        for (const [i, records] of requests.entries())
          expect(records.records.equals(theirs[p]![i]!.records)).toBe(true);
      }
    },
  );

  it('gives nothing for an empty transaction and refuses impossible sizes', () => {
    expect(new RecordsBuilder({ partitions: 3, recordsPerRequest: 10 }).finish()).toEqual([]);
    expect(() => new RecordsBuilder({ partitions: 0, recordsPerRequest: 10 })).toThrow(RangeError);
    expect(() => new RecordsBuilder({ partitions: 1, recordsPerRequest: 0 })).toThrow(RangeError);
  });
});

describe('EncodedRecords', () => {
  const builder = new RecordsBuilder({ partitions: 1, recordsPerRequest: 100 });
  const all = inputs(60);
  for (const m of all) builder.append(m.key, m.value);
  const records = builder.finish()[0]![0]!;

  it('stands for its records in kafkajs as `count` messages, each with a value, recognised by preEncodedIn', () => {
    const messages = records.asMessages();
    expect(messages).toHaveLength(60);
    expect(messages.some((m) => m.value === undefined)).toBe(false);
    expect(preEncodedIn(messages)).toBe(records);
    expect(preEncodedIn(messages.slice(1))).toBeUndefined();
    expect(preEncodedIn([...messages.slice(1), { key: 'k', value: 'v' }])).toBeUndefined();
    expect(preEncodedIn([{ key: 'k', value: 'v' }])).toBeUndefined();
    expect(preEncodedIn([])).toBeUndefined();
    expect(() => new EncodedRecords(0, 0, Buffer.alloc(0))).toThrow(RangeError);
  });

  it('reads back as ordinary messages, for kafkajs when the fast paths are not in force', () => {
    const messages = toMessages(records);
    expect(messages.map((m) => m.key?.toString('utf8'))).toEqual(all.map((m) => m.key));
    expect(messages.map((m) => m.value?.toString('utf8'))).toEqual(all.map((m) => m.value.toString()));
    expect(messages.every((m) => m.partition === 0)).toBe(true);
    expect(expected(all).equals(records.records)).toBe(true);
    expect(() => toMessages(new EncodedRecords(0, 61, records.records))).toThrow(RangeError);
  });
});
