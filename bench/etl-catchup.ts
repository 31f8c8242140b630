/**
 * ETL catch-up benchmark: `npm run bench:etl`.
 *
 * Preloads fresh random topics with 1,000,000 clickstream + 500,000 IoT events (`generate`, the
 * project's own transactional producer), then for each Parquet encoder starts `etl` as a child
 * process on an empty lake and checkpoint store, in a fresh consumer group whose topics were made first as `make run`
 * makes them (with the window stages' internal topics, used under etl.windows: members), and measures, from the spawn:
 *  - catch-up rate: events / seconds until the checkpoint store has committed every event (rows +
 *    rejected of the raw writers' checkpoints reach the produced counts; the end instant is the
 *    created_at of the last journal event, read-only from the SQLite file);
 *  - peak RSS (VmHWM of /proc/<pid>/status, worker threads included), sampled VmRSS too;
 *  - CPU seconds of the process, Parquet files written;
 *  - CPU seconds of the Kafka brokers on this machine over the same span (`brokers cpu s`; they share the cores, and
 *    what a mode costs them, e.g. the window stages' internal topics and transactions, shows there), and events per
 *    CPU second of both together (`ev/all cpu s`).
 * Then tops the topics up to a 2,000,000-event backlog (2:1) and runs the default encoder once more
 * from empty for the ETL's RSS bound (< 300 MB; architecture.md, "Back-pressure and shutdown"). With `--cpu-prof`, one
 * more run under `node --cpu-prof` prints the functions with the most self time, per thread.
 *
 * The machine's ceiling is measured in the same run: kcat (librdkafka) reads the
 * same preloaded topics, read_committed, from the beginning to the end, payloads to /dev/null,
 * once before and once after the ETL runs (the machine is shared, so both are printed); each ETL
 * row also prints its rate as a share of the mean kcat rate, which compares across machines.
 *
 * Compiled with tsconfig.bench.json (src + bench → dist/bench); the ETL child is that build's
 * dist/bench/src/main.js, so the numbers are for the sources as they are now.
 * The ETL child runs with MALLOC_ARENA_MAX=2, as `make run` and `make up` start the platform
 * (services/platformRuntime.ts): glibc otherwise gives the consuming thread, the encoder thread and
 * V8's helpers an arena each, ~40 MB of RSS in this catch-up. `--plain` runs it without.
 * Options: --clickstream N, --iot N, --encoders a,b, --repeat N (the main run N times, then its
 * min / median / max), --no-2m, --cpu-prof, --keep, --plain, --env SDP_KEY=value and --node-arg FLAG (repeatable).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { loadConfig } from '../src/config/load.js';
import { localDataDir } from '../src/localKafka/localCluster.js';
import type { Config } from '../src/config/schema.js';
import { ENCODER_NAMES, type EncoderName } from '../src/lake/encoder.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { createTopics } from '../src/kafka/admin/topics.js';
import { windowTopicNames } from '../src/kafka/admin/windowTopics.js';
import { createLogger } from '../src/log/logger.js';
import { platformEnv } from '../src/services/platformRuntime.js';
import { renderTable } from '../src/system/textTable.js';
import {
  cpuSecondsOf,
  kafkaBrokerPids,
  procCpuSeconds,
  procStatusKb,
  randomSuffix,
  threadCpuSeconds,
} from './procStats.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const MB = 1024 * 1024;

interface Settings {
  clickstream: number;
  iot: number;
  encoders: EncoderName[];
  twoMillion: boolean;
  cpuProf: boolean;
  /** How often the main run (each encoder) is repeated: a rate is a distribution, not one number. */
  repeat: number;
  keep: boolean;
  /** SDP_* overrides for every ETL run (--env KEY=VALUE, repeatable). */
  env: Record<string, string>;
  /** Without the platform's runtime environment (MALLOC_ARENA_MAX=2). */
  plain: boolean;
  /** Extra node flags for the ETL child (--node-arg FLAG, repeatable), e.g. --max-old-space-size=256. */
  nodeArgs: string[];
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${flag} expects a whole number of at least 1, got ${JSON.stringify(text)}`);
  return n;
}

function parseArgs(argv: string[]): Settings {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const encoders = (get('--encoders') ?? 'parquetjs-lite,hyparquet-writer').split(',') as EncoderName[];
  for (const e of encoders)
    if (!(ENCODER_NAMES as readonly string[]).includes(e)) throw new Error(`unknown encoder ${e}`);
  return {
    clickstream: Number(get('--clickstream') ?? 1_000_000),
    iot: Number(get('--iot') ?? 500_000),
    encoders,
    twoMillion: !argv.includes('--no-2m'),
    cpuProf: argv.includes('--cpu-prof'),
    repeat: positiveInt('--repeat', get('--repeat') ?? '1'),
    keep: argv.includes('--keep'),
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
  };
}

interface Topics {
  clickstream: string;
  iot: string;
}

function topicEnv(topics: Topics): Record<string, string> {
  return { SDP_TOPICS__CLICKSTREAM: topics.clickstream, SDP_TOPICS__IOT: topics.iot, SDP_LOG__FORMAT: 'json' };
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

/** Produces `count` events of one stream with `generate` (transactional, LZ4, as fast as it goes). */
async function preload(topics: Topics, stream: 'clickstream' | 'iot', count: number): Promise<number> {
  if (count === 0) return 0;
  const startMs = Date.now();
  const r = await run(
    ['generate', '--only', stream, '--count', String(count), `--${stream}-rate`, '0', '--batch-size', '1000'],
    topicEnv(topics),
  );
  if (r.code !== 0) throw new Error(`generate ${stream} exited ${r.code}:\n${r.out.slice(-2000)}`);
  return Date.now() - startMs;
}

/** Committed rows + rejected records per topic, and the time of the last commit, from the journal. */
function journalProgress(
  file: string,
): { perTopic: Map<string, number>; lastCommitMs: number; checkpoints: number } | undefined {
  if (!existsSync(file)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const rows = db
      .prepare<[], { topic: string; n: number }>(
        "SELECT json_extract(data, '$.topic') AS topic, sum(json_extract(data, '$.rows') + json_extract(data, '$.rejected')) AS n FROM journal WHERE json_extract(data, '$.type') = 'raw' GROUP BY 1",
      )
      .all();
    const last = db
      .prepare<[], { t: number | null; c: number }>('SELECT max(created_at) AS t, count(*) AS c FROM journal')
      .get();
    return {
      perTopic: new Map(rows.map((r) => [r.topic, r.n])),
      lastCommitMs: last?.t ?? 0,
      checkpoints: last?.c ?? 0,
    };
  } catch (err) {
    if (String((err as { code?: string }).code ?? '').startsWith('SQLITE_')) return undefined;
    throw err;
  } finally {
    db?.close();
  }
}

function countParquet(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.parquet')) n += 1;
    }
  };
  walk(dir);
  return n;
}

interface KcatResult {
  events: number;
  seconds: number;
}

/**
 * Reads every topic from the beginning to its end with kcat, read_committed, payloads to /dev/null,
 * one topic after the other (the ETL reads both at once on one process; kcat's time is the sum).
 * The topics hold exactly the produced counts, so those are the events read.
 */
async function kcatCeiling(
  config: Config,
  topics: Topics,
  counts: { clickstream: number; iot: number },
): Promise<KcatResult> {
  const brokers = config.kafka.bootstrap_servers.join(',');
  const startMs = Date.now();
  for (const topic of [topics.clickstream, topics.iot]) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'kcat',
        ['-C', '-b', brokers, '-X', 'isolation.level=read_committed', '-e', '-o', 'beginning', '-q', '-t', topic],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`kcat on ${topic} exited ${code}: ${err}`)),
      );
    });
  }
  return { events: counts.clickstream + counts.iot, seconds: (Date.now() - startMs) / 1000 };
}

function kcatRate(r: KcatResult): number {
  return r.events / r.seconds;
}

interface RunResult {
  label: string;
  encoder: EncoderName;
  events: number;
  secondsToCommitted: number;
  secondsFromJoin: number;
  joinSeconds: number;
  peakRssMB: number;
  maxSampledRssMB: number;
  cpuSeconds: number;
  /** CPU seconds the Kafka brokers on this machine used from the spawn to the backlog durable (same cores). */
  brokerCpuSeconds: number;
  files: number;
  checkpoints: number;
  exitCode: number | null;
  shutdownSeconds: number;
  profileDir?: string;
}

/** Every run's consumer group: with `etl.windows: members` each made its internal topics, deleted at the end. */
const groupsUsed: string[] = [];

async function measure(
  label: string,
  topics: Topics,
  counts: { clickstream: number; iot: number },
  encoder: EncoderName,
  options: {
    cpuProfDir?: string;
    keep: boolean;
    plain: boolean;
    env: Record<string, string>;
    nodeArgs: string[];
    /** Before the clock starts: what `make run` did before the platform started (the group's topics). */
    prepareGroup: (group: string) => Promise<void>;
    /** The local cluster's data dir (`kafka up`), whose brokers' CPU each run reports. */
    kafkaDataDir: string;
  },
): Promise<RunResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sdp-bench-etl-'));
  const lakeRoot = path.join(dir, 'lake');
  const checkpointRoot = path.join(dir, 'checkpoints');
  const journal = path.join(checkpointRoot, 'checkpoints.sqlite');
  const group = `sdp-bench-etl-${randomSuffix()}`;
  groupsUsed.push(group);
  const env = {
    ...topicEnv(topics),
    SDP_ETL__CONSUMER_GROUP: group,
    SDP_ETL__PARQUET_ENCODER: encoder,
    SDP_STORAGE__DATALAKE_ROOT: lakeRoot,
    SDP_STORAGE__CHECKPOINT_ROOT: checkpointRoot,
    SDP_UI__STATUS_PORT: '0',
    SDP_LOG__LEVEL: 'info',
    ...options.env,
  };
  const nodeArgs = [
    ...options.nodeArgs,
    ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []),
  ];
  await options.prepareGroup(group);
  const brokers = kafkaBrokerPids(options.kafkaDataDir);
  const brokerCpuBefore = cpuSecondsOf(brokers);
  const startMs = Date.now();
  const base = options.plain ? process.env : platformEnv(process.env);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, MAIN, 'etl'], {
    cwd: PROJECT_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let firstJoinMs: number | undefined;
  let tail = '';
  let exited: { code: number | null } | undefined;
  const exit = new Promise<{ code: number | null }>((resolve) =>
    child.once('close', (code) => resolve((exited = { code }))),
  );
  // With --keep the whole log stays beside the lake, to read where a run spent its start.
  const logFile = options.keep ? path.join(dir, 'etl.log') : undefined;
  const onLine = (text: string): void => {
    if (logFile) appendFileSync(logFile, text);
    tail = (tail + text).slice(-4000);
    if (firstJoinMs === undefined && tail.includes('"msg":"partitions assigned"')) firstJoinMs = Date.now();
  };
  child.stdout!.on('data', (c: Buffer) => onLine(c.toString()));
  child.stderr!.on('data', (c: Buffer) => onLine(c.toString()));

  let maxRssKb = 0;
  const sampler = setInterval(() => {
    const rss = procStatusKb(pid, 'VmRSS');
    if (rss !== undefined && rss > maxRssKb) maxRssKb = rss;
  }, 200);
  const target = { [topics.clickstream]: counts.clickstream, [topics.iot]: counts.iot };
  let done: { lastCommitMs: number; checkpoints: number } | undefined;
  try {
    while (!done) {
      if (exited) throw new Error(`etl exited (${exited.code}) before catching up:\n${tail}`);
      if (Date.now() - startMs > 30 * 60_000) throw new Error(`no catch-up after 30 minutes:\n${tail}`);
      await new Promise((r) => setTimeout(r, 250));
      const p = journalProgress(journal);
      if (p && Object.entries(target).every(([t, n]) => (p.perTopic.get(t) ?? 0) >= n)) done = p;
    }
  } finally {
    clearInterval(sampler);
  }
  const peakRssKb = procStatusKb(pid, 'VmHWM') ?? 0;
  const cpuSeconds = procCpuSeconds(pid) ?? Number.NaN;
  const brokerCpuSeconds = cpuSecondsOf(brokers) - brokerCpuBefore;
  const threads = threadCpuSeconds(pid);
  const files = countParquet(path.join(lakeRoot, 'tables'));
  const stopMs = Date.now();
  child.kill('SIGTERM');
  const { code } = await exit;
  const events = counts.clickstream + counts.iot;
  const secondsToCommitted = (done.lastCommitMs - startMs) / 1000;
  const joinSeconds = ((firstJoinMs ?? startMs) - startMs) / 1000;
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`  kept ${dir} (log: ${logFile})`);
  console.log(
    `  ${label}: cpu by thread: ${threads.map((t) => `${t.name}${t.threads > 1 ? ` ×${t.threads}` : ''} ${t.seconds.toFixed(1)} s`).join(', ')}`,
  );
  return {
    label,
    encoder,
    events,
    secondsToCommitted,
    secondsFromJoin: secondsToCommitted - joinSeconds,
    joinSeconds,
    peakRssMB: (peakRssKb * 1024) / MB,
    maxSampledRssMB: (maxRssKb * 1024) / MB,
    cpuSeconds,
    brokerCpuSeconds,
    files,
    checkpoints: done.checkpoints,
    exitCode: code,
    shutdownSeconds: (Date.now() - stopMs) / 1000,
    ...(options.cpuProfDir ? { profileDir: options.cpuProfDir } : {}),
  };
}

/** One line as each main run ends (each takes a minute or more); their table follows once all have. */
function printProgress(r: RunResult): void {
  console.log(`${r.label} (${r.encoder}): backlog committed in ${r.secondsToCommitted.toFixed(1)} s`);
}

const RESULT_HEADER = [
  'run',
  'encoder',
  'events',
  'seconds',
  'events/s',
  'after join',
  'join s',
  'peak RSS',
  'cpu s',
  'ev/cpu s',
  'brokers cpu s',
  'ev/all cpu s',
  'files',
  'ckpts',
  'exit',
  'of kcat',
];

function printResults(runs: readonly RunResult[], kcatEventsPerSecond: number): void {
  const rows = runs.map((r) => [
    r.label,
    r.encoder,
    String(r.events),
    r.secondsToCommitted.toFixed(1),
    String(Math.round(r.events / r.secondsToCommitted)),
    String(Math.round(r.events / r.secondsFromJoin)),
    r.joinSeconds.toFixed(1),
    r.peakRssMB.toFixed(0),
    r.cpuSeconds.toFixed(1),
    String(Math.round(r.events / r.cpuSeconds)),
    r.brokerCpuSeconds.toFixed(1),
    String(Math.round(r.events / (r.cpuSeconds + r.brokerCpuSeconds))),
    String(r.files),
    String(r.checkpoints),
    String(r.exitCode),
    `${((100 * r.events) / r.secondsToCommitted / kcatEventsPerSecond).toFixed(1)}%`,
  ]);
  console.log(`\n${renderTable(RESULT_HEADER, rows, { rightAligned: RESULT_HEADER.map((_, i) => i >= 2) })}`);
}

/** Min, median and max of repeated runs, and the highest peak RSS among them. */
function printSpread(runs: RunResult[]): void {
  const rates = runs.map((r) => r.events / r.secondsToCommitted).sort((a, b) => a - b);
  const mid = Math.floor(rates.length / 2);
  const median = rates.length % 2 === 1 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
  const peak = Math.max(...runs.map((r) => r.peakRssMB));
  console.log(
    `  over ${runs.length} runs: events/s min ${Math.round(rates[0]!)} / median ${Math.round(median)} / max ${Math.round(rates[rates.length - 1]!)}; ` +
      `${rates.filter((r) => r >= 150_000).length} of ${runs.length} at >= 150000; highest peak RSS ${peak.toFixed(0)} MB`,
  );
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time per function and per module of each .cpuprofile in `dir` (one per thread). */
function summariseProfiles(dir: string, top = 15): void {
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()) {
    const profile = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as {
      nodes: ProfileNode[];
      samples: number[];
      timeDeltas: number[];
      startTime: number;
      endTime: number;
    };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => {
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
    });
    const totalUs = profile.endTime - profile.startTime;
    const byFunction = new Map<string, number>();
    const byModule = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const frame = byId.get(id)!.callFrame;
      const url = frame.url.replace(/^file:\/\//, '');
      const where = url.includes('node_modules/')
        ? url.slice(url.lastIndexOf('node_modules/') + 13)
        : url.startsWith(PROJECT_ROOT)
          ? url.slice(PROJECT_ROOT.length)
          : url;
      const fn = `${frame.functionName || '(anonymous)'}  ${where ? `${where}:${frame.lineNumber + 1}` : ''}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      const module =
        url === ''
          ? `(${frame.functionName || 'native'})`
          : url.includes('node_modules/')
            ? `npm:${url
                .slice(url.lastIndexOf('node_modules/') + 13)
                .split('/')
                .slice(0, url.includes('node_modules/@') ? 2 : 1)
                .join('/')}`
            : url.startsWith('node:')
              ? 'node internals'
              : where;
      byModule.set(module, (byModule.get(module) ?? 0) + us);
    }
    const pct = (us: number): string => `${((100 * us) / totalUs).toFixed(1).padStart(5)}%`;
    console.log(`\n${name}: ${(totalUs / 1e6).toFixed(1)} s profiled`);
    console.log('  by module (self time):');
    for (const [m, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`    ${pct(us)}  ${m}`);
    console.log('  by function (self time):');
    for (const [f, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`    ${pct(us)}  ${f}`);
  }
}

