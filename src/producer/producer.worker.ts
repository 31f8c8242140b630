/**
 * Piscina worker entry of the producer pool (imported by nothing else). Each thread owns its
 * generators and one transactional producer; a task generates a batch, serializes it and sends
 * it in one transaction, so generation, serialization and sending all run on the pool's threads.
 */
import { workerData } from 'piscina';
import { createTransactionalProducer, type OutgoingMessage, type TransactionalProducer } from '../kafka/transactionalProducer.js';
import { createLogger } from '../log/logger.js';
import { createClickstreamGenerator } from '../generators/clickstream.js';
import { createIotGenerator } from '../generators/iot.js';
import type { ProducerRequest, ProducerResult, ProducerWorkerData } from './producerTask.js';
import { claimSlot, type SlotLease } from './transactionalSlots.js';

const data = workerData as ProducerWorkerData;
const logger = createLogger({ level: data.config.log.level, format: 'json' }).child({ component: 'producer-thread' });

interface ThreadState {
  lease: SlotLease;
  producer: TransactionalProducer;
  clickstream: ReturnType<typeof createClickstreamGenerator>;
  iot: ReturnType<typeof createIotGenerator>;
}

async function init(): Promise<ThreadState> {
  const lease = await claimSlot(data.slots, { timeoutMs: 30_000 });
  const transactionalId = `${data.config.data_generator.transactional_id_prefix}-${lease.slot}`;
  const producer = createTransactionalProducer(data.config, logger, {
    transactionalId,
    compression: data.config.data_generator.compression,
  });
  await producer.connect();
  logger.debug({ transactionalId }, 'producer thread ready');
  // Distinct seeds per slot: threads must not generate the same event ids.
  const seed = (data.seed + lease.slot * 0x9e3779b1) >>> 0;
  return {
    lease,
    producer,
    clickstream: createClickstreamGenerator({ seed }),
    iot: createIotGenerator({ seed: seed ^ 0x5bd1e995 }),
  };
}

const ready = init();
// The pool learns of a failed init through the first task; avoid an unhandled rejection meanwhile.
ready.catch(() => undefined);

function buildMessages(state: ThreadState, task: ProducerRequest, nowMs: number): { messages: OutgoingMessage[]; bytes: number } {
  const messages: OutgoingMessage[] = new Array(task.count);
  let bytes = 0;
  if (task.stream === 'clickstream') {
    for (let i = 0; i < task.count; i++) {
      const event = state.clickstream.next(nowMs);
      const value = JSON.stringify(event);
      bytes += value.length;
      messages[i] = { key: event.user_id, value };
    }
  } else {
    for (let i = 0; i < task.count; i++) {
      const event = state.iot.next(nowMs);
      const value = JSON.stringify(event);
      bytes += value.length;
      messages[i] = { key: event.device_id, value };
    }
  }
  return { messages, bytes };
}

export default async function produceBatch(task: ProducerRequest): Promise<ProducerResult> {
  const state = await ready;
  const { messages, bytes } = buildMessages(state, task, Date.now());
  const startedMs = performance.now();
  const dies = task.attempt === 1 && data.testFaults?.dieBeforeCommitOfTasks.includes(task.taskId) === true;
  await state.producer.sendInTransaction(data.topics[task.stream], messages, {
    // In a worker thread process.exit() ends the thread only: a thread dying mid-transaction.
    beforeCommit: dies ? () => process.exit(1) : undefined,
  });
  return {
    taskId: task.taskId,
    stream: task.stream,
    count: task.count,
    bytes,
    ackLatencyMs: performance.now() - startedMs,
    transactionalId: state.producer.transactionalId,
  };
}
