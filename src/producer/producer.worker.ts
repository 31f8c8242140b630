/**
 * Piscina worker entry of the producer pool (imported by nothing else). Each thread owns its
 * generators and `lanes` transactional producers; a task generates a batch, writes it straight into
 * the records of its Produce requests (kafka/recordsBuilder.ts) and sends it in one transaction, so
 * generation, serialization and sending all run on the pool's threads.
 * The pool gives a thread several tasks at once: one task's events are generated while another's
 * transaction is on the wire. A task takes the producer that has rested longest: a producer that
 * starts a transaction right after committing one waits (CONCURRENT_TRANSACTIONS) until the
 * previous one's markers are written.
 */
// First, before anything loads kafkajs: see patches/produceFastPaths.ts.
import { installKafkajsFastPaths, kafkajsFastPathsLogFields } from '../kafka/patches/produceFastPaths.js';
import { workerData } from 'piscina';
import {
  createTransactionalProducer,
  type PartitionedRecords,
  type TransactionalProducer,
} from '../kafka/transactionalProducer.js';
import type { RecordsBuilder } from '../kafka/recordsBuilder.js';
import { createLogger } from '../log/logger.js';
import { createClickstreamGenerator } from '../generators/clickstream.js';
import { createIotGenerator } from '../generators/iot.js';
import { resolveCommitOutcome } from '../kafka/wire/transactionState.js';
import { CommitTable } from './commitTable.js';
import { Lanes } from './lanes.js';
import type { StreamName } from '../events/types.js';
import type { ProducerRequest, ProducerResult, ProducerWorkerData } from './producerTask.js';
import { AppendOrder, type AppendTurn } from './appendOrder.js';
import { threadSeed, threadShard, transactionalIdFor } from './threadIdentity.js';
import { claimSlot, type SlotLease } from './transactionalSlots.js';
import { MEMORY_REPORT_MS, ThreadMemoryTable } from './threadMemoryTable.js';

const data = workerData as ProducerWorkerData;
const logger = createLogger({ level: data.config.log.level, format: 'json' }).child({ component: 'producer-thread' });
const commits = new CommitTable(data.commitTable, data.lanes);
const memory = new ThreadMemoryTable(data.memoryTable);

// Once per thread, at info: which produce path runs, and why when it is kafkajs's own (slower, never wrong).
const producePath = kafkajsFastPathsLogFields(installKafkajsFastPaths());
logger.info(
  { component: 'kafka', ...producePath },
  producePath.kafkajs_produce_path === 'fast'
    ? 'fast produce paths in use'
    : "fast produce paths not all in use: kafkajs's own code runs where they are not (slower)",
);

interface Lane {
  index: number;
  producer: TransactionalProducer;
}

interface ThreadState {
  lease: SlotLease;
  lanes: Lanes<Lane>;
  clickstream: ReturnType<typeof createClickstreamGenerator>;
  iot: ReturnType<typeof createIotGenerator>;
  /**
   * Per stream and partition, batches reach the partition in the order they were generated (appendOrder.ts): a
   * batch's records for a partition wait for the earlier batches' records of that partition only.
   */
  appendOrder: Record<StreamName, AppendOrder[]>;
  /** Event time of the last event generated: a batch sent again later never stamps earlier. */
  lastEventMs: number;
  /** Asked for the topics' partition counts and for record builders (any lane would do). */
  partitionSource: TransactionalProducer;
  /** Bytes of a record at about the last batch's size, per stream: sizes the next batch's buffers. */
  bytesPerRecord: Record<StreamName, number>;
}

async function init(): Promise<ThreadState> {
  const lease = await claimSlot(data.slots, { timeoutMs: 30_000 });
  const producers: TransactionalProducer[] = [];
  try {
    for (let lane = 0; lane < data.lanes; lane++) {
      const transactionalId = transactionalIdFor(
        data.config.data_generator.transactional_id_prefix,
        data.instanceId,
        lease.slot,
        lane,
      );
      // A dead predecessor's EndTxn: learn its outcome before InitProducerId erases it.
      const orphan = commits.committingAttempt(lease.slot, lane);
      if (orphan !== undefined) {
        const outcome = await resolveCommitOutcome(data.config, transactionalId);
        logger.warn(
          { transactional_id: transactionalId, attempt_id: orphan, outcome },
          "resolved the outcome of a dead thread's commit",
        );
        commits.resolve(lease.slot, lane, orphan, outcome === 'committed');
      }
      producers.push(
        createTransactionalProducer(data.config, logger, {
          transactionalId,
          compression: data.config.data_generator.compression,
        }),
      );
    }
    // InitProducerId under the slot's ids: fences a dead predecessor and aborts its open transactions.
    await Promise.all(producers.map((p) => p.connect()));
  } catch (err) {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
    lease.release();
    throw err;
  }
  const generation = Atomics.add(new Int32Array(data.slotGenerations), lease.slot, 1);
  const seed = threadSeed(data.seed, lease.slot, generation);
  const report = (): void => {
    const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    memory.write(lease.slot, { heapUsed, heapTotal, external, arrayBuffers }, Date.now());
  };
  report();
  setInterval(report, MEMORY_REPORT_MS).unref();
  logger.debug(
    {
      slot: lease.slot,
      generation,
      transactional_ids: producers.map((p) => p.transactionalId),
    },
    'producer thread ready',
  );
  return {
    lease,
    lanes: new Lanes(producers.map((producer, index) => ({ index, producer }))),
    // This slot's share of one population (generators/ownership.ts): the same ids for every generation.
    clickstream: createClickstreamGenerator({ seed, shard: threadShard(lease.slot, data.threads) }),
    iot: createIotGenerator({
      seed: seed ^ 0x5bd1e995,
      populationSeed: data.seed,
      shard: threadShard(lease.slot, data.threads),
      state: new Float64Array(data.iotState),
    }),
    appendOrder: { clickstream: [], iot: [] },
    lastEventMs: 0,
    partitionSource: producers[0]!,
    bytesPerRecord: { clickstream: 512, iot: 256 },
  };
}

