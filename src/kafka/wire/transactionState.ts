/**
 * The state of a transactional id at its transaction coordinator, read with bare FindCoordinator
 * (v1, key type 1) and DescribeTransactions (v0, KIP-664, Kafka 3.0+) requests — kafkajs has no
 * DescribeTransactions.
 *
 * Why: when an EndTxn(commit) fails (the coordinator's broker stops, the request times out, the
 * thread that sent it dies), the transaction may or may not have committed. Sending the batch again
 * in either case would duplicate it; this tells which (`resolveCommitOutcome`).
 *
 * Connections are secured as kafkajs's are (TLS and SASL from config, see wireProtocol.ts).
 */
import { sendRequest, WireWriter } from './wireProtocol.js';
import type { Config } from '../../config/schema.js';
import { connectionSecurity } from '../security.js';
import { CoordinatorType, findCoordinator } from './findCoordinator.js';

const DESCRIBE_TRANSACTIONS = { key: 65, version: 0 };
const ERROR_TRANSACTIONAL_ID_NOT_FOUND = 105;
const CLIENT_ID = 'sdp-txn-probe';

export interface TransactionDescription {
  /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence; NotFound. */
  state: string;
  producerId: bigint;
  producerEpoch: number;
  startTimeMs: bigint;
}

/** The coordinator's current view of `transactionalId`; rejects when it cannot be asked now. */
export async function describeTransaction(
  config: Config,
  transactionalId: string,
  timeoutMs = 5_000,
): Promise<TransactionDescription> {
  const coordinator = await findCoordinator(config, transactionalId, CoordinatorType.TRANSACTION, {
    timeoutMs,
    clientId: CLIENT_ID,
  });
  const body = new WireWriter().uvarint(2).compactString(transactionalId).uvarint(0).buffer();
  const r = await sendRequest(coordinator.host, coordinator.port, DESCRIBE_TRANSACTIONS, body, {
    timeoutMs,
    clientId: CLIENT_ID,
    flexible: true,
    security: connectionSecurity(config),
  });
  r.int32(); // throttle_time_ms
  const count = r.uvarint() - 1;
  if (count !== 1) throw new Error(`DescribeTransactions answered ${count} states for one id`);
  const errorCode = r.int16();
  r.compactString(); // transactional_id
  const state = r.compactString();
  r.int32(); // transaction_timeout_ms
  const startTimeMs = r.int64();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  if (errorCode === ERROR_TRANSACTIONAL_ID_NOT_FOUND)
    return { state: 'NotFound', producerId, producerEpoch, startTimeMs };
  if (errorCode !== 0) throw new Error(`DescribeTransactions error ${errorCode} for ${transactionalId}`);
  return { state, producerId, producerEpoch, startTimeMs };
}

export type CommitOutcome = 'committed' | 'not-committed' | 'unknown';

export interface ResolveOptions {
  /**
   * An EndTxn already on its way may still reach the coordinator: "Ongoing" counts as
   * not committed only once it has lasted this long (the sender's connections are closed by then).
   */
  settleMs?: number;
  /** Give up ('unknown') after this long, e.g. while no coordinator can be reached. */
  timeoutMs?: number;
}

/**
 * Whether the last transaction of `transactionalId`, whose EndTxn(commit) may have been sent,
 * committed. Only meaningful before anyone re-initialises the id (InitProducerId resets the state):
 * call it from the producer that owns the id, before it starts a new producer.
 */
export async function resolveCommitOutcome(
  config: Config,
  transactionalId: string,
  options: ResolveOptions = {},
): Promise<CommitOutcome> {
  const settleMs = options.settleMs ?? 1_500;
  const deadlineMs = Date.now() + (options.timeoutMs ?? 60_000);
  let ongoingSinceMs: number | undefined;
  for (;;) {
    try {
      const { state } = await describeTransaction(config, transactionalId);
      if (state === 'PrepareCommit' || state === 'CompleteCommit') return 'committed';
      if (
        state === 'PrepareAbort' ||
        state === 'CompleteAbort' ||
        state === 'PrepareEpochFence' ||
        state === 'Empty' ||
        state === 'NotFound' ||
        state === 'Dead'
      )
        return 'not-committed';
      // Ongoing: the commit has not arrived (yet).
      ongoingSinceMs ??= Date.now();
      if (Date.now() - ongoingSinceMs >= settleMs) return 'not-committed';
    } catch {
      // The coordinator is moving (its broker stopped): ask again.
    }
    if (Date.now() > deadlineMs) return 'unknown';
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
