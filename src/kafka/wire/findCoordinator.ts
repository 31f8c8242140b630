/**
 * Which broker coordinates a consumer group or a transactional id: one bare FindCoordinator (v1)
 * request, asked of each bootstrap server in turn until one answers. Shared by the requests the
 * project speaks without kafkajs: DescribeTransactions (transactionState.ts) and the stable
 * OffsetFetch (offsetFetch.ts).
 */
import type { Config } from '../../config/schema.js';
import { connectionSecurity } from '../security.js';
import { sendRequest, WireWriter } from './wireProtocol.js';

const FIND_COORDINATOR = { key: 10, version: 1 };

export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;
export type CoordinatorType = (typeof CoordinatorType)[keyof typeof CoordinatorType];

export interface Coordinator {
  nodeId: number;
  host: string;
  port: number;
}

/** A FindCoordinator answer with an error code (15 COORDINATOR_NOT_AVAILABLE while the internal topic loads). */
export class FindCoordinatorError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'FindCoordinatorError';
  }
}

export function hostPort(server: string): { host: string; port: number } {
  const i = server.lastIndexOf(':');
  return { host: server.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(server.slice(i + 1)) };
}

/**
 * The coordinator of `key` (a group id or a transactional id, by `type`). Rejects with the last
 * bootstrap server's failure when none answers with a coordinator.
 */
export async function findCoordinator(
  config: Config,
  key: string,
  type: CoordinatorType,
  options: { timeoutMs: number; clientId: string },
): Promise<Coordinator> {
  const body = new WireWriter().string(key).int8(type).buffer();
  let lastError: unknown;
  for (const server of config.kafka.bootstrap_servers) {
    const { host, port } = hostPort(server);
    try {
      const r = await sendRequest(host, port, FIND_COORDINATOR, body, {
        timeoutMs: options.timeoutMs,
        clientId: options.clientId,
        security: connectionSecurity(config),
      });
      r.int32(); // throttle_time_ms
      const errorCode = r.int16();
      const message = r.nullableString();
      const nodeId = r.int32();
      const coordinatorHost = r.nullableString() ?? '';
      const coordinatorPort = r.int32();
      if (errorCode !== 0)
        throw new FindCoordinatorError(
          errorCode,
          `FindCoordinator error ${errorCode}${message ? ` (${message})` : ''}`,
        );
      if (nodeId < 0) throw new FindCoordinatorError(15, 'no coordinator yet');
      return { nodeId, host: coordinatorHost, port: coordinatorPort };
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
