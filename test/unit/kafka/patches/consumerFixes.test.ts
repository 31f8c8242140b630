// As in the ETL: the Kafka client module is loaded first, before anything else loads kafkajs.
import { createKafkaClient } from '../../../../src/kafka/client.js';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { filterAbortedRecords } from '../../../../src/kafka/patches/abortedTransactions.js';
import {
  assertKafkajsConsumerFixes,
  installKafkajsConsumerFixes,
} from '../../../../src/kafka/patches/consumerFixes.js';
import { PATCHED_KAFKAJS_VERSION } from '../../../../src/kafka/patches/kafkajsVersion.js';

const require = createRequire(import.meta.url);
type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: unknown,
) => { messages: Array<{ offset: string }> };

describe('kafkajs consumer fixes', () => {
  it('are active for the pinned kafkajs version', () => {
    expect(typeof createKafkaClient).toBe('function');
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(PATCHED_KAFKAJS_VERSION);
    expect(installKafkajsConsumerFixes()).toEqual({ state: 'active', kafkajsVersion: PATCHED_KAFKAJS_VERSION });
    expect(assertKafkajsConsumerFixes().state).toBe('active');
    expect(require('kafkajs/src/consumer/filterAbortedMessages.js')).toBe(filterAbortedRecords);
  });

  it("make kafkajs's own Batch drop every aborted transaction that began before the fetch", () => {
    const Batch = require('kafkajs/src/consumer/batch.js') as BatchClass;
    const ctx = (producerId: string, firstOffset: string, lastOffsetDelta: number, control = false) => ({
      firstOffset,
      lastOffsetDelta,
      producerId,
      inTransaction: true,
      isControlBatch: control,
    });
    const records = (batchContext: ReturnType<typeof ctx>, key: Buffer | null = null) =>
      Array.from({ length: batchContext.lastOffsetDelta + 1 }, (_, i) => ({
        offset: String(Number(batchContext.firstOffset) + i),
        key,
        value: Buffer.from('v'),
        isControlRecord: batchContext.isControlBatch,
        batchContext,
        headers: {},
      }));
    const abort = Buffer.from([0, 0, 0, 0]);
    const commit = Buffer.from([0, 0, 0, 1]);
    // Three aborted transactions (producers 1, 2, 4) began before offset 200, producer 3 commits.
    const messages = [
      ...records(ctx('1', '200', 9)),
      ...records(ctx('2', '210', 9)),
      ...records(ctx('3', '220', 9)),
      ...records(ctx('4', '230', 9)),
      ...records(ctx('1', '240', 0, true), abort),
      ...records(ctx('2', '241', 0, true), abort),
      ...records(ctx('3', '242', 0, true), commit),
      ...records(ctx('4', '243', 0, true), abort),
    ];
    const batch = new Batch('t', '200', {
      partition: 0,
      highWatermark: '244',
      abortedTransactions: [
        { producerId: '4', firstOffset: '150' },
        { producerId: '2', firstOffset: '120' },
        { producerId: '1', firstOffset: '180' },
      ],
      messages,
    });
    expect(batch.messages.map((m) => Number(m.offset))).toEqual(Array.from({ length: 10 }, (_, i) => 220 + i));
  });
});
