/**
 * producer-pool: owns a Piscina pool of `data_generator.threads` threads (auto: sized to the rates,
 * producer/threadSizing.ts), each with its own
 * generators and transactional producers (src/producer/producer.worker.ts). It paces every stream
 * to its configured real rate (Pacer; a batch lingers up to `data_generator.linger` to fill), sizes tasks —
 * one Kafka transaction each — from one batch when keeping up to MAX_BATCHES_PER_TASK batches when
 * behind or unlimited, keeps `tasksPerThread` tasks per thread in flight, logs metrics, and on
 * `stop` waits until every in-flight batch is acknowledged before it closes the threads.
 *
 * Failures: a failed batch is sent again after a back-off, as a new transaction (the failed one is
 * aborted). A thread that dies is replaced by Piscina; the replacement takes over its slot's
 * transactional ids, which fences the dead producers and aborts their open transactions. A batch
 * whose thread died during EndTxn may have committed: the pool waits until the replacement has
 * asked the coordinator (CommitTable) and counts it, or sends it again — never both.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Config } from '../config/schema.js';
import type { StreamName } from '../events/types.js';
import type { Logger } from '../log/logger.js';
import { Pacer } from '../producer/pacer.js';
import type { ProducerRequest, ProducerResult, ProducerWorkerData } from '../producer/producerTask.js';
import { StreamMetrics, type StreamMetricsSnapshot } from '../producer/streamMetrics.js';
import { CommitTable } from '../producer/commitTable.js';
import { nextTaskSize, shouldLinger, type TaskSizing } from '../producer/taskSizing.js';
import { createIotStateTable, createPoolInstanceId } from '../producer/threadIdentity.js';
import { producerThreadCount } from '../producer/threadSizing.js';
import { createSlotTable } from '../producer/transactionalSlots.js';
import { MEMORY_MAX_AGE_MS, ThreadMemoryTable } from '../producer/threadMemoryTable.js';
import type { HeapUsage } from '../status/memoryBreakdown.js';
import { backoffDelayMs } from '../system/backoff.js';
import { dispatch, reply, spawn, type ActorContext, type AnyRef, type Ref } from '../system/nact.js';
import { resolveWorkerFile } from '../system/workerFile.js';

export const STREAMS: readonly StreamName[] = ['clickstream', 'iot'];

/**
 * A task (one transaction) carries one batch when the pool keeps up, up to this many batches when
 * it is behind or the rate is unlimited: per-transaction round trips dominate small transactions.
 * At the default batch_size (50): 28,000 events, about 7,000 per partition of 4, the most that still
 * fits one Produce request per partition (messagesPerRequest: 8,000; the busiest partition of a
 * clickstream task holds up to ~7,600). A thread's batches reach a partition one after the other
 * (producer/appendOrder.ts), so fewer, fuller requests mean fewer round trips in that chain: measured
 * with `npm run bench:produce`, 2 threads, 6 runs each, ~9% more events/s than with 20,000 (30,000 no
 * better: its busiest partition sometimes needs a second request), ~30 MB more peak RSS.
 */
export const MAX_BATCHES_PER_TASK = 560;
/**
 * Tasks in flight over the whole pool, at least one per thread: with one thread, a second task is
 * generated while the first one's transaction is on the wire. More only adds memory (measured with
 * `npm run bench:produce`: 4 threads × 2 tasks ran no faster than 4 × 1, with 40% more RSS).
 */
export const MIN_TASKS_IN_FLIGHT = 2;
/**
 * Tasks per thread at an unlimited rate: a thread generates its next batch while the previous one
 * is on the wire (its Produce waits for the previous one's acks, producer/appendOrder.ts, so the
 * order per id holds). Measured with `npm run bench:produce` on 2 cores, 2 threads: about 1.4×
 * the events/s of one task per thread, the threads otherwise idle half the time on round trips.
 */
export const UNLIMITED_TASKS_PER_THREAD = 2;
const TICK_MS = 20;
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 5_000;
/** How often, and how long at most, to look for the resolution of a dead thread's commit. */
const COMMIT_RECHECK_MS = 250;
const COMMIT_RESOLUTION_TIMEOUT_MS = 120_000;

