/**
 * Producer benchmark: `npm run bench:produce`.
 *
 * Produces 1,000,000 clickstream events at full speed (rate 0) into a fresh random topic of the
 * configured cluster, through the real producer-pool actor (Piscina threads, one transactional
 * LZ4 producer per thread), with 1 and with 4 threads, and prints events/s, MB/s of uncompressed
 * JSON, MB/s of Produce requests on the wire, CPU seconds and peak RSS (worker threads included:
 * they share the process). Each scenario runs in its own child process so that its peak RSS is its
 * own. Compiled with tsconfig.bench.json (src + bench → dist/bench).
 *
 * Options: --events N (default 1,000,000), --threads auto,1,4 (auto: the count data_generator.threads
 * gives an unlimited rate here; none: only the paced scenario), --runs R (each scenario R times,
 * alternating), --batch-size N (default data_generator.batch_size), --tasks-per-thread N,
 * --producers-per-thread N, --max-events-per-task N (events per transaction at full speed),
 * --no-kcat, --settle-ms N (wait after creating a run's topics, default 1,000; see TOPIC_SETTLE_MS),
 * --cpu-prof DIR (the timed child writes V8 CPU profiles of its main and producer threads into DIR).
 *
 * The yardstick, unless --no-kcat: in each run, kcat (librdkafka) produces the same number of
 * clickstream events from the same generator — written to a file first, not timed — with LZ4,
 * acks=all and idempotence, keyed by user id like ours, into its own fresh topic; timed from its
 * start to its exit (it exits once every message is acknowledged). Each run prints kcat's events/s
 * and `ratio ours/kcat` for the default thread count (wall time both, start-up included).
 * Our clock starts in the child before the platform starts: `first ack s` is the start-up inside it (threads,
 * connections, the first transaction); `node start s`, the child's Node start and module loading before it, is
 * not in our time (kcat's start is in its own).
 *
 * Then, unless --paced-seconds 0, the paced scenario: config.yml's rates (120 + 60 events/s by
 * default) for --paced-seconds S (default 30) with the configured threads, batch_size and linger:
 * events per transaction and the ack latency p50/p99 of each stream, as an operator runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { localDataDir } from '../src/localKafka/localCluster.js';
import { createTopics } from '../src/kafka/admin/topics.js';
import { createLogger } from '../src/log/logger.js';
import { createClickstreamGenerator } from '../src/generators/clickstream.js';
import { producerThreadCount } from '../src/producer/threadSizing.js';
import { Platform } from '../src/platform/supervisor.js';

interface Settings {
  events: number;
  threads: number[];
  kcat: boolean;
  runs: number;
  batchSize?: number;
  tasksPerThread?: number;
  producersPerThread?: number;
  maxEventsPerTask?: number;
  pacedSeconds: number;
  /** Wait after creating a run's topics, before any clock starts (see TOPIC_SETTLE_MS). */
  settleMs: number;
  /** Where the timed child writes its CPU profiles (node --cpu-prof), if anywhere. */
  cpuProfDir?: string;
}

interface PacedResult {
  stream: string;
  ratePerSecond: number;
  events: number;
  transactions: number;
  ackLatencyMsP50: number | null;
  ackLatencyMsP99: number | null;
}

interface ScenarioResult {
  threads: number;
  events: number;
  seconds: number;
  /** From the first acknowledged batch to the last: without thread start-up and connection. */
  steadySeconds: number;
  /** From the clock's start to the first acknowledged batch: threads, connections, the first transaction. */
  firstAckSeconds: number;
  /** From the child process's start to the clock's start (Node and the modules of the main thread): not in `seconds`. */
  nodeStartSeconds: number;
  jsonBytes: number;
  /**
   * Bytes of the topic's log segments per replica (LZ4 record batches + transaction markers); 0 when the cluster is not
   * the local one.
   */
  storedBytes: number;
  cpuSeconds: number;
  peakRssMB: number;
  errors: number;
  loadAverage1m: number;
}

