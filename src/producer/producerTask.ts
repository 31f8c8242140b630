/** The messages between the producer-pool actor and its worker threads (piscina tasks). */
import type { Config } from '../config/schema.js';
import type { StreamName } from '../events/types.js';
import type { SlotTable } from './transactionalSlots.js';

/** Given to every producer thread at start (piscina workerData). */
export interface ProducerWorkerData {
  config: Config;
  slots: SlotTable;
  /** Threads of the pool (= slots): thread `slot` simulates the ids whose owner is `slot` (generators/ownership.ts). */
  threads: number;
  /** The IoT devices' moving state (iot.ts `state`), so a replacement thread continues its slot's devices. */
  iotState: SharedArrayBuffer;
  /** Int32 per slot: how many threads have held it, so a replacement thread gets a new seed. */
  slotGenerations: SharedArrayBuffer;
  /** Each thread's heap figures, one row per slot (see threadMemoryTable.ts). */
  memoryTable: SharedArrayBuffer;
  /** What each lane is committing (see commitTable.ts). */
  commitTable: SharedArrayBuffer;
  /** Part of the transactional ids that is new for every pool (see threadIdentity.ts). */
  instanceId: string;
  /** Transactional producers per thread (at least the tasks the pool gives a thread at once). */
  lanes: number;
  /**
   * Seed of this pool: of the population (devices' traits), and of each thread's own seed (with its slot and
   * generation).
   */
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
  /** Unique per run of a task (a batch sent again gets a new one): keys the commit table. */
  attemptId: number;
  /**
   * When the events were due at the configured rate: event i gets `ts = firstMs + i × intervalMs`
   * (never later than when it is built), so a pool that falls behind for a moment and catches up
   * still stamps every event with its own time and the rate by event time stays exact. Absent at an
   * unlimited rate: events are stamped when built.
   */
  due?: { firstMs: number; intervalMs: number };
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
