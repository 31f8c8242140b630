// First import, as in the producer worker: the swaps must happen before kafkajs loads.
import {
  installKafkajsFastPaths,
  kafkajsFastPathsLogFields,
  kafkajsFastPathsStatus,
} from '../../../../src/kafka/patches/produceFastPaths.js';
import { PATCHED_KAFKAJS_VERSION } from '../../../../src/kafka/patches/kafkajsVersion.js';
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { groupMessagesPerPartition } from '../../../../src/kafka/patches/partitioning.js';
import { fastProduceRequestV3 } from '../../../../src/kafka/patches/recordBatchEncoder.js';
import { frameRequest } from '../../../../src/kafka/patches/requestFraming.js';

const require = createRequire(import.meta.url);
const ALL_SWAPPED = { produceRequest: 'swapped', groupMessagesPerPartition: 'swapped', requestFraming: 'swapped' };

describe('installKafkajsFastPaths', () => {
  it('swapped the three modules when imported before kafkajs', () => {
    expect(kafkajs.Kafka).toBeTypeOf('function');
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(PATCHED_KAFKAJS_VERSION);
    expect(kafkajsFastPathsStatus()).toEqual(ALL_SWAPPED);
    expect(require('kafkajs/src/protocol/requests/produce/v3/request.js')).toBe(fastProduceRequestV3);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
    expect(require('kafkajs/src/protocol/request.js')).toBe(frameRequest);
  });

  it('reaches every Produce version kafkajs may negotiate (v3 to v7 build on v3)', async () => {
    const produce = require('kafkajs/src/protocol/requests/produce/index.js') as {
      protocol(args: {
        version: number;
      }): (args: Record<string, unknown>) => { request: { apiVersion: number; encode(): Promise<{ buffer: Buffer }> } };
    };
    const args = {
      acks: -1,
      timeout: 1000,
      compression: 0,
      topicData: [
        { topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'v' }] }] },
      ],
    };
    for (const version of [3, 4, 5, 6, 7]) {
      const { request } = produce.protocol({ version })(args);
      expect(request.apiVersion).toBe(version);
      const direct = await fastProduceRequestV3(args).encode();
      expect((await request.encode()).buffer.length).toBe(direct.buffer.length);
    }
  });

  it('is idempotent', () => {
    expect(installKafkajsFastPaths()).toEqual(ALL_SWAPPED);
  });

  it('logs the fast path with its stable field names', () => {
    expect(kafkajsFastPathsLogFields(installKafkajsFastPaths())).toEqual({
      kafkajs_produce_path: 'fast',
      produce_encoder: 'swapped',
      produce_grouping: 'swapped',
      request_framing: 'swapped',
    });
    expect(
      kafkajsFastPathsLogFields({
        produceRequest: 'swapped',
        groupMessagesPerPartition: 'too-late',
        requestFraming: 'too-late',
        reason: 'late',
      }),
    ).toEqual({
      kafkajs_produce_path: 'partly-fast',
      produce_encoder: 'swapped',
      produce_grouping: 'too-late',
      request_framing: 'too-late',
      reason: 'late',
    });
  });
});