const MB = 1_000_000;
/**
 * A partition's first acks=all Produce waits until its follower's fetch includes it: a follower's fetch in progress
 * when the topic is created can wait up to replica.fetch.wait.max.ms (500 ms by default) before the next one asks for
 * the new partitions. Measured here: 0.5–0.75 s more on about one run in three, for kcat and for us alike. Platform
 * topics exist long before their producers; the topics of a run are created this long before its clocks start.
 */
const TOPIC_SETTLE_MS = 1_000;

function parseArgs(argv: string[]): {
  settings: Settings;
  child?: { threads: number; topic: string };
  pacedChild?: string;
} {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const optional = (
    flag: string,
    key: 'batchSize' | 'tasksPerThread' | 'producersPerThread' | 'maxEventsPerTask',
  ): Partial<Settings> => {
    const v = get(flag);
    return v === undefined ? {} : { [key]: Number(v) };
  };
  const settings: Settings = {
    events: Number(get('--events') ?? 1_000_000),
    threads: [
      ...new Set(
        (get('--threads') ?? 'auto,1,4')
          .split(',')
          .map((t) => (t.trim() === 'auto' ? defaultUnlimitedThreads() : Number(t)))
          .filter((n) => n > 0),
      ),
    ],
    kcat: !argv.includes('--no-kcat'),
    runs: Number(get('--runs') ?? 1),
    ...optional('--batch-size', 'batchSize'),
    ...optional('--tasks-per-thread', 'tasksPerThread'),
    ...optional('--producers-per-thread', 'producersPerThread'),
    ...optional('--max-events-per-task', 'maxEventsPerTask'),
    pacedSeconds: Number(get('--paced-seconds') ?? 30),
    settleMs: Number(get('--settle-ms') ?? TOPIC_SETTLE_MS),
    ...(get('--cpu-prof') === undefined ? {} : { cpuProfDir: get('--cpu-prof') }),
  };
  const pacedChild = get('--child-paced-prefix');
  if (pacedChild !== undefined) return { settings, pacedChild };
  const topic = get('--child-topic');
  if (topic === undefined) return { settings };
  return { settings, child: { threads: Number(get('--child-threads')), topic } };
}

/** The thread count `generate` starts at an unlimited rate with this config on this machine. */
function defaultUnlimitedThreads(): number {
  return producerThreadCount(loadConfig().config.data_generator.threads, { clickstream: 0 }, os.availableParallelism());
}

interface KcatResult {
  events: number;
  seconds: number;
  loadAverage1m: number;
}

/**
 * `events` clickstream events as `key<TAB>json` lines (JSON escapes tabs and newlines inside strings),
 * keyed by user id as the producer threads key them. Built before any timing.
 */
function writeKcatInput(events: number): { file: string; dir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-produce-kcat-'));
  const file = path.join(dir, 'events.txt');
  const generator = createClickstreamGenerator({ seed: 1 });
  const parts: string[] = [];
  const nowMs = Date.now();
  for (let i = 0; i < events; i++) {
    const event = generator.next(nowMs + Math.floor(i / 1000));
    parts.push(`${event.user_id}\t${JSON.stringify(event)}\n`);
  }
  writeFileSync(file, parts.join(''));
  return { file, dir };
}

/** kcat -P: LZ4, acks=all, idempotent, from the file; timed from spawn to exit (all acknowledged). */
function runKcat(config: Config, topic: string, file: string, events: number): Promise<KcatResult> {
  const args = [
    '-P',
    '-b',
    config.kafka.bootstrap_servers.join(','),
    '-t',
    topic,
    '-X',
    'compression.codec=lz4',
    '-X',
    'acks=all',
    '-X',
    'enable.idempotence=true',
    '-K',
    '\t',
    '-l',
    file,
  ];
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const child = spawn('kcat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - startedMs) / 1000;
      if (code !== 0) return reject(new Error(`kcat exited with ${String(code)}: ${err.trim()}`));
      resolve({ events, seconds, loadAverage1m: os.loadavg()[0] ?? 0 });
    });
  });
}

function benchConfig(topic: string): Config {
  const { config } = loadConfig();
  return { ...config, topics: { ...config.topics, clickstream: topic }, log: { ...config.log, level: 'warn' } };
}

