/**
 * Whole-platform memory benchmark: `npm run bench:platform`.
 *
 * Starts the real `run` (producer pool + ETL + status page + Kafka browser) as a child process
 * against the configured cluster, on fresh random topics, consumer group, lake and checkpoint
 * roots under /tmp, with the generators at the given rates (default: config.yml's). It samples
 * VmRSS / VmHWM of /proc/<pid>/status every second (worker threads included: one process) and
 * prints a line every `--print-every` seconds with the platform's own memory breakdown from
 * /api/status (`memory`: main thread heap, external and array buffers, each producer thread's
 * heap). At the end it prints the summary (peak, p50 and max after the warm-up), the breakdown,
 * whether the platform kept up (lake lag), then stops it with SIGTERM (time, exit code) and
 * compares the producer summary's totals with the rows in the lake, read back with DuckDB
 * (clickstream rows vs distinct event ids: exactly once).
 *
 * Compiled with tsconfig.bench.json; the child is that build's dist/bench/src/main.js.
 * Options: --clickstream-rate N, --iot-rate N, --seconds S, --warmup S, --print-every S,
 * --port-base P (status P+1, Kafka browser P), --env SDP_KEY=value and --node-arg FLAG
 * (repeatable), --keep, --max-rss MB and --max-lag-seconds S (exit 1 when exceeded: smoke use), --log FILE (the
 * platform's whole output, for its own timings: e.g. the owners' compaction rounds, "unit compacted by its owner").
 * With --env pointing topics, group and roots at a lake built by `bench:verify-day -- --build DIR`, it measures the
 * live pipeline over that lake (the lake-rows check then counts the day's rows too).
 * `run` starts as `make run` and `services up` start it (services/platformRuntime.ts: node flags
 * and MALLOC_ARENA_MAX); --plain starts a bare `node main.js run` instead.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../src/config/load.js';
import { createTopics } from '../src/kafka/admin/topics.js';
import { createLogger } from '../src/log/logger.js';
import type { MemoryBreakdown } from '../src/status/memoryBreakdown.js';
import { PLATFORM_NODE_ARGS, platformEnv } from '../src/services/platformRuntime.js';
import { procCpuSeconds, procStatusKb, randomSuffix } from './procStats.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const MB = 1024 * 1024;

interface Settings {
  clickstreamRate: number;
  iotRate: number;
  seconds: number;
  warmup: number;
  printEvery: number;
  portBase: number;
  keep: boolean;
  /** Where the platform's whole output goes (its log lines), if anywhere. */
  logFile?: string;
  /** Without the node flags and environment `make run` and `services up` give `run`. */
  plain: boolean;
  env: Record<string, string>;
  nodeArgs: string[];
  maxRssMb?: number;
  maxLagSeconds?: number;
}

