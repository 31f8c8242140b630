/**
 * Swaps three of kafkajs 2.2.4's internal modules, in Node's require cache, for versions that give
 * the same results much faster (patches/recordBatchEncoder.ts, patches/partitioning.ts,
 * patches/requestFraming.ts):
 *
 * - `protocol/requests/produce/v3/request.js` (the Produce v3..v7 encoder): loaded lazily by
 *   kafkajs on the first produce, so it can be swapped until then;
 * - `producer/groupMessagesPerPartition.js`: bound when kafkajs itself is loaded, so it can only
 *   be swapped before anything in the thread imports 'kafkajs';
 * - `protocol/request.js` (the frame of every request): bound when kafkajs loads, as the grouping.
 *   Import this module first (the producer worker does) to get the last two; later, only the
 *   encoder is swapped.
 *
 * Guarded by kafkajs's exact version, as patches/fetchFastPaths.ts: on another version nothing is
 * swapped. Each swap that comes too late, or that finds kafkajs's files changed, is skipped too, and
 * kafkajs's own code keeps running: slower, never wrong. The status says why; the producer worker
 * logs it. Per thread: worker threads have their own module cache.
 */
import { createRequire } from 'node:module';
import { checkKafkajsVersion, isLoaded } from './kafkajsVersion.js';
import { groupMessagesPerPartition } from './partitioning.js';
import { fastProduceRequestV3, kafkajsInternals } from './recordBatchEncoder.js';
import { frameRequest, KAFKAJS_REQUEST_PATH } from './requestFraming.js';

const require = createRequire(import.meta.url);

const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
/** These bind v3 when they load: once any is loaded, swapping v3 no longer reaches them. */
const PRODUCE_V4_TO_V7 = [4, 5, 6, 7].map((v) => `kafkajs/src/protocol/requests/produce/v${v}/request.js`);
const GROUP_MESSAGES = 'kafkajs/src/producer/groupMessagesPerPartition.js';
const SEND_MESSAGES = 'kafkajs/src/producer/sendMessages.js';
/** Binds request.js when it loads. */
const CONNECTION = 'kafkajs/src/network/connection.js';

export type SwapStatus = 'swapped' | 'too-late' | 'unavailable';

export interface KafkajsFastPathsStatus {
  produceRequest: SwapStatus;
  groupMessagesPerPartition: SwapStatus;
  requestFraming: SwapStatus;
  /** Why a swap is not in force, when one is not. */
  reason?: string;
}

function swap(specifier: string, dependents: readonly string[], replacement: unknown, reasons: string[]): SwapStatus {
  try {
    const loaded = dependents.find(isLoaded);
    if (loaded !== undefined) {
      reasons.push(`${loaded} was loaded before the swap of ${specifier}`);
      return 'too-late';
    }
    require(specifier);
    const entry = require.cache[require.resolve(specifier)];
    if (!entry) {
      reasons.push(`${specifier} is not in the require cache`);
      return 'unavailable';
    }
    entry.exports = replacement;
    return 'swapped';
  } catch (err) {
    reasons.push(`kafkajs internals changed: ${err instanceof Error ? err.message : String(err)}`);
    return 'unavailable';
  }
}

function install(previous: KafkajsFastPathsStatus | undefined): KafkajsFastPathsStatus {
  const kafkajs = checkKafkajsVersion('the fast produce paths are');
  if (!kafkajs.ok) {
    return {
      produceRequest: 'unavailable',
      groupMessagesPerPartition: 'unavailable',
      requestFraming: 'unavailable',
      reason: kafkajs.reason,
    };
  }
  const reasons: string[] = [];
  let produceRequest: SwapStatus;
  if (previous?.produceRequest === 'swapped') produceRequest = 'swapped';
  else {
    try {
      kafkajsInternals();
      produceRequest = swap(PRODUCE_V3, PRODUCE_V4_TO_V7, fastProduceRequestV3, reasons);
    } catch (err) {
      produceRequest = 'unavailable';
      reasons.push(`kafkajs internals changed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const groupMessages =
    previous?.groupMessagesPerPartition === 'swapped'
      ? 'swapped'
      : swap(GROUP_MESSAGES, [SEND_MESSAGES], groupMessagesPerPartition, reasons);
  const requestFraming =
    previous?.requestFraming === 'swapped'
      ? 'swapped'
      : swap(KAFKAJS_REQUEST_PATH, [CONNECTION], frameRequest, reasons);
  const swaps = { produceRequest, groupMessagesPerPartition: groupMessages, requestFraming };
  return reasons.length > 0 ? { ...swaps, reason: reasons.join('; ') } : swaps;
}

let status: KafkajsFastPathsStatus | undefined;

/** Installs what can still be installed in this thread; idempotent. */
export function installKafkajsFastPaths(): KafkajsFastPathsStatus {
  if (
    status?.produceRequest !== 'swapped' ||
    status.groupMessagesPerPartition !== 'swapped' ||
    status.requestFraming !== 'swapped'
  )
    status = install(status);
  return status;
}

/** What `installKafkajsFastPaths` achieved in this thread (undefined before it ran). */
export function kafkajsFastPathsStatus(): KafkajsFastPathsStatus | undefined {
  return status;
}

/** Which produce path runs in this thread, as one log line's fields (stable names: operators match on them). */
export function kafkajsFastPathsLogFields(current: KafkajsFastPathsStatus): {
  kafkajs_produce_path: 'fast' | 'partly-fast' | 'kafkajs';
  produce_encoder: SwapStatus;
  produce_grouping: SwapStatus;
  request_framing: SwapStatus;
  reason?: string;
} {
  const all = [current.produceRequest, current.groupMessagesPerPartition, current.requestFraming];
  const swapped = all.filter((s) => s === 'swapped').length;
  return {
    kafkajs_produce_path: swapped === all.length ? 'fast' : swapped > 0 ? 'partly-fast' : 'kafkajs',
    produce_encoder: current.produceRequest,
    produce_grouping: current.groupMessagesPerPartition,
    request_framing: current.requestFraming,
    ...(current.reason ? { reason: current.reason } : {}),
  };
}

// On import: before the importer's later imports load kafkajs.
installKafkajsFastPaths();
