// Simulates another kafkajs version: the installed package.json is replaced, in Node's require cache,
// before patches/produceFastPaths.ts loads and reads it. Nothing here imports that module statically.
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { groupMessagesPerPartition } from '../../../../src/kafka/patches/partitioning.js';
import { fastProduceRequestV3 } from '../../../../src/kafka/patches/recordBatchEncoder.js';
import { frameRequest } from '../../../../src/kafka/patches/requestFraming.js';

const require = createRequire(import.meta.url);
const KAFKAJS_DIR = dirname(require.resolve('kafkajs/package.json')) + sep;
const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const GROUP_MESSAGES = 'kafkajs/src/producer/groupMessagesPerPartition.js';

/** Drops every kafkajs module from the require cache: the next require loads kafkajs's own files. */
function forgetKafkajs(): void {
  for (const key of Object.keys(require.cache)) if (key.startsWith(KAFKAJS_DIR)) delete require.cache[key];
}

describe('installKafkajsFastPaths on another kafkajs version', () => {
  let patches: typeof import('../../../../src/kafka/patches/produceFastPaths.js');

  beforeAll(async () => {
    forgetKafkajs();
    const pkg = require('kafkajs/package.json') as { version: string };
    require.cache[require.resolve('kafkajs/package.json')]!.exports = { ...pkg, version: '2.3.0' };
    vi.resetModules();
    patches = await import('../../../../src/kafka/patches/produceFastPaths.js');
  });

  afterAll(() => {
    forgetKafkajs();
  });

  it("swaps nothing and says why: kafkajs's own modules stay in place", () => {
    const reason = 'kafkajs 2.3.0 is installed; the fast produce paths are written for 2.2.4 only';
    expect(patches.kafkajsFastPathsStatus()).toEqual({
      produceRequest: 'unavailable',
      groupMessagesPerPartition: 'unavailable',
      requestFraming: 'unavailable',
      reason,
    });
    // Called again as createTransactionalProducer does, and with kafkajs loaded: still kafkajs's own.
    const kafkajs = require('kafkajs') as { Kafka: unknown };
    expect(kafkajs.Kafka).toBeTypeOf('function');
    expect(patches.installKafkajsFastPaths().produceRequest).toBe('unavailable');
    const v3 = require(PRODUCE_V3) as unknown;
    const group = require(GROUP_MESSAGES) as unknown;
    expect(v3).toBeTypeOf('function');
    expect(v3).not.toBe(fastProduceRequestV3);
    expect(group).toBeTypeOf('function');
    expect(group).not.toBe(groupMessagesPerPartition);
    expect(require('kafkajs/src/protocol/request.js')).not.toBe(frameRequest);
    expect(patches.kafkajsFastPathsLogFields(patches.installKafkajsFastPaths())).toEqual({
      kafkajs_produce_path: 'kafkajs',
      produce_encoder: 'unavailable',
      produce_grouping: 'unavailable',
      request_framing: 'unavailable',
      reason,
    });
  });

  it("leaves kafkajs's own Produce encoder working", async () => {
    const produce = require('kafkajs/src/protocol/requests/produce/index.js') as {
      protocol(args: {
        version: number;
      }): (args: Record<string, unknown>) => { request: { apiVersion: number; encode(): Promise<{ buffer: Buffer }> } };
    };
    const { request } = produce.protocol({ version: 7 })({
      acks: -1,
      timeout: 1000,
      compression: 0,
      topicData: [
        { topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'v' }] }] },
      ],
    });
    expect(request.apiVersion).toBe(7);
    expect((await request.encode()).buffer.length).toBeGreaterThan(0);
  });
});
