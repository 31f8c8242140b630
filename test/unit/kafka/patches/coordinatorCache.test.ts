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

interface FakeBroker {
  nodeId: number;
  endTxn(): Promise<string>;
}

function fakeCluster(failLookups = 0) {
  const lookups: string[] = [];
  let failing = failLookups;
  let nextNode = 0;
  let endTxnFails = 0;
  let endTxnError: string | null = 'NOT_COORDINATOR';
  const cluster: EosCluster & { lookups: string[]; failEndTxn(n: number, type?: string | null): void } = {
    retry: { retries: 3 },
    lookups,
    failEndTxn(n, type = 'NOT_COORDINATOR') {
      endTxnFails = n;
      endTxnError = type;
    },
    async findGroupCoordinator({ groupId, coordinatorType }) {
      lookups.push(`${coordinatorType ?? GROUP}:${groupId}`);
      if (failing > 0) {
        failing -= 1;
        throw Object.assign(new Error('The coordinator is not available'), { type: 'COORDINATOR_NOT_AVAILABLE' });
      }
      const broker: FakeBroker = {
        nodeId: nextNode++,
        async endTxn() {
          if (endTxnFails > 0) {
            endTxnFails -= 1;
            if (endTxnError === null) throw new Error('Connection error: read ECONNRESET');
            throw Object.assign(new Error(`Kafka answered ${endTxnError}`), { type: endTxnError });
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

describe('coordinator cache: one FindCoordinator per coordinator until a request to it fails', () => {
  it('finds each coordinator (type and id) once, and requests go to the broker found', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    for (let i = 0; i < 3; i++) {
      const txn = (await view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION })) as FakeBroker;
      expect(await txn.endTxn()).toBe('ended by 0');
      await view.findGroupCoordinator({ groupId: 'g', coordinatorType: GROUP });
    }
    expect(cluster.lookups).toEqual(['1:g-iot-0', '0:g']);
    expect(view.retry).toBe(cluster.retry);
  });

  it('forgets a coordinator whose request failed, so that the retry asks again', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    const first = (await view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION })) as FakeBroker;
    cluster.failEndTxn(1);
    await expect(first.endTxn()).rejects.toMatchObject({ type: 'NOT_COORDINATOR' });
    const second = (await view.findGroupCoordinator({
      groupId: 'g-iot-0',
      coordinatorType: TRANSACTION,
    })) as FakeBroker;
    expect(await second.endTxn()).toBe('ended by 1');
    expect(cluster.lookups).toEqual(['1:g-iot-0', '1:g-iot-0']);
    // The other coordinator stays found.
    await view.findGroupCoordinator({ groupId: 'g', coordinatorType: GROUP });
    await view.findGroupCoordinator({ groupId: 'g', coordinatorType: GROUP });
    expect(cluster.lookups).toHaveLength(3);
  });

  it('keeps a coordinator that answered another Kafka error (it is still the coordinator)', async () => {
    const cluster = fakeCluster();
    const view = cachingCoordinators(cluster);
    const broker = (await view.findGroupCoordinator({
      groupId: 'g-iot-0',
      coordinatorType: TRANSACTION,
    })) as FakeBroker;
    cluster.failEndTxn(1, 'CONCURRENT_TRANSACTIONS');
    await expect(broker.endTxn()).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    await view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION });
    expect(cluster.lookups).toEqual(['1:g-iot-0']);
    // A lost connection has no Kafka type: forgotten.
    cluster.failEndTxn(1, null);
    await expect(broker.endTxn()).rejects.toThrow('Connection error');
    await view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION });
    expect(cluster.lookups).toEqual(['1:g-iot-0', '1:g-iot-0']);
  });

  it('does not remember a lookup that failed', async () => {
    const cluster = fakeCluster(1);
    const view = cachingCoordinators(cluster);
    await expect(view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION })).rejects.toMatchObject(
      {
        type: 'COORDINATOR_NOT_AVAILABLE',
      },
    );
    await view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION });
    await view.findGroupCoordinator({ groupId: 'g-iot-0', coordinatorType: TRANSACTION });
    expect(cluster.lookups).toEqual(['1:g-iot-0', '1:g-iot-0']);
  });

  it('is in force in this thread: kafkajs was loaded after the patches', () => {
    // Importing the module under test loads no kafkajs; what a worker or the ETL imports first is
    // patches/consumerFixes.ts, which installs it.
    expect(installKafkajsCoordinatorCache()).toEqual({ state: 'active' });
    const require = createRequire(import.meta.url);
    const eos = require('kafkajs/src/producer/eosManager/index.js') as { name?: string };
    expect(typeof eos).toBe('function');
    expect(eos.name).toBe('patched');
  });
});
