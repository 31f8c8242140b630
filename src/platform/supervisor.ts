/**
 * The root of the actor tree (architecture.md, "The actor tree"). It spawns the components a command asks for,
 * supervises them, and shuts them down in order (architecture.md, "Back-pressure and shutdown"): generators first
 * (every produced event acknowledged), then fetching, the final checkpoint, and the checkpoint store.
 *
 * Supervision (architecture.md, "Supervision"): a failing ETL actor escalates here, its error
 * marked retriable; the whole ETL part is then torn down and started again from the last
 * checkpoint after an exponential back-off, so a restart never skips or repeats data. Too many
 * restarts in a window, or a failure that is not retriable (the producer pool's), stops the
 * process with a clear log line and exit code 1: platform/restartRule.ts decides.
 */
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import {
  spawnProducerPool,
  type ProducerMetrics,
  type ProducerPoolMsg,
  type ProducerSummary,
} from '../actors/producerPool.js';
import { SqlitePersistenceEngine } from '../checkpoint/sqlitePersistenceEngine.js';
import { acquireStoreLock, type StoreLock } from '../checkpoint/storeLock.js';
import { ErrorCodes, isRetriable, isSdpError, SdpError } from '../errors.js';
import { RESTART_POLICY, restartDecision } from './restartRule.js';
import { startEtl, type EtlRuntime } from './etlRuntime.js';
import { startFailure } from './startFailure.js';
import type { PlatformMetrics, PlatformPlan, ShutdownReport } from './platformMetrics.js';
import { spawnStatusServer, type StatusServerAddress, type StatusServerMsg } from '../actors/statusServer.js';
import { dispatch, query, spawn, startSystem, stop, type AnyRef, type Ref, type SystemRef } from '../system/nact.js';
import { ensureRootMarker } from '../storage/rootMarker.js';
import { createClusterBrowser, type ClusterBrowser } from '../kafka/browser/clusterBrowser.js';
import { PipelineStatus } from '../status/pipelineStatus.js';
import { readActorTree } from '../system/actorTree.js';
import { startKafkaBrowser, type KafkaBrowserServer } from '../ui/kafkaBrowserServer.js';
import { memoryBreakdown } from '../status/memoryBreakdown.js';

/** A component failed; `retriable`: a restart of the ETL may heal it (errors.ts, isRetriable). */
interface Failure {
  type: 'failed';
  component: string;
  error: string;
  retriable: boolean;
  /** What the component threw, for the one-line error of a failed start (startFailure.ts). */
  cause?: unknown;
}

type SupervisorMsg = Failure | { type: 'etlRestart' };

/** The ETL's actors, for the restart count the actor tree shows; supervision goes by restartRule.ts. */
const ETL_ACTOR_NAMES = /^(checkpointer|window-aggregator|ingest-|partition|lake-writer)/;

export const CHECKPOINT_FILE = 'checkpoints.sqlite';
const SYSTEM_NAME = 'sdp';

export class Platform {
  private system!: SystemRef;
  private supervisor!: Ref<SupervisorMsg>;
  private producer?: Ref<ProducerPoolMsg>;
  private etl?: EtlRuntime;
  private engine?: SqlitePersistenceEngine;
  private storeLock?: StoreLock;
  /** The first start of the ETL is running; a failure reported meanwhile waits in failedWhileStarting. */
  private etlStarting = false;
  private failedWhileStarting?: Failure;
  private status?: Ref<StatusServerMsg>;
  /** The port the status page listens on, once started. */
  statusPort?: number;
  /** The port of the Kafka browser, when this process serves it. */
  kafkaUiPort?: number;
  private kafkaUi?: KafkaBrowserServer;
  private statusBrowser?: ClusterBrowser;
  private restartTimesMs: number[] = [];
  private etlStartedAtMs: number | null = null;
  private etlRestarts: number[] = [];
  private etlRestartTotal = 0;
  private restarting = false;
  private shuttingDown?: Promise<ShutdownReport>;
  private resolveFatal!: (report: { component: string; error: string }) => void;
  private readonly log: Logger;
  private readonly startedAtMs = Date.now();
  /** Resolves when a component fails beyond recovery. */
  readonly fatal: Promise<{ component: string; error: string }>;

