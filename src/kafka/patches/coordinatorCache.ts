/**
 * kafkajs 2.2.4's transactional producer asks FindCoordinator before every coordinator request of a transaction:
 * AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn each pay one more round trip to a broker. A
 * roll's commit (architecture.md, "Growing past one machine") thus sent six requests where four do the work.
 *
 * This patch gives each transactional producer's transaction manager (`producer/eosManager/index.js`) a view of
 * the cluster that remembers the coordinator it found, per coordinator type and id, as the Java client does. It
 * forgets it when a request to that broker answers NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE or fails without a
 * Kafka answer (a lost connection, a timeout), so kafkajs's own retry asks again; a lookup that failed is not
 * remembered. The producer is discarded after any
 * transaction error anyway (partitionTransactions.ts), and its view with it.
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
 * Kafka's answers that the broker is not (or no longer) the coordinator. Any other Kafka error (e.g.
 * CONCURRENT_TRANSACTIONS right after the last EndTxn, while its markers are written) came from the coordinator, so it
 * stays found; an error without a Kafka type (a lost connection, a timeout) forgets it.
 */
const NOT_THE_COORDINATOR = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

export function forgetsCoordinator(err: unknown): boolean {
  const type = typeof err === 'object' && err !== null ? (err as { type?: unknown }).type : undefined;
  return typeof type !== 'string' || NOT_THE_COORDINATOR.has(type);
}

/** `broker`, whose every method calls `forget` when it fails in a way {@link forgetsCoordinator} names. */
function forgettingOnError<B extends object>(broker: B, forget: () => void): B {
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
        if (result instanceof Promise)
          return result.catch((err: unknown) => {
            if (forgetsCoordinator(err)) forget();
            throw err;
          });
        return result;
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
        (broker) => forgettingOnError(broker, forget),
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