const USAGE = `usage: npm run bench:etl -- [--clickstream N] [--iot N] [--encoders parquetjs-lite,hyparquet-writer] [--repeat N] [--no-2m] [--cpu-prof] [--keep] [--env SDP_ETL__KEY=value ...] [--node-arg --max-old-space-size=256 ...]`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const settings = parseArgs(process.argv.slice(2));
  const { config } = loadConfig(path.join(PROJECT_ROOT, 'config.yml'));
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  const topics: Topics = { clickstream: `bench-clickstream-${randomSuffix()}`, iot: `bench-iot-${randomSuffix()}` };
  await createTopics({ ...config, topics }, logger);
  console.log(
    `etl catch-up benchmark: node ${process.version}, ${os.cpus().length} cpus, ${config.kafka.partitions} partitions per topic, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    settings.plain
      ? 'etl started bare (--plain): no MALLOC_ARENA_MAX'
      : `etl started as make run starts the platform: MALLOC_ARENA_MAX=${platformEnv(process.env).MALLOC_ARENA_MAX}`,
  );
  const counts = { clickstream: settings.clickstream, iot: settings.iot };
  const clickMs = await preload(topics, 'clickstream', counts.clickstream);
  const iotMs = await preload(topics, 'iot', counts.iot);
  console.log(
    `preloaded ${counts.clickstream} clickstream in ${(clickMs / 1000).toFixed(1)} s and ${counts.iot} iot in ${(iotMs / 1000).toFixed(1)} s into ${topics.clickstream}, ${topics.iot}`,
  );
  const kcatBefore = await kcatCeiling(config, topics, counts);
  console.log(
    `kcat ceiling (read_committed, to /dev/null): ${counts.clickstream + counts.iot} events in ${kcatBefore.seconds.toFixed(2)} s = ${Math.round(kcatRate(kcatBefore))} events/s`,
  );
  const kcatReference = kcatRate(kcatBefore);

  // What every ETL run of this invocation shares; a run adds to it or overrides env.
  // `make run` creates the topics of the configured group (`services up --kafka-only`: the input topics and the window
  // stages' internal ones) before the platform starts; each run's fresh group gets its internal topics the same way,
  // so that a members-mode run's join does not include creating them.
  const prepareGroup = async (group: string): Promise<void> => {
    await createTopics({ ...config, topics, etl: { ...config.etl, consumer_group: group } }, logger, {
      windowTopicsOnly: true,
    });
  };
  const runOptions = {
    keep: settings.keep,
    plain: settings.plain,
    env: settings.env,
    nodeArgs: settings.nodeArgs,
    prepareGroup,
    kafkaDataDir: localDataDir(config),
  };
  const results: RunResult[] = [];
  for (const encoder of settings.encoders) {
    const runs: RunResult[] = [];
    for (let i = 0; i < settings.repeat; i++) {
      const r = await measure(
        `${(counts.clickstream + counts.iot) / 1e6}M backlog${settings.repeat > 1 ? ` #${i + 1}` : ''}`,
        topics,
        counts,
        encoder,
        runOptions,
      );
      printProgress(r);
      runs.push(r);
    }
    if (runs.length > 1) printSpread(runs);
    results.push(...runs);
  }
  // The same run with etl.max_file_age 5s: a check that the file-age rule no longer matters to a
  // catch-up (the last partial file of a partition is rolled at the end of its backlog, not when
  // it is max_file_age old or quiet for max_file_idle).
  if (!settings.env.SDP_ETL__MAX_FILE_AGE) {
    const r = await measure('  same, max_file_age 5s', topics, counts, config.etl.parquet_encoder, {
      ...runOptions,
      env: { ...settings.env, SDP_ETL__MAX_FILE_AGE: '5s' },
    });
    printProgress(r);
    results.push(r);
  }
  const kcatAfter = await kcatCeiling(config, topics, counts);
  const etlBest = Math.max(...results.map((r) => r.events / r.secondsToCommitted));
  const kcatMean = (kcatRate(kcatBefore) + kcatRate(kcatAfter)) / 2;
  console.log(
    `kcat ceiling again after the ETL runs: ${kcatAfter.seconds.toFixed(2)} s = ${Math.round(kcatRate(kcatAfter))} events/s`,
  );
  printResults(results, kcatReference);
  console.log(
    `etl ${Math.round(etlBest)} events/s (best of the runs above), kcat ${Math.round(kcatMean)} events/s (mean of both), ratio etl/kcat ${(etlBest / kcatMean).toFixed(3)}`,
  );
  if (settings.cpuProf) {
    const profDir = mkdtempSync(path.join(os.tmpdir(), 'sdp-bench-etl-prof-'));
    const r = await measure(
      'cpu profile',
      topics,
      { clickstream: counts.clickstream, iot: counts.iot },
      config.etl.parquet_encoder,
      { ...runOptions, cpuProfDir: profDir },
    );
    printResults([r], kcatReference);
    summariseProfiles(profDir);
    console.log(`profiles kept in ${profDir}`);
  }
  if (settings.twoMillion) {
    const total = counts.clickstream + counts.iot;
    const extra = Math.max(0, 2_000_000 - total);
    const extraClick = Math.round((extra * 2) / 3);
    await preload(topics, 'clickstream', extraClick);
    await preload(topics, 'iot', extra - extraClick);
    const counts2 = { clickstream: counts.clickstream + extraClick, iot: counts.iot + extra - extraClick };
    const r = await measure('2M backlog (RSS bound)', topics, counts2, config.etl.parquet_encoder, runOptions);
    printResults([r], kcatReference);
    console.log(
      `  peak RSS under a ${counts2.clickstream + counts2.iot} event backlog: ${r.peakRssMB.toFixed(0)} MB (bound: < 300 MB) — ${r.peakRssMB < 300 ? 'OK' : 'OVER'}; highest sampled VmRSS ${r.maxSampledRssMB.toFixed(0)} MB`,
    );
  }
  if (!settings.keep) {
    // The backlog is a few hundred MB per replica: give the brokers their disk back.
    const admin = createKafkaClient(config, logger).admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const internal = groupsUsed.flatMap((g) => Object.values(windowTopicNames(g))).filter((t) => existing.has(t));
    await admin
      .deleteTopics({ topics: [topics.clickstream, topics.iot, ...internal] })
      .catch((err: unknown) => console.warn(`could not delete the bench topics: ${String(err)}`));
    await admin.disconnect();
  }
  console.log(
    `\ntarget: >= 150000 events/s; load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    '(seconds = spawn of `etl` → last checkpoint that makes the backlog durable; "after join" excludes the consumer-group join)',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