export interface ProducerSummary {
  totals: Record<StreamName, number>;
  /** Committed transactions (one per acknowledged batch) per stream. */
  transactions: Record<StreamName, number>;
  errors: Record<StreamName, number>;
  elapsedMs: number;
  /** True when every requested event (--count) was acknowledged. */
  complete: boolean;
}

export type ProducerPoolMsg =
  /** Begin generating; idempotent. */
  | { type: 'start' }
  /** Internal: time to issue due batches or log metrics. */
  | { type: 'tick' }
  | { type: 'taskSucceeded'; result: ProducerResult }
  | { type: 'taskFailed'; task: ProducerRequest; error: string }
  | { type: 'retry'; task: ProducerRequest }
  /** Internal: a failed attempt was committing when its thread died; look again for its outcome. */
  | { type: 'awaitCommit'; task: ProducerRequest; error: string; sinceMs: number }
  /** Query: stop generating, wait for every in-flight batch, close the threads; replies ProducerSummary. */
  | { type: 'stop' }
  /** Query: replies ProducerMetrics. */
  | { type: 'metrics' };

export interface ProducerMetrics {
  streams: StreamMetricsSnapshot[];
  inFlightTasks: number;
  threads: number;
  /** Each live thread's heap figures (architecture.md, "Back-pressure and shutdown"), by slot. */
  threadMemory: Array<{ slot: number; usage: HeapUsage }>;
  running: boolean;
  /** Wall-clock times of the first and the latest acknowledged batch (null before any). */
  firstAckMs: number | null;
  lastAckMs: number | null;
}

export interface ProducerPoolOptions {
  config: Config;
  logger: Logger;
  /** Events per second per stream (0 = as fast as possible); streams absent are not generated. */
  rates: Partial<Record<StreamName, number>>;
  /** Total events per stream; absent = unlimited. */
  counts?: Partial<Record<StreamName, number>>;
  threads?: number;
  batchSize?: number;
  /** How long a batch of a stream that keeps up may wait to fill (ms); default data_generator.linger. */
  lingerMs?: number;
  /** Events per task (transaction) when behind or unlimited; default batchSize × MAX_BATCHES_PER_TASK. */
  maxEventsPerTask?: number;
  /**
   * Tasks given to a thread at once; default: UNLIMITED_TASKS_PER_THREAD at an unlimited rate, else enough for
   * MIN_TASKS_IN_FLIGHT over the pool, at least 1.
   */
  tasksPerThread?: number;
  /**
   * Transactional producers per thread; default tasksPerThread + 1, so a task never waits for one and never reuses one
   * that just committed.
   */
  producersPerThread?: number;
  seed?: number;
  /** Called once when every requested event is acknowledged (only with counts). */
  onComplete?: (summary: ProducerSummary) => void;
  /** Called when a failure cannot be retried (the pool stops). */
  onFatal?: (error: Error) => void;
  /** For fault-injection tests only: makes the threads misbehave (see producer.worker.ts). */
  testFaults?: ProducerWorkerData['testFaults'];
}

interface State {
  pool?: Piscina<ProducerRequest, ProducerResult>;
  pacers: Map<StreamName, Pacer>;
  commits?: CommitTable;
  memory?: ThreadMemoryTable;
  nextAttemptId: number;
  metrics: Map<StreamName, StreamMetrics>;
  inFlight: Map<number, ProducerRequest>;
  retrying: number;
  nextTaskId: number;
  startedMs: number;
  lastMetricsMs: number;
  stopping: boolean;
  stopWaiters: Array<Ref<ProducerSummary>>;
  completed: boolean;
  tickTimer?: NodeJS.Timeout;
  metricsTimer?: NodeJS.Timeout;
  roundRobin: number;
  firstAckMs: number | null;
  lastAckMs: number | null;
}

function summaryOf(state: State): ProducerSummary {
  const totals = { clickstream: 0, iot: 0 } as Record<StreamName, number>;
  const errors = { clickstream: 0, iot: 0 } as Record<StreamName, number>;
  const transactions = { clickstream: 0, iot: 0 } as Record<StreamName, number>;
  for (const [stream, m] of state.metrics) {
    const snap = m.current();
    totals[stream] = snap.total;
    errors[stream] = snap.errors;
    transactions[stream] = snap.transactions;
  }
  const complete = [...state.pacers.entries()].every(
    ([stream, p]) => p.limit !== Infinity && (state.metrics.get(stream)?.acknowledgedTotal ?? 0) >= p.limit,
  );
  return { totals, transactions, errors, elapsedMs: Date.now() - state.startedMs, complete };
}

