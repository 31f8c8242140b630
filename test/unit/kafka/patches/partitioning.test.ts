import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  createFastDefaultPartitioner,
  groupMessagesPerPartition,
  murmur2,
  partitionForKey,
} from '../../../../src/kafka/patches/partitioning.js';
import { EncodedRecords } from '../../../../src/kafka/encodedRecords.js';

const { Partitioners } = kafkajs;
const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  key: string | Buffer,
) => number;
const kafkajsGroup = require('kafkajs/src/producer/groupMessagesPerPartition.js') as typeof groupMessagesPerPartition;

const keys: Array<string | Buffer> = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'u-000042',
  'lyon-th-0007',
  'clé',
  '😀 emoji',
  Buffer.from([0xff, 0x00, 0x80, 0x7f, 0x01]),
  ...Array.from({ length: 2_000 }, (_, i) => `u-${String((i * 7919) % 50_000).padStart(6, '0')}`),
  ...Array.from({ length: 200 }, (_, i) => `${'x'.repeat(i)}${i}`),
];

function metadata(partitions: number, leaderless: number[] = []) {
  return Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 1,
  }));
}

describe('murmur2', () => {
  it('hashes every key as kafkajs (and the Java client) does', () => {
    for (const key of keys) expect(murmur2(key)).toBe(kafkajsMurmur2(key));
  });

  it('matches values known from the Java client', () => {
    // org.apache.kafka.common.utils.Utils.murmur2("21".getBytes()) and friends.
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
  });
});

describe('createFastDefaultPartitioner', () => {
  it('picks the partitions kafkajs DefaultPartitioner picks', () => {
    const ours = createFastDefaultPartitioner()();
    const theirs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 4, 12]) {
      const partitionMetadata = metadata(partitions);
      for (const key of keys) {
        const message = { key, value: 'v' };
        expect(ours({ topic: 't', partitionMetadata, message })).toBe(
          theirs({ topic: 't', partitionMetadata, message } as never),
        );
        expect(partitionForKey(key, partitions)).toBe(ours({ topic: 't', partitionMetadata, message }));
      }
    }
  });

  it('keeps an explicit partition and spreads keyless messages over partitions with a leader', () => {
    const partition = createFastDefaultPartitioner()();
    expect(partition({ topic: 't', partitionMetadata: metadata(4), message: { key: 'x', partition: 2 } })).toBe(2);
    const chosen = new Set(
      Array.from({ length: 40 }, () =>
        partition({ topic: 't', partitionMetadata: metadata(4, [1, 3]), message: { key: null } }),
      ),
    );
    expect([...chosen].sort()).toEqual([0, 2]);
  });
});

describe('groupMessagesPerPartition', () => {
  it('puts records written in advance (encodedRecords.ts) in their partition, as they are', () => {
    const records = new EncodedRecords(2, 3, Buffer.from([0]));
    const messages = records.asMessages();
    const partitioner = createFastDefaultPartitioner()();
    const args = { topic: 't', partitionMetadata: metadata(4), messages, partitioner };
    expect(groupMessagesPerPartition(args)).toEqual({ 2: messages });
    expect(groupMessagesPerPartition(args)[2]).toBe(messages);
    // What kafkajs's own grouping gives them through the partitioner (their explicit partition).
    expect(kafkajsGroup(args)).toEqual({ 2: messages });
  });

  it('groups as kafkajs does (same partitions, same order), in linear time', () => {
    const partitioner = createFastDefaultPartitioner()();
    const messages = keys.map((key, i) => ({ key, value: String(i) }));
    const args = { topic: 't', partitionMetadata: metadata(4), messages, partitioner };
    expect(groupMessagesPerPartition(args)).toEqual(kafkajsGroup(args));
    expect(groupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual({});
    const many = Array.from({ length: 200_000 }, (_, i) => ({ key: `u-${i}`, value: 'v' }));
    const startedMs = performance.now();
    const grouped = groupMessagesPerPartition({ ...args, messages: many });
    expect(performance.now() - startedMs).toBeLessThan(2_000);
    expect(Object.values(grouped).reduce((n, g) => n + g.length, 0)).toBe(many.length);
  });
});
