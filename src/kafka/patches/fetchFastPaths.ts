/**
 * Swaps two of kafkajs 2.2.4's consumer-side modules, in Node's require cache, for lean versions
 * that give the same records and batches (fetchRecordDecoder.ts, leanBatch.ts):
 *
 * - `protocol/requests/fetch/v4/decodeMessages.js` (the record-set decoder of Fetch v4..v11
 *   responses): the response modules bind it when they load, on the first fetch;
 * - `consumer/batch.js`: bound when kafkajs itself loads (consumer/consumerGroup.js), so swapped
 *   only if nothing in the thread imported 'kafkajs' yet. patches/consumerFixes.ts calls this right
 *   after its own fix, before kafkajs loads; kafkajs's Batch (with the fix) stays the fallback.
 *
 * A speed-up, not a fix: a swap that comes too late or finds another kafkajs version is skipped
 * and kafkajs's own code keeps running, slower, never wrong. The consumer logs which is in force
 * (topicConsumer.ts); test/unit/kafka/patches/fetchFastPaths.test.ts fails if it is not.
 */
import { createRequire } from 'node:module';
import {
  leanDecodeMessages,
  LEAN_DECODE_MESSAGES,
  leanRecordOf,
  type CodecLookup,
  type DecodeMessages,
  type KafkajsBatchContext,
} from './fetchRecordDecoder.js';
import { checkKafkajsVersion, isLoaded } from './kafkajsVersion.js';
import { createBatchShim, LEAN_BATCH_SHIM, LeanBatch, type BatchConstructor } from './leanBatch.js';

const require = createRequire(import.meta.url);

const DECODE_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';
/** These bind decodeMessages when they load (v6, v9, v10 reuse v5 and v8). */
const FETCH_RESPONSES = [4, 5, 7, 8, 11].map((v) => `kafkajs/src/protocol/requests/fetch/v${v}/response.js`);
const COMPRESSION = 'kafkajs/src/protocol/message/compression/index.js';
const BATCH = 'kafkajs/src/consumer/batch.js';
const CONSUMER_GROUP = 'kafkajs/src/consumer/consumerGroup.js';

export type FetchSwapStatus = 'swapped' | 'too-late' | 'unavailable';

export interface KafkajsFetchFastPathsStatus {
  decodeMessages: FetchSwapStatus;
  batch: FetchSwapStatus;
  /** Why a swap is not in force, when one is not. */
  reason?: string;
}

function cacheEntry(specifier: string): NodeJS.Module | undefined {
  require(specifier);
  return require.cache[require.resolve(specifier)];
}

function isOurs(exports: unknown, brand: symbol): boolean {
  return typeof exports === 'function' && (exports as unknown as Record<symbol, unknown>)[brand] !== undefined;
}

/**
 * Fetches from offset 10: producer 1's aborted transaction began before it, producer 3 commits,
 * and the fetch starts inside a batch (offset 9 is below it). Only offset 12 may come out, and the
 * position must move past the two markers (last offset 14).
 */