  private constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.log = logger.child({ component: 'supervisor' });
    this.fatal = new Promise((resolve) => {
      this.resolveFatal = resolve;
    });
  }

  /**
   * Starts what `plan` asks for. Any failure on the way is one SdpError naming its cause and fix
   * (startFailure.ts); what had started is closed again.
   */
  static async start(config: Config, logger: Logger, plan: PlatformPlan): Promise<Platform> {
    const platform = new Platform(config, logger);
    try {
      await platform.startParts(plan);
      return platform;
    } catch (err) {
      const crashed = platform.failedWhileStarting;
      throw startFailure(err, config, crashed && { component: crashed.component, cause: crashed.cause });
    }
  }

  private async startParts(plan: PlatformPlan): Promise<void> {
    const { config, logger } = this;
    if (plan.etl) this.openCheckpointStore();
    this.system = startSystem(SYSTEM_NAME, this.engine);
    this.supervisor = spawn<undefined, SupervisorMsg>(
      this.system,
      (state, msg) => this.handle(msg).then(() => state),
      'supervisor',
      {
        onCrash: (_msg, err, ctx, child) => {
          const component = child?.name ?? 'unknown';
          dispatch(this.supervisor, {
            type: 'failed',
            component,
            error: err.message,
            retriable: isRetriable(err),
            cause: err,
          });
          return ctx.stopChild;
        },
      },
    );
    // The web pages start first: a port already in use stops the start before anything runs.
    if (plan.status) await this.startStatusServer();
    if (plan.kafkaUi && config.ui.kafka_ui !== 'off') {
      try {
        this.kafkaUi = await startKafkaBrowser(config, logger);
      } catch (err) {
        await this.closeResources();
        throw err;
      }
      this.kafkaUiPort = this.kafkaUi?.server.port;
    }
    if (plan.etl) {
      // A component that fails while this first start runs must not trigger a restart beside it
      // (the same actor names would collide): the failure waits until the start is done.
      this.etlStarting = true;
      try {
        this.etl = await startEtl({
          config,
          logger,
          parent: this.supervisor as AnyRef,
          storeId: this.engine!.storeId,
          topicIds: this.engine!,
          storeFile: join(resolve(config.storage.checkpoint_root), CHECKPOINT_FILE),
        });
      } catch (err) {
        this.etlStarting = false;
        await this.closeResources();
        throw err;
      }
      this.etlStarting = false;
      this.etlStartedAtMs = Date.now();
      if (this.failedWhileStarting) dispatch(this.supervisor, this.failedWhileStarting);
      this.failedWhileStarting = undefined;
    }
    if (plan.producer) {
      this.producer = spawnProducerPool(this.supervisor as AnyRef, {
        ...plan.producer,
        config,
        logger,
        // Not retriable: the producer pool is not restarted (architecture.md, "Supervision").
        onFatal: (err) =>
          dispatch(this.supervisor, {
            type: 'failed',
            component: 'producer-pool',
            error: err.message,
            retriable: false,
          }),
      });
      dispatch(this.producer, { type: 'start' });
    }
    if (this.status) dispatch(this.status, { type: 'setReady', ready: true });
  }

  /** Marks the storage roots, takes the checkpoint store's lock and opens the store. */
  private openCheckpointStore(): void {
    // Before the store file exists: a root created (or found empty) now is marked as ours, so
    // the clean commands may later empty it (architecture.md, "Storage roots and cleaning").
    for (const [root, kind] of [
      [this.config.storage.datalake_root, 'datalake'],
      [this.config.storage.checkpoint_root, 'checkpoints'],
    ] as const) {
      const marked = ensureRootMarker(resolve(root), kind);
      if (marked === 'unmarked')
        this.logger.warn(
          { component: 'supervisor', root: resolve(root), kind },
          'storage root has no .sdp-root marker: the clean commands will refuse it until `make init-volumes` marks it',
        );
    }
    // One process per checkpoint store: a second one exits here, before recovery touches the lake.
    this.storeLock = acquireStoreLock(resolve(this.config.storage.checkpoint_root), this.logger);
    try {
      this.engine = new SqlitePersistenceEngine(join(resolve(this.config.storage.checkpoint_root), CHECKPOINT_FILE), {
        logger: this.logger,
      });
    } catch (err) {
      this.storeLock.release();
      throw err;
    }
  }

  /** The status page: its actor, listening before anything else starts. */
  private async startStatusServer(): Promise<void> {
    this.statusBrowser = createClusterBrowser(this.config, this.logger);
    const status = new PipelineStatus({
      config: this.config,
      logger: this.logger,
      metrics: () => this.metrics(),
      browser: this.statusBrowser,
      actorTree: () => readActorTree(SYSTEM_NAME, (name) => (ETL_ACTOR_NAMES.test(name) ? this.etlRestartTotal : 0)),
      restartTimesMs: () => this.restartTimesMs.filter((t) => Date.now() - t < 3_600_000),
      etlStartedAtMs: () => this.etlStartedAtMs,
    });
    this.status = spawnStatusServer(this.supervisor as AnyRef, {
      host: this.config.ui.status_host,
      port: this.config.ui.status_port,
      token: this.config.ui.auth_token,
      logger: this.logger,
      metrics: () => this.metrics(),
      status,
    });
    const address = await query<StatusServerMsg, StatusServerAddress>(this.status, () => ({ type: 'start' }), 10_000);
    if (address.error) {
      await this.closeResources();
      throw new SdpError(ErrorCodes.UI_PORT_IN_USE, address.error.message);
    }
    this.statusPort = address.port;
  }

  /**
   * Closes the web pages, the actor system, the checkpoint store and its lock: the end of a
   * shutdown, and the undoing of a start that failed (a web page's port taken, the ETL's first
   * start failed).
   */
  private async closeResources(): Promise<void> {
    if (this.status) await query(this.status, () => ({ type: 'stop' as const }), 5_000).catch(() => undefined);
    await this.statusBrowser?.close();
    await this.kafkaUi?.close();
    stop(this.system);
    this.engine?.close();
    this.storeLock?.release();
  }

  private async handle(msg: SupervisorMsg): Promise<void> {
    if (msg.type === 'failed') await this.onFailed(msg);
    else await this.restartEtl();
  }

  private async onFailed(msg: Failure): Promise<void> {
    if (msg.retriable) {
      // A failure while the first start runs waits for it (the same actor names would collide);
      // one while a restart or the shutdown runs is already being dealt with.
      if (this.etlStarting) {
        this.failedWhileStarting ??= msg;
        return;
      }
      if (this.restarting || this.shuttingDown) return;
    }
    const nowMs = Date.now();
    const decision = restartDecision(msg, this.etlRestarts, nowMs);
    if (decision.action === 'fatal') {
      if (decision.reason === 'not-retriable')
        this.log.error(
          { failed_component: msg.component, err: msg.error },
          'component failed beyond recovery; stopping',
        );
      else
        this.log.error(
          {
            failed_component: msg.component,
            err: msg.error,
            restarts: decision.restarts,
            window_ms: RESTART_POLICY.windowMs,
          },
          'etl keeps failing; stopping',
        );
      this.resolveFatal({ component: msg.component, error: msg.error });
      return;
    }
    this.etlRestarts = decision.restartsMs;
    this.restartTimesMs = [...this.restartTimesMs.filter((t) => nowMs - t < 3_600_000), nowMs];
    this.restarting = true;
    this.log.warn(
      { failed_component: msg.component, err: msg.error, restart_in_ms: decision.delayMs, attempt: decision.attempt },
      'etl component failed; restarting the etl from the last checkpoint',
    );
    const old = this.etl;
    this.etl = undefined;
    await old?.abort().catch((err: unknown) => this.log.warn({ err }, 'etl teardown after failure was not clean'));
    setTimeout(() => dispatch(this.supervisor, { type: 'etlRestart' }), decision.delayMs);
  }

  private async restartEtl(): Promise<void> {
    if (this.shuttingDown) return;
    try {
      this.etl = await startEtl({
        config: this.config,
        logger: this.logger,
        parent: this.supervisor as AnyRef,
        ...(this.engine ? { storeId: this.engine.storeId, topicIds: this.engine } : {}),
        storeFile: join(resolve(this.config.storage.checkpoint_root), CHECKPOINT_FILE),
      });
      this.etlStartedAtMs = Date.now();
      this.etlRestartTotal += 1;
      this.restarting = false;
    } catch (err) {
      this.restarting = false;
      const error = err instanceof Error ? err.message : String(err);
      // Checkpointed offsets outside the log do not heal by restarting: stop now, naming them.
      if (isSdpError(err, ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE)) {
        this.log.error(
          { err: error, code: err.code, details: err.details },
          'etl cannot resume: checkpointed offsets outside the log; stopping',
        );
        this.resolveFatal({ component: 'etl', error });
        return;
      }
      // Any other failed start is an ETL failure: retried like one.
      dispatch(this.supervisor, { type: 'failed', component: 'etl', error, retriable: true });
    }
  }

  producerPool(): Ref<ProducerPoolMsg> | undefined {
    return this.producer;
  }

  async metrics(): Promise<PlatformMetrics> {
    const [producer, etl] = await Promise.all([
      this.producer
        ? query<ProducerPoolMsg, ProducerMetrics>(this.producer, () => ({ type: 'metrics' }), 5_000)
        : undefined,
      this.etl?.metrics(),
    ]);
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const memory = memoryBreakdown({
      rssBytes: rss,
      main: { heapUsed, heapTotal, external, arrayBuffers },
      producerThreads: producer?.threadMemory ?? [],
      encoderThreads: etl?.encoderThreads ?? 0,
    });
    return {
      ...(producer ? { producer } : {}),
      ...(etl ? { etl } : {}),
      etlRestarts: this.etlRestartTotal,
      etlRestartTimesMs: [...this.restartTimesMs],
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      memory,
    };
  }

  /** Graceful shutdown in the order of architecture.md, "Back-pressure and shutdown"; idempotent. */
  shutdown(reason: string): Promise<ShutdownReport> {
    this.shuttingDown ??= this.doShutdown(reason);
    return this.shuttingDown;
  }

  private async doShutdown(reason: string): Promise<ShutdownReport> {
    this.log.info({ reason }, 'shutting down');
    const report: ShutdownReport = { exitCode: 0 };
    if (this.status) dispatch(this.status, { type: 'setReady', ready: false });
    const timeoutMs = this.config.etl.shutdown_timeout;
    const deadline = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new SdpError(ErrorCodes.SHUTDOWN_TIMEOUT, `shutdown took longer than ${timeoutMs} ms`)),
        timeoutMs,
      ).unref(),
    );
    try {
      await Promise.race([
        (async () => {
          if (this.producer)
            report.producer = await query<ProducerPoolMsg, ProducerSummary>(
              this.producer,
              () => ({ type: 'stop' }),
              timeoutMs,
            );
          await this.etl?.stop();
        })(),
        deadline,
      ]);
    } catch (err) {
      this.log.error({ err }, 'graceful shutdown did not finish; the next start recovers from the last checkpoint');
      report.exitCode = 1;
    }
    await this.closeResources();
    this.log.info({ exit_code: report.exitCode }, 'stopped');
    return report;
  }
}
