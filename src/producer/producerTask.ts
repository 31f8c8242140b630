/** The messages between the producer-pool actor and its worker threads (piscina tasks). */
import type { Config } from '../config/schema.js';
import type { StreamName } from '../events/types.js';
import type { SlotTable } from './transactionalSlots.js';

/** Given to every producer thread at start (piscina workerData). */
export interface ProducerWorkerData {
  config: Config;
  slots: SlotTable;
  /** Seed of this pool; each thread derives its own from it and its slot. */
  seed: number;
  topics: Record<StreamName, string>;
  /** Fault injection for tests only: the thread dies after sending these tasks, before the commit. */
  testFaults?: { dieBeforeCommitOfTasks: number[] };
}

/** Generate `count` events of `stream` and send them in one transaction. */
export interface ProducerRequest {
  taskId: number;
  stream: StreamName;
  count: number;
  /** 1 for the first try; a batch sent again after a failure has a higher attempt. */
  attempt: number;
}

export interface ProducerResult {
  taskId: number;
  stream: StreamName;
  /** Events committed to Kafka by this task. */
  count: number;
  /** Uncompressed JSON bytes sent. */
  bytes: number;
  /** From the start of the send to the transaction's commit. */
  ackLatencyMs: number;
  transactionalId: string;
}