function parseArgs(argv: string[], defaults: { clickstream: number; iot: number }): Settings {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string, fallback: number): number => {
    const v = get(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} expects a number >= 0, got ${v}`);
    return n;
  };
  const maxRss = get('--max-rss');
  const maxLag = get('--max-lag-seconds');
  return {
    clickstreamRate: num('--clickstream-rate', defaults.clickstream),
    iotRate: num('--iot-rate', defaults.iot),
    seconds: num('--seconds', 60),
    warmup: num('--warmup', 15),
    printEvery: num('--print-every', 5),
    portBase: num('--port-base', 20080),
    keep: argv.includes('--keep'),
    ...(get('--log') !== undefined ? { logFile: get('--log') } : {}),
    plain: argv.includes('--plain'),
    nodeArgs: argv.flatMap((a, i) => (a === '--node-arg' && argv[i + 1] ? [argv[i + 1]!] : [])),
    env: Object.fromEntries(
      argv.flatMap((a, i) => {
        const kv = a === '--env' ? argv[i + 1] : undefined;
        return kv?.includes('=')
          ? [[kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]]
          : [];
      }),
    ),
    ...(maxRss !== undefined ? { maxRssMb: Number(maxRss) } : {}),
    ...(maxLag !== undefined ? { maxLagSeconds: Number(maxLag) } : {}),
  };
}

/** The parts of /api/status this benchmark reads (older builds have no `memory`). */
interface StatusView {
  producer?: { streams: Array<{ stream: string; total: number }>; threads: number };
  partitions: Array<{ topic: string; lagEvents: number | null; lagSeconds: number | null }>;
  memory?: MemoryBreakdown;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / MB).toFixed(1));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function lagOf(status: StatusView | undefined): { events: number; seconds: number } {
  let events = 0;
  let seconds = 0;
  for (const p of status?.partitions ?? []) {
    events += p.lagEvents ?? 0;
    seconds = Math.max(seconds, p.lagSeconds ?? 0);
  }
  return { events, seconds };
}

function printBreakdown(memory: MemoryBreakdown | undefined, rssBytes: number): void {
  if (!memory) {
    console.log('memory breakdown: not reported by this build (/api/status has no `memory`)');
    return;
  }
  console.log('\nmemory breakdown (from /api/status `memory`, MB)');
  console.log('area                       heap used  heap total  external  arrayBuffers');
  for (const t of memory.threads) {
    console.log(
      `${t.area.padEnd(26)} ${mb(t.heapUsedBytes).padStart(9)} ${mb(t.heapTotalBytes).padStart(11)} ${mb(t.externalBytes).padStart(9)} ${mb(t.arrayBuffersBytes).padStart(13)}`,
    );
  }
  console.log(
    `encoder threads            ${memory.encoderThreads === 0 ? 'none (etl.encoder_threads: 0, Parquet is encoded on the main thread)' : `${memory.encoderThreads} (not broken down)`}`,
  );
  console.log(
    `kafkajs buffers (estimate) ${mb(memory.kafkaBuffersEstimateBytes).padStart(9)}  = array buffers of every thread (fetch responses, request buffers)`,
  );
  console.log(`V8 heaps, all threads      ${mb(memory.heapTotalBytes).padStart(9)}`);
  console.log(`rss                        ${mb(rssBytes).padStart(9)}`);
  console.log(
    `rss − heaps − external     ${mb(rssBytes - memory.heapTotalBytes - memory.externalBytes).padStart(9)}  (code, stacks, malloc arenas, native libraries)`,
  );
}

async function lakeRows(
  lakeRoot: string,
): Promise<{ clickstream: number; clickstreamDistinct: number; iot: number } | string> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const table = (t: string): string =>
      `read_parquet('${path.join(lakeRoot, 'tables', t, '**', '*.parquet').replaceAll("'", "''")}', hive_partitioning=true)`;
    const one = async (sql: string): Promise<number> =>
      Number(Object.values((await connection.runAndReadAll(sql)).getRowObjectsJson()[0] ?? {})[0] ?? 0);
    return {
      clickstream: await one(`SELECT count(*) FROM ${table('clickstream')}`),
      clickstreamDistinct: await one(`SELECT count(DISTINCT event_id) FROM ${table('clickstream')}`),
      iot: await one(`SELECT count(*) FROM ${table('iot')}`),
    };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Runs `etl` on the same topics, group and roots until the lake holds `produced` (or 120 s), then SIGTERM. */
async function etlCatchUp(
  env: Record<string, string>,
  lakeRoot: string,
  produced: { clickstream: number; iot: number },
): Promise<{ lake: Awaited<ReturnType<typeof lakeRows>>; seconds: number }> {
  const startMs = Date.now();
  const child = spawn(process.execPath, [MAIN, 'etl'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...env,
      SDP_UI__STATUS_PORT: '0',
      SDP_ETL__MAX_FILE_AGE: '2s',
      SDP_ETL__MAX_FILE_IDLE: '1s',
      SDP_ETL__CHECKPOINT_INTERVAL: '2s',
    },
    stdio: 'ignore',
  });
  const exit = new Promise((resolve) => child.once('close', resolve));
  let lake = await lakeRows(lakeRoot);
  while (Date.now() - startMs < 120_000) {
    await new Promise((r) => setTimeout(r, 3_000));
    lake = await lakeRows(lakeRoot);
    if (typeof lake !== 'string' && lake.clickstream >= produced.clickstream && lake.iot >= produced.iot) break;
  }
  child.kill('SIGTERM');
  await exit;
  return { lake: await lakeRows(lakeRoot), seconds: (Date.now() - startMs) / 1000 };
}

const USAGE =
  'usage: npm run bench:platform -- [--clickstream-rate N] [--iot-rate N] [--seconds 60] [--warmup 15] [--print-every 5] [--port-base 20080] [--env SDP_KEY=value ...] [--node-arg FLAG ...] [--plain] [--keep] [--max-rss MB] [--max-lag-seconds S] [--log FILE]';

/** Set once `run` is spawned: on a failure, the child is killed and the data removed. */
let cleanUp: (() => void) | undefined;

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { config } = loadConfig(path.join(PROJECT_ROOT, 'config.yml'));
  const s = parseArgs(process.argv.slice(2), config.data_generator.events_per_second);
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  const suffix = randomSuffix();
  const topics = { clickstream: `bench-platform-clickstream-${suffix}`, iot: `bench-platform-iot-${suffix}` };
  await createTopics({ ...config, topics }, logger);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sdp-bench-platform-'));
  const lakeRoot = path.join(dir, 'lake');
  const statusPort = s.portBase + 1;
  const env: Record<string, string> = {
    SDP_TOPICS__CLICKSTREAM: topics.clickstream,
    SDP_TOPICS__IOT: topics.iot,
    SDP_ETL__CONSUMER_GROUP: `sdp-bench-platform-${suffix}`,
    SDP_STORAGE__DATALAKE_ROOT: lakeRoot,
    SDP_STORAGE__CHECKPOINT_ROOT: path.join(dir, 'checkpoints'),
    SDP_UI__STATUS_PORT: String(statusPort),
    SDP_UI__KAFKA_UI_PORT: String(s.portBase),
    SDP_DATA_GENERATOR__EVENTS_PER_SECOND__CLICKSTREAM: String(s.clickstreamRate),
    SDP_DATA_GENERATOR__EVENTS_PER_SECOND__IOT: String(s.iotRate),
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
    ...s.env,
  };
  console.log(
    `platform memory benchmark: node ${process.version}, ${os.cpus().length} cpus, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `run at ${s.clickstreamRate} clickstream + ${s.iotRate} iot events/s for ${s.seconds} s (warm-up ${s.warmup} s); topics ${topics.clickstream}, ${topics.iot}; data under ${dir}`,
  );
  const nodeArgs = [...(s.plain ? [] : PLATFORM_NODE_ARGS), ...s.nodeArgs];
  const childEnv = s.plain ? { ...process.env, ...env } : platformEnv({ ...process.env, ...env });
  console.log(
    `started as: ${s.plain ? '' : `MALLOC_ARENA_MAX=${childEnv.MALLOC_ARENA_MAX} `}node ${nodeArgs.join(' ')} main.js run${s.plain ? ' (--plain)' : ' (as make run)'}`,
  );
  const extraEnv = Object.entries(s.env).map(([k, v]) => `${k}=${v}`);
  if (extraEnv.length > 0) console.log(`extra: ${extraEnv.join(' ')}`);

  const startMs = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'run'], {
    cwd: PROJECT_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  cleanUp = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (!s.keep) rmSync(dir, { recursive: true, force: true });
  };
  let tail = '';
  let producerSummary: { clickstream_total?: number; iot_total?: number } | undefined;
  let exited: { code: number | null; atMs: number } | undefined;
  const exit = new Promise<{ code: number | null; atMs: number }>((resolve) =>
    child.once('close', (code) => resolve((exited = { code, atMs: Date.now() }))),
  );
  let partial = '';
  const log = s.logFile === undefined ? undefined : createWriteStream(s.logFile);
  const onData = (c: Buffer): void => {
    log?.write(c);
    const text = partial + c.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail = (tail + line + '\n').slice(-6000);
      if (line.includes('"msg":"producer summary"')) producerSummary = JSON.parse(line) as typeof producerSummary;
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  // Ready: /readyz answers 200.
  while (
    !(await fetch(`http://127.0.0.1:${statusPort}/readyz`)
      .then((r) => r.ok)
      .catch(() => false))
  ) {
    if (exited) throw new Error(`run exited (${exited.code}) before it was ready:\n${tail}`);
    if (Date.now() - startMs > 120_000) throw new Error(`run not ready after 120 s:\n${tail}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const readyS = (Date.now() - startMs) / 1000;
  console.log(`ready after ${readyS.toFixed(1)} s\n`);
  console.log('    t s   rss MB   hwm MB  main heap used/total  prod threads heap  produced   lake lag events  lag s');

  const rssAfterWarmup: number[] = [];
  let maxRssKb = 0;
  let lastPrintMs = 0;
  let status: StatusView | undefined;
  let maxLagSecondsAfterWarmup = 0;
  const runStartMs = Date.now();
  while (Date.now() - runStartMs < s.seconds * 1000) {
    if (exited) throw new Error(`run exited (${exited.code}) during the measurement:\n${tail}`);
    await new Promise((r) => setTimeout(r, 1000));
    const tS = (Date.now() - runStartMs) / 1000;
    const rssKb = procStatusKb(pid, 'VmRSS') ?? 0;
    maxRssKb = Math.max(maxRssKb, rssKb);
    if (tS >= s.warmup) rssAfterWarmup.push(rssKb / 1024);
    if (Date.now() - lastPrintMs >= s.printEvery * 1000 - 500) {
      lastPrintMs = Date.now();
      status = (await getJson<StatusView>(`http://127.0.0.1:${statusPort}/api/status`)) ?? status;
      const lag = lagOf(status);
      if (tS >= s.warmup) maxLagSecondsAfterWarmup = Math.max(maxLagSecondsAfterWarmup, lag.seconds);
      const produced = (status?.producer?.streams ?? []).reduce((n, x) => n + x.total, 0);
      const main = status?.memory?.threads.find((t) => t.area === 'main');
      const prodHeap = status?.memory?.threads
        .filter((t) => t.area.startsWith('producer_thread_'))
        .reduce((n, t) => n + t.heapTotalBytes, 0);
      console.log(
        [
          tS.toFixed(0).padStart(7),
          (rssKb / 1024).toFixed(0).padStart(8),
          ((procStatusKb(pid, 'VmHWM') ?? 0) / 1024).toFixed(0).padStart(8),
          `${mb(main?.heapUsedBytes)}/${mb(main?.heapTotalBytes)}`.padStart(21),
          `${mb(prodHeap)} (${status?.memory?.threads.filter((t) => t.area.startsWith('producer_thread_')).length ?? '?'} thr)`.padStart(
            18,
          ),
          String(produced).padStart(9),
          String(lag.events).padStart(17),
          lag.seconds.toFixed(1).padStart(6),
        ].join(' '),
      );
    }
  }
  const finalStatus = (await getJson<StatusView>(`http://127.0.0.1:${statusPort}/api/status`)) ?? status;
  const hwmKb = procStatusKb(pid, 'VmHWM') ?? 0;
  const rssNowKb = procStatusKb(pid, 'VmRSS') ?? 0;
  const cpuS = procCpuSeconds(pid) ?? Number.NaN;
  printBreakdown(finalStatus?.memory, rssNowKb * 1024);

  const stopMs = Date.now();
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const { code, atMs } = await exit;
  await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
  clearTimeout(killTimer);
  const stopS = (atMs - stopMs) / 1000;
  let lake = await lakeRows(lakeRoot);
  const p50 = percentile(rssAfterWarmup, 0.5);
  const maxAfter = Math.max(...rssAfterWarmup);
  console.log('\nsummary');
  console.log(
    `  rates                 ${s.clickstreamRate} + ${s.iotRate} events/s, ${finalStatus?.producer?.threads ?? '?'} producer threads, ${s.seconds} s measured, cpu ${cpuS.toFixed(1)} s (${((100 * cpuS) / ((Date.now() - startMs) / 1000)).toFixed(0)}% of one core)`,
  );
  console.log(`  RSS after warm-up     p50 ${p50.toFixed(0)} MB, max ${maxAfter.toFixed(0)} MB (sampled every 1 s)`);
  console.log(`  peak RSS (VmHWM)      ${(hwmKb / 1024).toFixed(0)} MB (whole run, start-up included)`);
  console.log(`  lag after warm-up     max ${maxLagSecondsAfterWarmup.toFixed(1)} s behind the log`);
  console.log(`  SIGTERM → exit        ${stopS.toFixed(1)} s, exit code ${code}`);
  const produced = {
    clickstream: producerSummary?.clickstream_total ?? Number.NaN,
    iot: producerSummary?.iot_total ?? Number.NaN,
  };
  if (typeof lake === 'string') console.log(`  lake                  could not read: ${lake}`);
  else {
    console.log(`  produced (summary)    clickstream ${produced.clickstream}, iot ${produced.iot}`);
    console.log(
      `  lake rows             clickstream ${lake.clickstream} (${lake.clickstream - lake.clickstreamDistinct} duplicate event ids), iot ${lake.iot}; ${produced.clickstream - lake.clickstream + produced.iot - lake.iot} produced events not in the lake at exit`,
    );
    // SIGTERM stops fetching without draining the log: the rest is in Kafka, after the last
    // checkpoint. An `etl` from that checkpoint (short file age) must bring exactly the rest.
    if (lake.clickstream < produced.clickstream || lake.iot < produced.iot) {
      const catchUp = await etlCatchUp(env, lakeRoot, produced);
      lake = catchUp.lake;
      if (typeof lake === 'string') console.log(`  lake after etl        could not read: ${lake}`);
      else
        console.log(
          `  lake after etl (${catchUp.seconds.toFixed(0)} s)  clickstream ${lake.clickstream} (${lake.clickstream - lake.clickstreamDistinct} duplicate event ids), iot ${lake.iot}; ${produced.clickstream - lake.clickstream + produced.iot - lake.iot} produced events not in the lake`,
        );
    }
  }
  console.log(
    `  uptime                ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (load average)`,
  );
  if (!s.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`  kept ${dir}`);

  const failures: string[] = [];
  if (code !== 0) failures.push(`exit code ${code}`);
  if (s.maxRssMb !== undefined && p50 > s.maxRssMb) failures.push(`RSS p50 ${p50.toFixed(0)} MB > ${s.maxRssMb} MB`);
  if (s.maxLagSeconds !== undefined && maxLagSecondsAfterWarmup > s.maxLagSeconds)
    failures.push(`lag ${maxLagSecondsAfterWarmup.toFixed(1)} s > ${s.maxLagSeconds} s`);
  if (typeof lake !== 'string' && lake.clickstream !== lake.clickstreamDistinct)
    failures.push('duplicate clickstream events in the lake');
  if (typeof lake !== 'string' && (lake.clickstream !== produced.clickstream || lake.iot !== produced.iot))
    failures.push('the lake does not hold exactly the produced events');
  if (failures.length > 0) {
    console.log(`FAILED: ${failures.join('; ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    cleanUp?.();
    process.exit(1);
  },
);