async function runScenario(settings: Settings, threads: number, topic: string): Promise<ScenarioResult> {
  const config = benchConfig(topic);
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  const startedWallMs = Date.now();
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const platform = await Platform.start(config, logger, {
    producer: {
      rates: { clickstream: 0 },
      counts: { clickstream: settings.events },
      threads,
      ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
      ...(settings.tasksPerThread !== undefined ? { tasksPerThread: settings.tasksPerThread } : {}),
      ...(settings.producersPerThread !== undefined ? { producersPerThread: settings.producersPerThread } : {}),
      ...(settings.maxEventsPerTask !== undefined ? { maxEventsPerTask: settings.maxEventsPerTask } : {}),
      onComplete: () => resolveDone(),
    },
  });
  const failed = platform.fatal.then((f) => {
    throw new Error(`${f.component} failed: ${f.error}`);
  });
  await Promise.race([done, failed]);
  const seconds = (performance.now() - startedMs) / 1000;
  const metrics = await platform.metrics();
  const report = await platform.shutdown('benchmark done');
  const cpu = process.cpuUsage(cpuBefore);
  const stream = metrics.producer?.streams.find((s) => s.stream === 'clickstream');
  return {
    threads,
    events: report.producer?.totals.clickstream ?? 0,
    seconds,
    steadySeconds:
      (metrics.producer?.lastAckMs ?? 0) - (metrics.producer?.firstAckMs ?? 0) > 0
        ? ((metrics.producer?.lastAckMs ?? 0) - (metrics.producer?.firstAckMs ?? 0)) / 1000
        : seconds,
    firstAckSeconds: metrics.producer?.firstAckMs ? (metrics.producer.firstAckMs - startedWallMs) / 1000 : seconds,
    // performance.now() counts from the process's start.
    nodeStartSeconds: startedMs / 1000,
    jsonBytes: stream?.bytesTotal ?? 0,
    storedBytes: 0,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    // maxRSS is in kilobytes and covers the worker threads too (same process).
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB,
    errors: report.producer?.errors.clickstream ?? 0,
    loadAverage1m: os.loadavg()[0] ?? 0,
  };
}

/** The configured rates for `seconds`: what each transaction carries and how long its ack takes. */
async function runPacedScenario(seconds: number, prefix: string): Promise<PacedResult[]> {
  const { config: loaded } = loadConfig();
  const config: Config = {
    ...loaded,
    topics: { clickstream: `${prefix}-c`, iot: `${prefix}-i` },
    log: { ...loaded.log, level: 'warn' },
  };
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  const rates = config.data_generator.events_per_second;
  const platform = await Platform.start(config, logger, { producer: { rates } });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const metrics = await platform.metrics();
  await platform.shutdown('benchmark done');
  // Counts are totals since start; the latency percentiles are those of the pool's last closed
  // metrics interval (data_generator.metrics_interval), past the start-up burst.
  return (metrics.producer?.streams ?? []).map((s) => ({
    stream: s.stream,
    ratePerSecond: rates[s.stream],
    events: s.total,
    transactions: s.transactions,
    ackLatencyMsP50: s.ackLatencyMsP50,
    ackLatencyMsP99: s.ackLatencyMsP99,
  }));
}

function runPacedChild(settings: Settings, prefix: string): Promise<PacedResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--paced-seconds',
        String(settings.pacedSeconds),
        '--child-paced-prefix',
        prefix,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`paced scenario exited with ${String(code)}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '[]') as PacedResult[]);
    });
  });
}

function runChild(settings: Settings, threads: number, topic: string): Promise<ScenarioResult> {
  const args = [
    ...(settings.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir]),
    fileURLToPath(import.meta.url),
    '--events',
    String(settings.events),
    '--child-threads',
    String(threads),
    '--child-topic',
    topic,
  ];
  if (settings.batchSize !== undefined) args.push('--batch-size', String(settings.batchSize));
  if (settings.tasksPerThread !== undefined) args.push('--tasks-per-thread', String(settings.tasksPerThread));
  if (settings.producersPerThread !== undefined)
    args.push('--producers-per-thread', String(settings.producersPerThread));
  if (settings.maxEventsPerTask !== undefined) args.push('--max-events-per-task', String(settings.maxEventsPerTask));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`scenario threads=${threads} exited with ${String(code)}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as ScenarioResult);
    });
  });
}

