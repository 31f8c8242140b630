/**
 * Replaces kafkajs 2.2.4's aborted-record filter (`consumer/filterAbortedMessages.js`) with
 * abortedTransactions.ts, in Node's require cache, as patches/produceFastPaths.ts swaps encode paths.
 * kafkajs's filter leaks records of aborted transactions when several of them began before a
 * fetch's first record (see abortedTransactions.ts): a correctness fix, not a speed-up, so unlike
 * the fast paths it must not fall back quietly. `assertKafkajsConsumerFixes` (called by every
 * consumer factory) throws when the fix is not in place.
 *
 * `consumer/batch.js` binds the filter when kafkajs itself is loaded: this module must run before
 * anything in the thread imports 'kafkajs' (main.ts and client.ts import it first). Guarded by
 * kafkajs's exact version and by a self-check that builds a kafkajs Batch from a crafted fetch.
 */
import { createRequire } from 'node:module';
import { ErrorCodes, SdpError } from '../../errors.js';
import { filterAbortedRecords } from './abortedTransactions.js';
import { installKafkajsCoordinatorCache } from './coordinatorCache.js';
import { installKafkajsFetchFastPaths } from './fetchFastPaths.js';
import { checkKafkajsVersion, isLoaded } from './kafkajsVersion.js';

const require = createRequire(import.meta.url);

const FILTER = 'kafkajs/src/consumer/filterAbortedMessages.js';
const BATCH = 'kafkajs/src/consumer/batch.js';

export type ConsumerFixStatus =
  | { state: 'active'; kafkajsVersion: string }
  | { state: 'failed'; kafkajsVersion: string | undefined; reason: string };

type BatchClass = new (
  topic: string,
  fetchedOffset: string,
  partitionData: unknown,
) => { messages: Array<{ offset: string }> };

/**
 * A fetch from offset 10 where producers 1 and 2 both began aborted transactions before it (listed
 * out of order) and producer 3 wrote a committed record: only offset 12 may come out. kafkajs's
 * own filter lets offset 10 through.
 */
function selfCheck(Batch: BatchClass): string | undefined {
  const ctx = (producerId: string, firstOffset: string, control = false) => ({
    firstOffset,
    lastOffsetDelta: 0,
    producerId,
    inTransaction: true,
    isControlBatch: control,
  });
  const record = (offset: string, batchContext: ReturnType<typeof ctx>, key: Buffer | null = null) => ({
    offset,
    key,
    value: Buffer.from('x'),
    isControlRecord: batchContext.isControlBatch,
    batchContext,
    headers: {},
  });
  const abort = Buffer.from([0, 0, 0, 0]);
  const batch = new Batch('self-check', '10', {
    partition: 0,
    highWatermark: '15',
    abortedTransactions: [
      { producerId: '2', firstOffset: '7' },
      { producerId: '1', firstOffset: '5' },
    ],
    messages: [
      record('10', ctx('1', '10')),
      record('11', ctx('2', '11')),
      record('12', ctx('3', '12')),
      record('13', ctx('1', '13', true), abort),
      record('14', ctx('2', '14', true), abort),
    ],
  });
  const offsets = batch.messages.map((m) => m.offset).join(',');
  return offsets === '12' ? undefined : `kafkajs Batch kept offsets [${offsets}] of a crafted fetch, expected [12]`;
}

function install(): ConsumerFixStatus {
  const kafkajs = checkKafkajsVersion('the aborted-record filter fix is');
  if (!kafkajs.ok) return { state: 'failed', kafkajsVersion: kafkajs.version, reason: kafkajs.reason };
  const version = kafkajs.version;
  try {
    if (!isLoaded(BATCH)) {
      const original = require(FILTER) as unknown;
      if (typeof original !== 'function' || original.length !== 1)
        return {
          state: 'failed',
          kafkajsVersion: version,
          reason: `${FILTER} no longer exports a one-argument function`,
        };
      const entry = require.cache[require.resolve(FILTER)];
      if (!entry) return { state: 'failed', kafkajsVersion: version, reason: `${FILTER} is not in the require cache` };
      entry.exports = filterAbortedRecords;
    }
    // Whether or not we were in time, the Batch kafkajs uses must now filter as the Java client.
    const problem = selfCheck(require(BATCH) as BatchClass);
    if (problem)
      return {
        state: 'failed',
        kafkajsVersion: version,
        reason: isLoaded(BATCH) ? `${problem} (was kafkajs loaded before patches/consumerFixes.ts?)` : problem,
      };
    return { state: 'active', kafkajsVersion: version };
  } catch (err) {
    return {
      state: 'failed',
      kafkajsVersion: version,
      reason: `kafkajs internals changed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

let status: ConsumerFixStatus | undefined;

/** Installs the fix in this thread (idempotent) and says whether it is active. */
export function installKafkajsConsumerFixes(): ConsumerFixStatus {
  if (status?.state !== 'active') status = install();
  return status;
}

/** Throws SDP_ERR_KAFKA_CLIENT_PATCH unless the fix is active: reading without it can leak aborted records. */
export function assertKafkajsConsumerFixes(): ConsumerFixStatus & { state: 'active' } {
  const current = installKafkajsConsumerFixes();
  if (current.state !== 'active') {
    throw new SdpError(ErrorCodes.KAFKA_CLIENT_PATCH, `cannot consume with read_committed safely: ${current.reason}`);
  }
  return current;
}

// On import: before the importer's later imports load kafkajs. The lean fetch decoding second:
// its fallback is kafkajs's Batch, which must bind the fixed filter when it loads. The transactional
// producers' coordinator cache binds when kafkajs loads too (patches/coordinatorCache.ts).
installKafkajsConsumerFixes();
installKafkajsFetchFastPaths();
installKafkajsCoordinatorCache();