function selfCheck(Batch: BatchConstructor): string | undefined {
  const ctx = (
    producerId: string,
    firstOffset: number,
    lastOffsetDelta: number,
    control = false,
  ): KafkajsBatchContext => ({
    firstOffset: String(firstOffset),
    firstTimestamp: '0',
    partitionLeaderEpoch: 0,
    inTransaction: true,
    isControlBatch: control,
    lastOffsetDelta,
    producerId,
    producerEpoch: 0,
    firstSequence: 0,
    maxTimestamp: '0',
    timestampType: 0,
    magicByte: 2,
  });
  const record = (offset: number, context: KafkajsBatchContext, key: Buffer | null = null) =>
    leanRecordOf(offset, 0, key, Buffer.from('x'), context);
  const aborted = ctx('1', 9, 1);
  const committed = ctx('3', 12, 0);
  const batch = new Batch('self-check', '10', {
    partition: 0,
    highWatermark: '15',
    abortedTransactions: [{ producerId: '1', firstOffset: '9' }],
    messages: [
      record(9, aborted),
      record(10, aborted),
      record(12, committed),
      record(13, ctx('1', 13, 0, true), Buffer.from([0, 0, 0, 0])),
      record(14, ctx('3', 14, 0, true), Buffer.from([0, 0, 0, 1])),
    ],
  }) as LeanBatch;
  if (!(batch instanceof LeanBatch)) return 'the installed Batch did not build a lean batch from lean records';
  const offsets = batch.messages.map((m) => m.offset).join(',');
  if (offsets !== '12' || batch.lastOffset() !== '14' || batch.offsetLag() !== '0')
    return `lean Batch kept [${offsets}] (last ${batch.lastOffset()}, lag ${batch.offsetLag()}) of a crafted fetch, expected [12] (last 14, lag 0)`;
  return undefined;
}

function install(): KafkajsFetchFastPathsStatus {
  const kafkajs = checkKafkajsVersion('the lean fetch decoder is');
  if (!kafkajs.ok) return { decodeMessages: 'unavailable', batch: 'unavailable', reason: kafkajs.reason };
  const reasons: string[] = [];
  let decodeMessages: FetchSwapStatus;
  let batch: FetchSwapStatus;
  try {
    const entry = cacheEntry(DECODE_MESSAGES);
    if (entry && isOurs(entry.exports, LEAN_DECODE_MESSAGES)) decodeMessages = 'swapped';
    else if (FETCH_RESPONSES.some(isLoaded)) {
      decodeMessages = 'too-late';
      reasons.push('a Fetch response decoder was loaded before the swap');
    } else if (!entry || typeof entry.exports !== 'function') {
      decodeMessages = 'unavailable';
      reasons.push(`${DECODE_MESSAGES} is not a function`);
    } else {
      const { lookupCodecByAttributes } = require(COMPRESSION) as { lookupCodecByAttributes: CodecLookup };
      entry.exports = leanDecodeMessages(entry.exports as DecodeMessages, lookupCodecByAttributes);
      decodeMessages = 'swapped';
    }
  } catch (err) {
    decodeMessages = 'unavailable';
    reasons.push(`kafkajs internals changed: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const entry = cacheEntry(BATCH);
    if (entry && isOurs(entry.exports, LEAN_BATCH_SHIM)) batch = 'swapped';
    else if (isLoaded(CONSUMER_GROUP)) {
      batch = 'too-late';
      reasons.push('kafkajs was loaded before patches/consumerFixes.ts');
    } else if (!entry || typeof entry.exports !== 'function') {
      batch = 'unavailable';
      reasons.push(`${BATCH} is not a constructor`);
    } else {
      const shim = createBatchShim(entry.exports as BatchConstructor);
      const problem = selfCheck(shim);
      if (problem) {
        batch = 'unavailable';
        reasons.push(problem);
      } else {
        entry.exports = shim;
        batch = 'swapped';
      }
    }
  } catch (err) {
    batch = 'unavailable';
    reasons.push(`kafkajs internals changed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return reasons.length > 0 ? { decodeMessages, batch, reason: reasons.join('; ') } : { decodeMessages, batch };
}

let status: KafkajsFetchFastPathsStatus | undefined;

/**
 * Installs what can still be installed in this thread; idempotent. Must run after the aborted-record
 * filter fix (kafkajs's Batch, the fallback, binds the filter when it loads).
 */
export function installKafkajsFetchFastPaths(): KafkajsFetchFastPathsStatus {
  if (status?.decodeMessages !== 'swapped' || status.batch !== 'swapped') status = install();
  return status;
}

/** What `installKafkajsFetchFastPaths` achieved in this thread (undefined before it ran). */
export function kafkajsFetchFastPathsStatus(): KafkajsFetchFastPathsStatus | undefined {
  return status;
}