/**
 * What went over the wire, measured where it lands: the topic's segment files on the local
 * cluster's disks, divided by the replication factor (the Produce requests carry these record
 * batches; followers copy them). Includes the transaction markers the coordinator writes.
 */
function storedBytesPerReplica(config: Config, topic: string): number {
  const dataDir = localDataDir(config);
  let bytes = 0;
  let nodes: string[] = [];
  try {
    nodes = readdirSync(dataDir).filter((n) => n.startsWith('node-'));
  } catch {
    return 0;
  }
  for (const node of nodes) {
    const logDir = path.join(dataDir, node, 'data');
    let dirs: string[] = [];
    try {
      dirs = readdirSync(logDir).filter((d) => d.startsWith(`${topic}-`) && /^\d+$/.test(d.slice(topic.length + 1)));
    } catch {
      continue;
    }
    for (const dir of dirs) {
      for (const file of readdirSync(path.join(logDir, dir))) {
        if (file.endsWith('.log')) bytes += statSync(path.join(logDir, dir, file)).size;
      }
    }
  }
  return bytes / config.kafka.replication_factor;
}

/**
 * Records in `topic` (high minus low watermark: kcat, not transactional, writes no markers): that its run wrote every
 * event.
 */
async function kcatTopicCount(config: Config, topic: string): Promise<number> {
  const admin = createKafkaClient(config, createLogger({ level: 'error', format: 'json', fd: 2 })).admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A million events take about 180 MB of the brokers' disks: do not keep them. */
async function deleteTopic(config: Config, topic: string): Promise<void> {
  const admin = createKafkaClient(config, createLogger({ level: 'error', format: 'json', fd: 2 })).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] });
  } catch (err) {
    process.stderr.write(`could not delete ${topic}: ${err instanceof Error ? err.message : String(err)}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function format(r: ScenarioResult): string {
  const cols = [
    `threads=${r.threads}`,
    `events=${r.events}`,
    `seconds=${r.seconds.toFixed(2)}`,
    `events/s=${Math.round(r.events / r.seconds)}`,
    `steady events/s=${Math.round(r.events / r.steadySeconds)}`,
    `first ack s=${r.firstAckSeconds.toFixed(2)}`,
    `node start s=${r.nodeStartSeconds.toFixed(2)}`,
    `json MB/s=${(r.jsonBytes / MB / r.seconds).toFixed(1)}`,
    `wire MB/s=${(r.storedBytes / MB / r.seconds).toFixed(1)}`,
    `wire/json=${r.jsonBytes > 0 ? (r.storedBytes / r.jsonBytes).toFixed(3) : '-'}`,
    `cpu s=${r.cpuSeconds.toFixed(1)}`,
    `peak RSS MB=${r.peakRssMB.toFixed(0)}`,
    `errors=${r.errors}`,
    `load1m=${r.loadAverage1m.toFixed(2)}`,
  ];
  return cols.join('  ');
}

async function main(): Promise<void> {
  const { settings, child, pacedChild } = parseArgs(process.argv.slice(2));
  if (pacedChild !== undefined) {
    process.stdout.write(`${JSON.stringify(await runPacedScenario(settings.pacedSeconds, pacedChild))}\n`);
    return;
  }
  if (child) {
    const result = await runScenario(settings, child.threads, child.topic);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const { config } = loadConfig();
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  process.stdout.write(
    `producer benchmark: ${settings.threads.length > 0 ? `${settings.events} clickstream events at full speed with ${settings.threads.join(', ')} threads` : 'paced scenario only'}, bootstrap ${config.kafka.bootstrap_servers.join(',')}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const results: ScenarioResult[] = [];
  const kcatResults: KcatResult[] = [];
  const ratios: number[] = [];
  const defaultThreads = defaultUnlimitedThreads();
  const kcatInput = settings.kcat && settings.threads.length > 0 ? writeKcatInput(settings.events) : undefined;
  for (let run = 0; run < settings.runs; run++) {
    const runId = Date.now().toString(36);
    const kcatTopic = `bench-produce-${runId}-kcat`;
    const topicOf = (threads: number): string => `bench-produce-${runId}-t${threads}`;
    await createTopics(config, logger, {
      topics: [...(kcatInput ? [kcatTopic] : []), ...settings.threads.map(topicOf)],
    });
    await new Promise((resolve) => setTimeout(resolve, settings.settleMs));
    if (kcatInput) {
      const topic = kcatTopic;
      const k = await runKcat(config, topic, kcatInput.file, settings.events);
      const count = await kcatTopicCount(config, topic);
      await deleteTopic(config, topic);
      if (count !== settings.events) throw new Error(`kcat wrote ${count} of ${settings.events} events`);
      kcatResults.push(k);
      process.stdout.write(
        `kcat  events=${k.events}  seconds=${k.seconds.toFixed(2)}  events/s=${Math.round(k.events / k.seconds)}  load1m=${k.loadAverage1m.toFixed(2)}\n`,
      );
    }
    for (const threads of settings.threads) {
      const topic = topicOf(threads);
      const result = await runChild(settings, threads, topic);
      result.storedBytes = storedBytesPerReplica(config, topic);
      await deleteTopic(config, topic);
      results.push(result);
      process.stdout.write(`${format(result)}\n`);
      const k = kcatResults[kcatResults.length - 1];
      if (k && threads === defaultThreads && kcatInput) {
        const ratio = result.events / result.seconds / (k.events / k.seconds);
        ratios.push(ratio);
        process.stdout.write(
          `ratio ours/kcat=${ratio.toFixed(3)}  (threads=${threads}, the default at an unlimited rate; load1m=${result.loadAverage1m.toFixed(2)})\n`,
        );
      }
    }
  }
  if (kcatInput) rmSync(kcatInput.dir, { recursive: true, force: true });
  if (kcatResults.length > 1) {
    const rates = kcatResults.map((k) => k.events / k.seconds).sort((a, b) => a - b);
    process.stdout.write(
      `kcat: events/s min ${Math.round(rates[0] ?? 0)}  median ${Math.round(rates[Math.floor(rates.length / 2)] ?? 0)}  max ${Math.round(rates[rates.length - 1] ?? 0)} over ${rates.length} runs\n`,
    );
  }
  if (ratios.length > 1) {
    const sorted = [...ratios].sort((a, b) => a - b);
    process.stdout.write(
      `ratio ours/kcat: min ${sorted[0]!.toFixed(3)}  median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)}  max ${sorted[sorted.length - 1]!.toFixed(3)} over ${sorted.length} runs\n`,
    );
  }
  if (settings.runs > 1) {
    for (const threads of settings.threads) {
      const rates = results
        .filter((r) => r.threads === threads)
        .map((r) => r.events / r.seconds)
        .sort((a, b) => a - b);
      const median = rates[Math.floor(rates.length / 2)] ?? 0;
      process.stdout.write(
        `threads=${threads}: events/s min ${Math.round(rates[0] ?? 0)}  median ${Math.round(median)}  max ${Math.round(rates[rates.length - 1] ?? 0)} over ${rates.length} runs\n`,
      );
    }
  }
  if (settings.pacedSeconds > 0) {
    const dg = config.data_generator;
    process.stdout.write(
      `paced: config rates for ${settings.pacedSeconds} s, ${dg.threads} threads, batch_size ${dg.batch_size}, linger ${dg.linger} ms\n`,
    );
    const prefix = `bench-paced-${Date.now().toString(36)}`;
    await createTopics(config, logger, { topics: [`${prefix}-c`, `${prefix}-i`] });
    const paced = await runPacedChild(settings, prefix);
    await deleteTopic(config, `${prefix}-c`);
    await deleteTopic(config, `${prefix}-i`);
    for (const p of paced) {
      const perTxn = p.transactions > 0 ? (p.events / p.transactions).toFixed(1) : '-';
      process.stdout.write(
        `paced ${p.stream}  rate=${p.ratePerSecond}/s  events=${p.events}  transactions=${p.transactions}  events/txn=${perTxn}  ack p50 ms=${p.ackLatencyMsP50?.toFixed(1) ?? '-'}  ack p99 ms=${p.ackLatencyMsP99?.toFixed(1) ?? '-'}\n`,
      );
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