// Longer than 80 lines on purpose: an actor's factory is its scope. The per-message handlers and
// helpers inside share its options and logger, and each stays short.
export function spawnProducerPool(
  parent: AnyRef,
  options: ProducerPoolOptions,
  name = 'producer-pool',
): Ref<ProducerPoolMsg> {
  const { config, logger: rootLogger } = options;
  const logger = rootLogger.child({ component: 'producer-pool' });
  const threads =
    options.threads ?? producerThreadCount(config.data_generator.threads, options.rates, availableParallelism());
  const batchSize = options.batchSize ?? config.data_generator.batch_size;
  const lingerMs = options.lingerMs ?? config.data_generator.linger;
  const unlimited = Object.values(options.rates).some((rate) => rate === 0);
  const tasksPerThread = Math.max(
    1,
    options.tasksPerThread ?? (unlimited ? UNLIMITED_TASKS_PER_THREAD : Math.ceil(MIN_TASKS_IN_FLIGHT / threads)),
  );
  const lanes = Math.max(1, options.producersPerThread ?? tasksPerThread + 1);
  const sizing: TaskSizing = {
    batchSize,
    maxEventsPerTask: options.maxEventsPerTask ?? batchSize * MAX_BATCHES_PER_TASK,
  };
  const maxInFlight = threads * tasksPerThread;
  const streams = STREAMS.filter((s) => options.rates[s] !== undefined);

  function scheduleTick(state: State, self: Ref<ProducerPoolMsg>, delayMs: number): void {
    if (state.tickTimer) return;
    state.tickTimer = setTimeout(() => {
      state.tickTimer = undefined;
      dispatch(self, { type: 'tick' });
    }, delayMs);
  }

  function runTask(state: State, self: Ref<ProducerPoolMsg>, pending: Omit<ProducerRequest, 'attemptId'>): void {
    const task: ProducerRequest = { ...pending, attemptId: state.nextAttemptId };
    state.nextAttemptId = state.nextAttemptId >= 0x7ffffffe ? 1 : state.nextAttemptId + 1;
    state.inFlight.set(task.taskId, task);
    state.pool!.run(task).then(
      (result) => dispatch(self, { type: 'taskSucceeded', result }),
      (err: unknown) =>
        dispatch(self, { type: 'taskFailed', task, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  function issue(state: State, self: Ref<ProducerPoolMsg>, nowMs: number): void {
    if (state.stopping) return;
    let issuedAny = true;
    while (issuedAny && state.inFlight.size + state.retrying < maxInFlight) {
      issuedAny = false;
      for (let i = 0; i < streams.length && state.inFlight.size + state.retrying < maxInFlight; i++) {
        const stream = streams[(state.roundRobin + i) % streams.length]!;
        const pacer = state.pacers.get(stream)!;
        const due = pacer.due(nowMs);
        if (due === 0) continue;
        const lingering = shouldLinger({
          dueEvents: due,
          leftEvents: pacer.limit - pacer.issuedTotal,
          batchSize,
          oldestDueAtMs: pacer.oldestDueAtMs(),
          nowMs,
          lingerMs,
        });
        if (lingering) continue;
        const count = nextTaskSize(due, maxInFlight - state.inFlight.size - state.retrying, sizing);
        const dueTimes = pacer.unlimitedRate
          ? undefined
          : { firstMs: pacer.oldestDueAtMs(), intervalMs: 1000 / pacer.ratePerSecond };
        pacer.take(count);
        runTask(state, self, {
          taskId: state.nextTaskId++,
          stream,
          count,
          attempt: 1,
          ...(dueTimes ? { due: dueTimes } : {}),
        });
        issuedAny = true;
      }
      state.roundRobin = (state.roundRobin + 1) % Math.max(1, streams.length);
    }
    // Next tick: when a batch is due, or when the oldest due event has lingered long enough.
    const waitMs = Math.min(
      ...streams.map((s) => {
        const pacer = state.pacers.get(s)!;
        if (pacer.due(nowMs) === 0) return pacer.msUntilNext(nowMs);
        return Math.min(pacer.msUntilDue(batchSize, nowMs), Math.max(0, pacer.oldestDueAtMs() + lingerMs - nowMs));
      }),
    );
    if (Number.isFinite(waitMs) && state.inFlight.size + state.retrying < maxInFlight)
      scheduleTick(state, self, Math.max(TICK_MS, waitMs));
  }

  function logMetrics(state: State, nowMs: number): void {
    for (const m of state.metrics.values()) {
      const snap = m.roll(nowMs);
      logger.info(
        {
          stream: snap.stream,
          threads,
          events_per_s: snap.eventsPerSecond,
          total: snap.total,
          errors: snap.errors,
          transactions: snap.transactions,
          events_per_txn: snap.eventsPerTransaction === null ? null : Math.round(snap.eventsPerTransaction * 10) / 10,
          ack_latency_ms_p50: snap.ackLatencyMsP50 === null ? null : Math.round(snap.ackLatencyMsP50 * 10) / 10,
          ack_latency_ms_p99: snap.ackLatencyMsP99 === null ? null : Math.round(snap.ackLatencyMsP99 * 10) / 10,
        },
        'producer metrics',
      );
    }
    // Where the memory goes, every metrics interval (architecture.md, "Back-pressure and shutdown").
    const mbOf = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;
    const main = process.memoryUsage();
    logger.info(
      {
        rss_mb: mbOf(main.rss),
        main_heap_used_mb: mbOf(main.heapUsed),
        main_heap_total_mb: mbOf(main.heapTotal),
        main_array_buffers_mb: mbOf(main.arrayBuffers),
        producer_threads: threadMemoryOf(state, nowMs).map((t) => ({
          slot: t.slot,
          heap_used_mb: mbOf(t.usage.heapUsed),
          heap_total_mb: mbOf(t.usage.heapTotal),
          array_buffers_mb: mbOf(t.usage.arrayBuffers),
        })),
      },
      'memory',
    );
    state.lastMetricsMs = nowMs;
  }

  function threadMemoryOf(state: State, nowMs: number): Array<{ slot: number; usage: HeapUsage }> {
    return (state.memory?.read(nowMs, MEMORY_MAX_AGE_MS) ?? []).map(({ slot, usage }) => ({ slot, usage }));
  }

  function allDone(state: State): boolean {
    return state.inFlight.size === 0 && state.retrying === 0 && [...state.pacers.values()].every((p) => p.exhausted);
  }

  async function finishStop(state: State): Promise<void> {
    if (state.tickTimer) clearTimeout(state.tickTimer);
    if (state.metricsTimer) clearInterval(state.metricsTimer);
    state.tickTimer = undefined;
    logMetrics(state, Date.now());
    const pool = state.pool;
    state.pool = undefined;
    if (pool) await pool.destroy();
    const summary = summaryOf(state);
    logger.info(
      {
        clickstream_total: summary.totals.clickstream,
        iot_total: summary.totals.iot,
        clickstream_transactions: summary.transactions.clickstream,
        iot_transactions: summary.transactions.iot,
        errors: summary.errors.clickstream + summary.errors.iot,
        elapsed_ms: summary.elapsedMs,
      },
      'producer summary',
    );
    for (const waiter of state.stopWaiters) dispatch(waiter, summary);
    state.stopWaiters = [];
  }

  function checkProgress(state: State, self: Ref<ProducerPoolMsg>): Promise<void> | void {
    if (state.stopping && state.inFlight.size === 0 && state.retrying === 0) return finishStop(state);
    if (!state.completed && allDone(state) && options.counts) {
      state.completed = true;
      options.onComplete?.(summaryOf(state));
      return;
    }
    issue(state, self, Date.now());
  }

  function createPool(
    worker: ReturnType<typeof resolveWorkerFile>,
    workerData: ProducerWorkerData,
  ): Piscina<ProducerRequest, ProducerResult> {
    return new Piscina<ProducerRequest, ProducerResult>({
      filename: worker.filename,
      execArgv: worker.execArgv,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Infinity,
      concurrentTasksPerWorker: tasksPerThread,
      resourceLimits: {
        maxYoungGenerationSizeMb: Math.max(1, Math.round(config.data_generator.thread_young_heap / (1024 * 1024))),
      },
      // Threads keep sockets and timers alive between tasks: never block their event loop.
      atomics: 'disabled',
      workerData,
    });
  }

  function logStarted(workerData: ProducerWorkerData): void {
    logger.info(
      {
        threads,
        threads_setting: options.threads ?? config.data_generator.threads,
        tasks_per_thread: tasksPerThread,
        producers_per_thread: lanes,
        batch_size: batchSize,
        linger_ms: lingerMs,
        thread_young_heap_mb: Math.round(config.data_generator.thread_young_heap / (1024 * 1024)),
        max_events_per_task: sizing.maxEventsPerTask,
        transactional_id_instance: workerData.instanceId,
        rates: options.rates,
        counts: options.counts ?? null,
      },
      'producer pool started',
    );
  }

  /** A batch whose thread died at EndTxn: wait until its commit's outcome is known, then count or resend it. */
  async function onAwaitCommit(
    state: State,
    msg: Extract<ProducerPoolMsg, { type: 'awaitCommit' }>,
    self: Ref<ProducerPoolMsg>,
  ): Promise<void> {
    const commit = state.commits?.stateOf(msg.task.attemptId) ?? 'unknown';
    const waitedMs = Date.now() - msg.sinceMs;
    if (commit === 'committing' && waitedMs < COMMIT_RESOLUTION_TIMEOUT_MS) {
      setTimeout(() => dispatch(self, msg), COMMIT_RECHECK_MS);
      return;
    }
    state.retrying -= 1;
    if (commit === 'committed') {
      logger.warn(
        { stream: msg.task.stream, task_id: msg.task.taskId, events: msg.task.count, err: msg.error },
        'batch committed although its thread failed; counted, not sent again',
      );
      state.lastAckMs = Date.now();
      state.metrics.get(msg.task.stream)?.recordAck(msg.task.count, 0, waitedMs);
      await checkProgress(state, self);
      return;
    }
    if (commit === 'committing')
      logger.error(
        { stream: msg.task.stream, task_id: msg.task.taskId, waited_ms: waitedMs },
        "the outcome of a dead thread's commit stayed unknown; sending the batch again (it may be duplicated)",
      );
    state.retrying += 1;
    setTimeout(
      () => dispatch(self, { type: 'retry', task: { ...msg.task, attempt: msg.task.attempt + 1 } }),
      RETRY_BASE_MS,
    );
  }

  /** The threads are up: pace the streams, log the metrics every interval, issue the first tasks. */
  function startPool(
    state: State,
    self: Ref<ProducerPoolMsg>,
    pool: Piscina<ProducerRequest, ProducerResult>,
    workerData: ProducerWorkerData,
    nowMs: number,
  ): void {
    state.commits = new CommitTable(workerData.commitTable, lanes);
    state.memory = new ThreadMemoryTable(workerData.memoryTable);
    state.pool = pool;
    startPacers(state, nowMs);
    state.metricsTimer = setInterval(() => dispatch(self, { type: 'tick' }), config.data_generator.metrics_interval);
    logStarted(workerData);
    issue(state, self, nowMs);
  }

  async function onTaskSucceeded(state: State, result: ProducerResult, self: Ref<ProducerPoolMsg>): Promise<void> {
    state.inFlight.delete(result.taskId);
    state.lastAckMs = Date.now();
    state.firstAckMs ??= state.lastAckMs;
    state.metrics.get(result.stream)?.recordAck(result.count, result.bytes, result.ackLatencyMs);
    await checkProgress(state, self);
  }

  function startPacers(state: State, nowMs: number): void {
    for (const stream of streams) {
      state.pacers.set(
        stream,
        new Pacer({
          ratePerSecond: options.rates[stream] ?? 0,
          startMs: nowMs,
          limit: options.counts?.[stream] ?? Infinity,
        }),
      );
      state.metrics.set(stream, new StreamMetrics(stream, nowMs));
    }
  }

  /** Stops issuing; answers every stop query once the batches in flight are acknowledged. */
  async function onStop(state: State, sender: Ref<unknown> | undefined, self: Ref<ProducerPoolMsg>): Promise<void> {
    if (sender) state.stopWaiters.push(sender as Ref<ProducerSummary>);
    if (!state.pool) {
      await finishStop(state);
      return;
    }
    if (!state.stopping)
      logger.info({ in_flight_tasks: state.inFlight.size + state.retrying }, 'stopping: waiting for in-flight batches');
    state.stopping = true;
    await checkProgress(state, self);
  }

  function metricsOf(state: State): ProducerMetrics {
    return {
      streams: [...state.metrics.values()].map((m) => m.current()),
      inFlightTasks: state.inFlight.size + state.retrying,
      threads,
      threadMemory: state.pool ? threadMemoryOf(state, Date.now()) : [],
      running: state.pool !== undefined && !state.stopping,
      firstAckMs: state.firstAckMs,
      lastAckMs: state.lastAckMs,
    };
  }

  const behaviour = async (state: State, msg: ProducerPoolMsg, ctx: ActorContext<ProducerPoolMsg>): Promise<State> => {
    switch (msg.type) {
      case 'start': {
        if (state.pool) return state;
        const nowMs = Date.now();
        state.startedMs = nowMs;
        state.lastMetricsMs = nowMs;
        const worker = resolveWorkerFile(import.meta.url, '../producer/producer.worker');
        const workerData: ProducerWorkerData = {
          config,
          slots: createSlotTable(threads, nowMs),
          threads,
          iotState: createIotStateTable(),
          slotGenerations: new SharedArrayBuffer(threads * Int32Array.BYTES_PER_ELEMENT),
          commitTable: CommitTable.allocate(threads, lanes),
          memoryTable: ThreadMemoryTable.allocate(threads),
          instanceId: createPoolInstanceId(),
          lanes,
          seed: options.seed ?? config.data_generator.seed ?? Math.floor(Math.random() * 2 ** 31),
          topics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
          ...(options.testFaults ? { testFaults: options.testFaults } : {}),
        };
        startPool(state, ctx.self, createPool(worker, workerData), workerData, nowMs);
        return state;
      }
      case 'tick': {
        const nowMs = Date.now();
        if (nowMs - state.lastMetricsMs >= config.data_generator.metrics_interval * 0.9) logMetrics(state, nowMs);
        if (state.pool) issue(state, ctx.self, nowMs);
        return state;
      }
      case 'taskSucceeded':
        await onTaskSucceeded(state, msg.result, ctx.self);
        return state;
      case 'taskFailed': {
        state.inFlight.delete(msg.task.taskId);
        state.metrics.get(msg.task.stream)?.recordError();
        const commit = state.commits?.stateOf(msg.task.attemptId) ?? 'unknown';
        if (commit === 'committed' || commit === 'committing') {
          // Its thread died at EndTxn: the batch may be in Kafka. Never send it twice.
          state.retrying += 1;
          dispatch(ctx.self, { type: 'awaitCommit', task: msg.task, error: msg.error, sinceMs: Date.now() });
          return state;
        }
        const delayMs = backoffDelayMs(msg.task.attempt, RETRY_BASE_MS, RETRY_MAX_MS);
        logger.warn(
          {
            stream: msg.task.stream,
            task_id: msg.task.taskId,
            events: msg.task.count,
            attempt: msg.task.attempt,
            retry_in_ms: delayMs,
            err: msg.error,
          },
          'batch failed; sending it again',
        );
        state.retrying += 1;
        setTimeout(
          () => dispatch(ctx.self, { type: 'retry', task: { ...msg.task, attempt: msg.task.attempt + 1 } }),
          delayMs,
        );
        return state;
      }
      case 'awaitCommit':
        await onAwaitCommit(state, msg, ctx.self);
        return state;
      case 'retry': {
        state.retrying -= 1;
        if (!state.pool) return state;
        runTask(state, ctx.self, msg.task);
        return state;
      }
      case 'stop':
        await onStop(state, ctx.sender, ctx.self);
        return state;
      case 'metrics':
        reply<ProducerMetrics>(ctx, metricsOf(state));
        return state;
    }
  };

  return spawn<State, ProducerPoolMsg>(parent, behaviour, name, {
    initialStateFunc: () => ({
      pacers: new Map(),
      nextAttemptId: 1,
      metrics: new Map(),
      inFlight: new Map(),
      retrying: 0,
      nextTaskId: 1,
      startedMs: Date.now(),
      lastMetricsMs: Date.now(),
      stopping: false,
      stopWaiters: [],
      completed: false,
      roundRobin: 0,
      firstAckMs: null,
      lastAckMs: null,
    }),
    onCrash: (_msg, err, ctx) => {
      logger.error({ err }, 'producer pool failed');
      options.onFatal?.(err);
      return ctx.stop;
    },
  });
}
