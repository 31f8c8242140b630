/**
 * kafkajs 2.2.4's transactional producer asks FindCoordinator before every coordinator request of a transaction:
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn each pay one more round trip to a broker. A
 * roll's commit (architecture.md, "Growing past one machine") thus sent six requests where four do the work.
 *
 * This patch gives each transactional producer's transaction manager (`producer/eosManager/index.js`) a view of
 * the cluster that remembers the coordinator it found, per coordinator type and id, as the Java client does. It
 * forgets it when a request to that broker is answered "not the coordinator" (codes 15 and 16) or fails without a
 * Kafka answer (a lost connection, a timeout); the former request is sent once more to the coordinator found then, as
 * kafkajs's lookup before each request would have sent it. A lookup that failed is not remembered. The producer is
 * discarded after any transaction error anyway (partitionTransactions.ts), and its view with it.
 *
 * `producer/index.js` binds the transaction manager when kafkajs loads: installed by patches/consumerFixes.ts, which
 * runs before anything imports 'kafkajs'. A speed-up, not a fix: guarded by kafkajs's exact version, and when it
 * comes too late or kafkajs's files changed, kafkajs's own code runs (one lookup per request, as before).
 */
import { createRequire } from 'node:module';
import { checkKafkajsVersion, isLoaded } from './kafkajsVersion.js';

const require = createRequire(import.meta.url);

const EOS_MANAGER = 'kafkajs/src/producer/eosManager/index.js';
/** Binds the transaction manager when it loads (with kafkajs itself). */
const PRODUCER = 'kafkajs/src/producer/index.js';

/** What kafkajs's transaction manager uses of its cluster (every `cluster.` in eosManager/index.js). */
export interface EosCluster {
  readonly retry: unknown;
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<object>;
  refreshMetadataIfNecessary(): Promise<unknown>;
  findControllerBroker(): Promise<object>;
}

/**
 * Kafka's answers that the broker is not (or no longer) the coordinator, by code (14 is the coordinator loading: still
 * it). kafkajs 2.2.4 names 15 GROUP_COORDINATOR_NOT_AVAILABLE and 16 NOT_COORDINATOR_FOR_GROUP.
 */
const NOT_THE_COORDINATOR_CODES = new Set([15, 16]);

/** Kafka answered that the broker is not the coordinator: nothing was done there, so asking the right one is safe. */
export function isNotCoordinatorAnswer(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' && NOT_THE_COORDINATOR_CODES.has(code);
}

/**
 * Whether an error of a request to a remembered coordinator forgets it: a not-the-coordinator answer, or an error
 * without a Kafka type (a lost connection, a timeout). Any other Kafka answer (e.g. CONCURRENT_TRANSACTIONS right after
 * the last EndTxn, while its markers are written) came from the coordinator, which stays found.
 */
export function forgetsCoordinator(err: unknown): boolean {
  const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined;
  return typeof type !== 'string' || isNotCoordinatorAnswer(err);
}

/**
 * `broker`, whose every method calls `forget` when it fails in a way {@link forgetsCoordinator} names. A request the
 * broker answered as not the coordinator is sent once more, to the coordinator `find` finds then: kafkajs, which looked
 * the coordinator up before each request, retries AddOffsetsToTxn and EndTxn on nothing, and the first commit after
 * a coordinator moved would fail. Other failures pass on as they came.
 */
function forgettingOnError<B extends object>(broker: B, forget: () => void, find: () => Promise<object>): B {
  return new Proxy(broker, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          if (forgetsCoordinator(err)) forget();
          throw err;
        }
        if (!(result instanceof Promise)) return result;
        return result.catch(async (err: unknown) => {
          if (!forgetsCoordinator(err)) throw err;
          forget();
          if (!isNotCoordinatorAnswer(err)) throw err;
          const found = (await find()) as Record<PropertyKey, unknown>;
          return (found[prop] as (...a: unknown[]) => unknown).apply(found, args);
        });
      };
    },
  });
}

/** A view of `cluster` that finds each coordinator once until a request to it fails. */
export function cachingCoordinators(cluster: EosCluster): EosCluster {
  const found = new Map<string, Promise<object>>();
  return {
    get retry() {
      return cluster.retry;
    },
    findGroupCoordinator(args) {
      const key = `${args.coordinatorType ?? 0}:${args.groupId}`;
      const cached = found.get(key);
      if (cached) return cached;
      const forget = (): void => {
        if (found.get(key) === lookup) found.delete(key);
      };
      const lookup = cluster.findGroupCoordinator(args).then(
        // The resend goes to a broker found afresh and unwrapped: once, never a loop while the coordinator moves.
        (broker) => forgettingOnError(broker, forget, () => cluster.findGroupCoordinator(args)),
        (err: unknown) => {
          forget();
          throw err;
        },
      );
      found.set(key, lookup);
      return lookup;
    },
    refreshMetadataIfNecessary: () => cluster.refreshMetadataIfNecessary(),
    findControllerBroker: () => cluster.findControllerBroker(),
  };
}

export type CoordinatorCacheStatus = { state: 'active' } | { state: 'inactive'; reason: string };

type CreateEosManager = (
  options: { cluster: EosCluster; transactional?: boolean } & Record<string, unknown>,
) => unknown;

function install(): CoordinatorCacheStatus {
  const kafkajs = checkKafkajsVersion('the coordinator cache is');
  if (!kafkajs.ok) return { state: 'inactive', reason: kafkajs.reason };
  if (isLoaded(PRODUCER)) return { state: 'inactive', reason: `${PRODUCER} was loaded before the swap` };
  try {
    const original = require(EOS_MANAGER) as unknown;
    const entry = require.cache[require.resolve(EOS_MANAGER)];
    if (typeof original !== 'function' || !entry)
      return { state: 'inactive', reason: `${EOS_MANAGER} no longer exports a function` };
    const create = original as CreateEosManager;
    const patched: CreateEosManager = (options) =>
      create(options.transactional ? { ...options, cluster: cachingCoordinators(options.cluster) } : options);
    entry.exports = patched;
    return { state: 'active' };
  } catch (err) {
    return {
      state: 'inactive',
      reason: `kafkajs internals changed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

let status: CoordinatorCacheStatus | undefined;

/** Installs the cache in this thread (idempotent) and says whether it is in force. */
export function installKafkajsCoordinatorCache(): CoordinatorCacheStatus {
  status ??= install();
  return status;
}
