import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { installBrokerPoolFailover } from '../../../../src/kafka/patches/brokerPoolFailover.js';

const require = createRequire(import.meta.url);

type WithBroker = (callback: (b: { nodeId: string; broker: unknown }) => Promise<unknown>) => Promise<unknown>;

/** kafkajs's BrokerPool.withBroker run on a pool of two brokers, node 2 of which refuses connections. */
function poolWithDeadBroker(): { withBroker: WithBroker; connects: string[] } {
  const BrokerPool = require('kafkajs/src/cluster/brokerPool.js') as { prototype: { withBroker: WithBroker } };
  const connects: string[] = [];
  const pool = {
    brokers: { '1': {}, '2': {} },
    async findBroker({ nodeId }: { nodeId: string }) {
      connects.push(nodeId);
      if (nodeId === '2') {
        const err = new Error('Connection error: connect ECONNREFUSED 127.0.0.1:29092');
        err.name = 'KafkaJSConnectionError';
        throw err;
      }
      return { nodeId };
    },
  };
  return { withBroker: (callback) => BrokerPool.prototype.withBroker.call(pool, callback), connects };
}

describe('kafkajs broker pool: a request for any broker while one is down', () => {
  it('asks the next broker when connecting to the one drawn fails (kafkajs 2.2.4 threw out of its loop)', async () => {
    installBrokerPoolFailover();
    // The order is random: 30 draws put the dead broker first with a probability of 1 - 2^-30.
    for (let i = 0; i < 30; i++) {
      const { withBroker, connects } = poolWithDeadBroker();
      await expect(withBroker(async ({ nodeId }) => `metadata from ${nodeId}`)).resolves.toBe('metadata from 1');
      expect(connects.at(-1)).toBe('1');
    }
  });

  it('answers null when every broker fails, as kafkajs does when every request fails', async () => {
    installBrokerPoolFailover();
    const { withBroker } = poolWithDeadBroker();
    await expect(
      withBroker(async () => {
        throw new Error('refused');
      }),
    ).resolves.toBeNull();
  });
});