let ready: Promise<ThreadState> | undefined;
const slotOf = (state: ThreadState): number => state.lease.slot;

/** The thread's state; a failed start (Kafka unreachable) is tried again by the next task. */
function threadState(): Promise<ThreadState> {
  if (!ready) {
    const starting = init();
    ready = starting;
    starting.catch(() => {
      if (ready === starting) ready = undefined;
    });
  }
  return ready;
}

// Start at once: a thread replacing a dead one resolves its predecessor's commits before any task.
threadState().catch((err: unknown) => logger.warn({ err }, 'producer thread start failed; the next task tries again'));

/**
 * Generates the task's events and writes them straight into the records of its Produce requests
 * (kafka/recordsBuilder.ts): each event's JSON written by its generator as bytes, once, into its
 * partition's buffer (generators/recordSink.ts).
 */
function buildRecords(
  state: ThreadState,
  task: ProducerRequest,
  nowMs: number,
  builder: RecordsBuilder,
): { records: PartitionedRecords; bytes: number } {
  const due = task.due;
  // Never before this thread's previous event: an id's event times rise in its partition even for
  // a batch sent again after a later one.
  const floorMs = state.lastEventMs;
  const eventTimeMs = due
    ? (i: number) => Math.max(floorMs, Math.min(nowMs, Math.floor(due.firstMs + i * due.intervalMs)))
    : () => Math.max(floorMs, nowMs);
  if (task.count > 0) state.lastEventMs = eventTimeMs(task.count - 1);
  const generator = task.stream === 'clickstream' ? state.clickstream : state.iot;
  for (let i = 0; i < task.count; i++) generator.writeNext(eventTimeMs(i), builder);
  if (task.count > 0) state.bytesPerRecord[task.stream] = Math.ceil(builder.valueBytes / task.count) + 32;
  return { records: builder.finish(), bytes: builder.valueBytes };
}

export default async function produceBatch(task: ProducerRequest): Promise<ProducerResult> {
  const state = await threadState();
  const topic = data.topics[task.stream];
  // Before the turn: from taking it to generating, nothing may wait, so turns follow the order of generation.
  const builder = state.partitionSource.recordsBuilder(await state.partitionSource.partitionCount(topic), {
    records: task.count,
    bytesPerRecord: state.bytesPerRecord[task.stream],
  });
  let built: { records: PartitionedRecords; bytes: number };
  try {
    built = buildRecords(state, task, Date.now(), builder);
  } catch (err) {
    builder.release();
    throw err;
  }
  const { records, bytes } = built;
  // The turns are taken right where the events are made (nothing awaited between), so turns follow the order of
  // generation.
  const orders = state.appendOrder[task.stream];
  const turns = new Map<number, AppendTurn>();
  for (const requests of records) {
    const partition = requests[0]!.partition;
    orders[partition] ??= new AppendOrder();
    turns.set(partition, orders[partition]!.take());
  }
  const dies = task.attempt === 1 && data.testFaults?.dieBeforeCommitOfTasks.includes(task.taskId) === true;
  const lane = await state.lanes.acquire();
  const { producer } = lane;
  let startedMs = performance.now();
  try {
    startedMs = performance.now();
    await producer.sendRecordsInTransaction(topic, records, {
      beforePartition: (partition) => turns.get(partition)?.ready ?? Promise.resolve(),
      afterPartition: (partition) => turns.get(partition)?.done(),
      beforeCommit: () => {
        commits.markCommitting(slotOf(state), lane.index, task.attemptId);
        // In a worker thread process.exit() ends the thread only: a thread dying mid-transaction.
        if (dies) process.exit(1);
      },
    });
    commits.markCommitted(slotOf(state), lane.index);
  } catch (err) {
    commits.markIdle(slotOf(state), lane.index);
    throw err;
  } finally {
    for (const turn of turns.values()) turn.done();
    state.lanes.release(lane);
    // Every request of the transaction is answered: nothing reads the buffers any more.
    builder.release();
  }
  return {
    taskId: task.taskId,
    stream: task.stream,
    count: task.count,
    bytes,
    ackLatencyMs: performance.now() - startedMs,
    transactionalId: producer.transactionalId,
  };
}
