/**
 * kafkajs 2.2.4's `BrokerPool.withBroker`, which serves every request meant for "any broker" (metadata,
 * describeCluster, an admin's describeConfigs), draws the brokers in random order and means to try the next one when
 * one fails, but connects to the one it drew outside its try: a broker that just died (its cached metadata still lists
 * it) throws a connection error out of the loop. Right after a broker dies, one such call in three then fails at once
 * instead of asking another broker, and a member started then exits (architecture.md, "Growing past one machine").
 * Replaced on the class's prototype so that connecting to the drawn broker is inside the try, as in later kafkajs.
 * A correctness fix: the exact kafkajs version is checked, and `installBrokerPoolFailover` throws on a mismatch.
 */
import { createRequire } from 'node:module';
import { ErrorCodes, SdpError } from '../../errors.js';
import { checkKafkajsVersion } from './kafkajsVersion.js';

const require = createRequire(import.meta.url);

interface PoolLike {
  brokers: Record<string, unknown>;
  findBroker(which: { nodeId: string }): Promise<unknown>;
}
type WithBroker = (this: PoolLike, callback: (b: { nodeId: string; broker: unknown }) => Promise<unknown>) => unknown;

let installed = false;

export function installBrokerPoolFailover(): void {
  if (installed) return;
  const version = checkKafkajsVersion('the broker pool failover fix');
  if (!version.ok)
    throw new SdpError(ErrorCodes.KAFKA_CLIENT_PATCH, `cannot apply the kafkajs broker pool fix: ${version.reason}`);
  const BrokerPool = require('kafkajs/src/cluster/brokerPool.js') as { prototype: { withBroker: WithBroker } };
  const shuffle = require('kafkajs/src/utils/shuffle.js') as <T>(items: T[]) => T[];
  const { KafkaJSBrokerNotFound } = require('kafkajs/src/errors.js') as {
    KafkaJSBrokerNotFound: new (message: string) => Error;
  };
  BrokerPool.prototype.withBroker = async function withBroker(callback) {
    const nodeIds = shuffle(Object.keys(this.brokers));
    if (nodeIds.length === 0) throw new KafkaJSBrokerNotFound('No brokers in the broker pool');
    for (const nodeId of nodeIds) {
      try {
        const broker = await this.findBroker({ nodeId });
        return await callback({ nodeId, broker });
      } catch {
        // this broker is down or refused the request: the next one is asked (kafkajs's own intent)
      }
    }
    return null;
  };
  installed = true;
}
