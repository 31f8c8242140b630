/**
 * Swaps two of kafkajs 2.2.4's internal modules, in Node's require cache, for versions that give
 * the same results much faster (patches/recordBatchEncoder.ts, patches/partitioning.ts):
 *
 * - `protocol/requests/produce/v3/request.js` (the Produce v3..v7 encoder): loaded lazily by
 *   kafkajs on the first produce, so it can be swapped until then;
 * - `producer/groupMessagesPerPartition.js`: bound when kafkajs itself is loaded, so it can only
 *   be swapped before anything in the thread imports 'kafkajs'. Import this module first (the
 *   producer worker does) to get it; later, only the encoder is swapped.
 *
 * Each swap that comes too late, or that finds kafkajs's files elsewhere (another version), is
 * skipped and kafkajs's own code keeps running: slower, never wrong. Per thread: worker threads
 * have their own module cache.
 */
import { createRequire } from 'node:module';
import { groupMessagesPerPartition } from './partitioning.js';
import { fastProduceRequestV3, kafkajsInternals } from './recordBatchEncoder.js';

const require = createRequire(import.meta.url);

const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
/** These bind v3 when they load: once any is loaded, swapping v3 no longer reaches them. */
const PRODUCE_V4_TO_V7 = [4, 5, 6, 7].map((v) => `kafkajs/src/protocol/requests/produce/v${v}/request.js`);
const GROUP_MESSAGES = 'kafkajs/src/producer/groupMessagesPerPartition.js';
const SEND_MESSAGES = 'kafkajs/src/producer/sendMessages.js';

export type SwapStatus = 'swapped' | 'too-late' | 'unavailable';

export interface KafkajsFastPathsStatus {
  produceRequest: SwapStatus;
  groupMessagesPerPartition: SwapStatus;
}

function isLoaded(specifier: string): boolean {
  return require.cache[require.resolve(specifier)] !== undefined;
}

function swap(specifier: string, dependents: readonly string[], replacement: unknown): SwapStatus {
  try {
    if (dependents.some(isLoaded)) return 'too-late';
    require(specifier);
    const entry = require.cache[require.resolve(specifier)];
    if (!entry) return 'unavailable';
    entry.exports = replacement;
    return 'swapped';
  } catch {
    return 'unavailable';
  }
}

let status: KafkajsFastPathsStatus | undefined;

/** Installs what can still be installed in this thread; idempotent. */
export function installKafkajsFastPaths(): KafkajsFastPathsStatus {
  if (status?.produceRequest === 'swapped' && status.groupMessagesPerPartition === 'swapped') return status;
  let internals = true;
  try {
    kafkajsInternals();
  } catch {
    internals = false;
  }
  status = {
    produceRequest: !internals
      ? 'unavailable'
      : status?.produceRequest === 'swapped'
        ? 'swapped'
        : swap(PRODUCE_V3, PRODUCE_V4_TO_V7, fastProduceRequestV3),
    groupMessagesPerPartition:
      status?.groupMessagesPerPartition === 'swapped'
        ? 'swapped'
        : swap(GROUP_MESSAGES, [SEND_MESSAGES], groupMessagesPerPartition),
  };
  return status;
}

/** What `installKafkajsFastPaths` achieved in this thread (undefined before it ran). */
export function kafkajsFastPathsStatus(): KafkajsFastPathsStatus | undefined {
  return status;
}

// On import: before the importer's later imports load kafkajs.
installKafkajsFastPaths();
