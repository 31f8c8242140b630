/**
 * The transactional producers' coordinator cache (src/kafka/patches/coordinatorCache.ts): the rule on a fake
 * cluster here; that kafkajs's own producer sends FindCoordinator once per coordinator through it, against the
 * cluster, in test/integration/kafka/coordinatorCache.test.ts.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  cachingCoordinators,
  type EosCluster,
  installKafkajsCoordinatorCache,
} from '../../../../src/kafka/patches/coordinatorCache.js';

const TRANSACTION = 1;
const GROUP = 0;

const require = createRequire(import.meta.url);
/** kafkajs's own protocol errors, as its brokers reject with them. */
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode(code: number): Error & { type: string; code: number };
};
const NOT_COORDINATOR = 16; // kafkajs: NOT_COORDINATOR_FOR_GROUP
const COORDINATOR_NOT_AVAILABLE = 15; // kafkajs: GROUP_COORDINATOR_NOT_AVAILABLE
const CONCURRENT_TRANSACTIONS = 51;

interface FakeBroker {
  nodeId: number;
  endTxn(): Promise<string>;
}

/** `failEndTxn(n, code)`: the next n EndTxn requests, to any broker, fail with that Kafka code (null: a lost connection). */
function fakeCluster(failLookups = 0) {
  const lookups: string[] = [];
  let failing = failLookups;
  let nextNode = 0;
  let endTxnFails = 0;
  let endTxnError: number | null = NOT_COORDINATOR;
  const cluster: EosCluster & { lookups: string[]; failEndTxn(n: number, code: number | null): void } = {
    retry: { retries: 3 },
    lookups,
    failEndTxn(n, code) {
      endTxnFails = n;
      endTxnError = code;
    },
    async findGroupCoordinator({ groupId, coordinatorType }) {
      lookups.push(`${coordinatorType ?? GROUP}:${groupId}`);
      if (failing > 0) {
        failing -= 1;
        throw createErrorFromCode(COORDINATOR_NOT_AVAILABLE);
      }
      const broker: FakeBroker = {
        nodeId: nextNode++,
        async endTxn() {
          if (endTxnFails > 0) {
            endTxnFails -= 1;
            if (endTxnError === null) throw new Error('Connection error: read ECONNRESET');
            throw createErrorFromCode(endTxnError);
          }
          return `ended by ${this.nodeId}`;
        },
      };
      return broker;
    },
    async refreshMetadataIfNecessary() {},
    async findControllerBroker() {
      return { nodeId: -1 };
    },
  };
  return cluster;
}

/** The transaction coordinator of the id `g-iot-0`, as kafkajs's transaction manager asks the view for it. */
function txnCoordinator(view: EosCluster): Promise<FakeBroker> {
  return view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION }) as Promise<FakeBroker>;
}

describe('coordinator cache: one FindCoordinator per coordinator until a request to it fails', () => {
  it('finds each coordinator (type and id) once, and requests go to the broker found', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    for (let i = 0; i < 3; i++) {
      const txn = await txnCoordinator(view);
      expect(await txn.endTxn()).toBe('ended by 0');
      await view.findGroupCoordinator({ groupId: 'g', coordinatorType: GROUP });
    }
    expect(cluster.lookups).toEqual(['1:g-iot-0', '0:g']);
    expect(view.retry).toBe(cluster.retry);
  });

  it('a request answered "not the coordinator" goes once more to the coordinator found then', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    const first = await txnCoordinator(view);
    cluster.failEndTxn(1, NOT_COORDINATOR);
    // Resent to a broker looked up afresh (node 1): the commit does not fail because the coordinator moved.
    expect(await first.endTxn()).toBe('ended by 1');
    expect(cluster.lookups).toEqual(['1:g-iot-0', '1:g-iot-0']);
    // Forgotten: the next request looks it up again, and that one is remembered.
    const next = await txnCoordinator(view);
    expect(await next.endTxn()).toBe('ended by 2');
    await txnCoordinator(view);
    expect(cluster.lookups).toHaveLength(3);
    // The other coordinator is found once.
    await view.findGroupCoordinator({ groupId: 'g', coordinatorType: GROUP });
    await view.findGroupCoordinator({ groupId: 'g', coordinatorType: GROUP });
    expect(cluster.lookups).toHaveLength(4);
  });

  it('resends once only: a second "not the coordinator" answer reaches kafkajs, whose retry asks afresh', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    const broker = await txnCoordinator(view);
    cluster.failEndTxn(2, COORDINATOR_NOT_AVAILABLE);
    await expect(broker.endTxn()).rejects.toMatchObject({ type: 'GROUP_COORDINATOR_NOT_AVAILABLE' });
    expect(cluster.lookups).toHaveLength(2);
    await txnCoordinator(view);
    expect(cluster.lookups).toHaveLength(3);
  });

  it('keeps a coordinator that answered another Kafka error; forgets one it lost the connection to', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    const broker = await txnCoordinator(view);
    cluster.failEndTxn(1, CONCURRENT_TRANSACTIONS);
    await expect(broker.endTxn()).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    await txnCoordinator(view);
    expect(cluster.lookups).toEqual(['1:g-iot-0']);
    // A lost connection has no Kafka type: forgotten, and not resent (the broker may have acted on it).
    cluster.failEndTxn(1, null);
    await expect(broker.endTxn()).rejects.toThrow('Connection error');
    expect(cluster.lookups).toEqual(['1:g-iot-0']);
    await txnCoordinator(view);
    expect(cluster.lookups).toEqual(['1:g-iot-0', '1:g-iot-0']);
  });

  it('does not remember a lookup that failed', async () => {
    const cluster = fakeCluster(1);
    const view = cachingCoordinators(cluster);
    await expect(txnCoordinator(view)).rejects.toMatchObject({
      type: 'GROUP_COORDINATOR_NOT_AVAILABLE',
    });
    await txnCoordinator(view);
    await txnCoordinator(view);
    expect(cluster.lookups).toEqual(['1:g-iot-0', '1:g-iot-0']);
  });

  it('is in force in this thread: kafkajs was loaded after the patches', () => {
    // Importing the module under test loads no kafkajs; what a worker or the ETL imports first is
    // patches/consumerFixes.ts, which installs it.
    expect(installKafkajsCoordinatorCache()).toEqual({ state: 'active' });
    const eos = require('kafkajs/src/producer/eosManager/index.js') as { name?: string };
    expect(typeof eos).toBe('function');
    expect(eos.name).toBe('patched');
  });
});
