/**
 * `npm run bench:compact-day`: what a day of the platform at its default rates leaves in the lake, and what
 * `lake compact` makes of it (architecture.md, "Compaction"). One simulated day, before and after compaction:
 * files and bytes per table, `verify` (exit 0, wall time, peak RSS), the same `query` answers, the time of a
 * full-table count(*) and of the notebook.
 *
 *  1. Fresh random topics, group, lake, checkpoint and run roots under a temp dir. A day's backlog, event times
 *     spread evenly over yesterday (UTC): events_per_second × 86,400 × --scale events per stream, the generators'
 *     own events written by kcat (compactDay/dayBacklog.ts).
 *  2. `etl` over it with SDP_ETL__MAX_FILE_ROWS = a minute of one clickstream partition's events at the rates
 *     (default: 120 × 60 / 4 partitions × scale = 1,800 at scale 1; live, etl.max_file_age 60 s cuts 1,440 files a
 *     partition a day), run until the checkpoint store holds every offset (raw writers and the window aggregator),
 *     then SIGTERM (exit 0 expected). Catching up, a writer rolls what it buffered while its previous roll was in
 *     flight, so files hold somewhat more than the cap (scale 1: ~2,250 clickstream rows, ~2,700 IoT rows a file);
 *     the files per table are printed.
 *  3. Before: the measurements below. 4. `lake compact` (wall time, peak RSS). 5. After: the same measurements.
 * The query answers and the notebook's row counts must be identical and verify exit 0 both times, else exit 1.
 *
 * Needs `npm run build` (the npm script runs it: the children are dist/main.js, as an operator runs them), kcat
 * and the notebook's venv (scripts/test-prereqs.d/20-notebook-venv.sh; --python names another interpreter).
 * Options: --scale F (1), --max-file-rows N, --count-runs N (3), --seed N, --keep (keep the temp dir; the topics are
 * always deleted).
 * Run it under `flock /tmp/sdp-bench.lock` on a shared machine; every figure is printed with the load average.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { createLogger } from '../src/log/logger.js';
import { renderTable } from '../src/system/textTable.js';
import { DAY_MS, produceDay } from './compactDay/dayBacklog.js';
import { etlToEnd } from './compactDay/etlToEnd.js';
import { createInputTopics } from './compactDay/inputTopics.js';
import { timedRun, type TimedRun } from './compactDay/timedRun.js';
import { randomSuffix } from './procStats.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');
const MB = 1024 * 1024;
const STREAMS = ['clickstream', 'iot'] as const;

interface Args {
  scale: number;
  maxFileRows: number | undefined;
  countRuns: number;
  seed: number;
  keep: boolean;
  python: string;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const scale = Number(get('--scale') ?? 1);
  const maxFileRows = get('--max-file-rows') === undefined ? undefined : Number(get('--max-file-rows'));
  const countRuns = Number(get('--count-runs') ?? 3);
  const seed = Number(get('--seed') ?? 20261205);
  if (
    !(scale > 0) ||
    (maxFileRows !== undefined && !(Number.isInteger(maxFileRows) && maxFileRows > 0)) ||
    !(Number.isInteger(countRuns) && countRuns > 0) ||
    !Number.isInteger(seed)
  ) {
    console.error(
      'usage: npm run bench:compact-day -- [--scale F] [--max-file-rows N] [--count-runs N] [--seed N] [--keep] [--python P]',
    );
    process.exit(2);
  }
  const python = get('--python') ?? path.join(PROJECT_ROOT, '.venv', 'bin', 'python');
  return { scale, maxFileRows, countRuns, seed, keep: argv.includes('--keep'), python };
}

const say = (line: string): void => console.log(`compact-day: ${line}`);
const load = (): string =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface TableFiles {
  files: number;
  bytes: number;
}

/** Committed files and bytes per table: `tables/<t>/dt=*` and its units, tmp files (hidden) left out. */
function lakeFiles(lakeRoot: string): Map<string, TableFiles> {
  const result = new Map<string, TableFiles>();
  const tablesDir = path.join(lakeRoot, 'tables');
  const walk = (dir: string, into: TableFiles): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, into);
      else if (e.name.endsWith('.parquet')) {
        into.files += 1;
        into.bytes += statSync(p).size;
      }
    }
  };
  for (const table of readdirSync(tablesDir).sort()) {
    const into = { files: 0, bytes: 0 };
    walk(path.join(tablesDir, table), into);
    result.set(table, into);
  }
  return result;
}

/** The answers compared before and after: the same SQL must give the same rows. */
function answerQueries(day: string): Array<[name: string, sql: string]> {
  return [
    ['clickstream count, distinct ids', 'SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM clickstream'],
    ['iot count, distinct readings', 'SELECT count(*) AS n, count(DISTINCT (device_id, ts)) AS ids FROM iot'],
    [
      'page views per url of the day, top 10',
      `SELECT url, count(*) AS views FROM clickstream WHERE dt = DATE '${day}' GROUP BY url ORDER BY views DESC, url LIMIT 10`,
    ],
    [
      'battery per device, averages',
      'SELECT device_id, count(*) AS n, round(avg(battery), 6) AS avg_battery FROM iot GROUP BY device_id ORDER BY device_id',
    ],
  ];
}

interface Measurement {
  files: Map<string, TableFiles>;
  verify: TimedRun;
  verifyLoad: string;
  answers: Map<string, string>;
  countSeconds: number[];
  countLoad: string;
  notebook: TimedRun;
  notebookLoad: string;
  notebookRows: string;
  slowestCells: string[];
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<TimedRun> {
  return timedRun(process.execPath, [MAIN, ...args], PROJECT_ROOT, env);
}

/** The executed notebook's slowest cells (nbclient records each cell's execute_input and execute_reply times). */
function slowestCells(notebookFile: string, n: number): string[] {
  type Cell = { source: string | string[]; metadata?: { execution?: Record<string, string> } };
  const nb = JSON.parse(readFileSync(notebookFile, 'utf8')) as { cells: Cell[] };
  const timed = nb.cells.flatMap((cell, index) => {
    const ex = cell.metadata?.execution;
    const start = ex?.['iopub.execute_input'];
    const end = ex?.['shell.execute_reply'];
    if (!start || !end) return [];
    const source = (Array.isArray(cell.source) ? cell.source.join('') : cell.source).split('\n')[0] ?? '';
    return [{ index, seconds: (Date.parse(end) - Date.parse(start)) / 1000, source: source.slice(0, 70) }];
  });
  return timed
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, n)
    .map((c) => `cell ${c.index} ${c.seconds.toFixed(1)} s: ${c.source}`);
}

async function measure(label: string, env: NodeJS.ProcessEnv, args: Args, day: string, workDir: string) {
  const files = lakeFiles(env.SDP_STORAGE__DATALAKE_ROOT!);
  for (const [t, f] of files) say(`${label}: ${t}: ${f.files} files, ${(f.bytes / MB).toFixed(1)} MB`);

  const verifyLoad = load();
  const verify = await cli(['verify'], env);
  say(
    `${label}: verify exit ${verify.code} in ${verify.seconds.toFixed(1)} s, peak RSS ${verify.peakRssMb?.toFixed(0)} MB (load ${verifyLoad}): ${verify.stdout.trim().split('\n').at(-1)}`,
  );
  if (verify.code !== 0) say(`${label}: verify said:\n${verify.stdout.slice(-3000)}${verify.stderr.slice(-2000)}`);

  const answers = new Map<string, string>();
  for (const [name, sql] of answerQueries(day)) {
    const r = await cli(['query', sql, '--format', 'json'], env);
    if (r.code !== 0) throw new Error(`query ${JSON.stringify(sql)} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    answers.set(name, r.stdout.trim());
  }

  const countLoad = load();
  const countSeconds: number[] = [];
  for (let i = 0; i < args.countRuns; i++) {
    const r = await cli(['query', 'SELECT count(*) FROM clickstream', '--format', 'json'], env);
    if (r.code !== 0) throw new Error(`count(*) exited ${r.code}: ${r.stderr.slice(-2000)}`);
    countSeconds.push(r.seconds);
  }
  say(
    `${label}: count(*) FROM clickstream ${countSeconds.map((s) => s.toFixed(2)).join(' / ')} s, median ${median(countSeconds).toFixed(2)} (load ${countLoad})`,
  );

  const outDir = path.join(workDir, `report-${label}`);
  const notebookLoad = load();
  const notebook = await timedRun(
    args.python,
    ['analysis/run_analysis.py', '--strict', '--output-dir', outDir],
    PROJECT_ROOT,
    env,
  );
  if (notebook.code !== 0)
    throw new Error(
      `the notebook exited ${notebook.code}:\n${notebook.stdout.slice(-2000)}${notebook.stderr.slice(-2000)}`,
    );
  const report = notebook.stdout.trim().split('\n').at(-1)!;
  const base = report.slice(0, -'.html'.length);
  const summary = JSON.parse(readFileSync(`${base}.summary.json`, 'utf8')) as { rows?: unknown };
  const cells = slowestCells(`${base}.ipynb`, 4);
  say(
    `${label}: notebook ${notebook.seconds.toFixed(1)} s, peak RSS ${notebook.peakRssMb?.toFixed(0)} MB (load ${notebookLoad}); rows ${JSON.stringify(summary.rows)}`,
  );
  for (const c of cells) say(`${label}:   ${c}`);
  return {
    files,
    verify,
    verifyLoad,
    answers,
    countSeconds,
    countLoad,
    notebook,
    notebookLoad,
    notebookRows: JSON.stringify(summary.rows),
    slowestCells: cells,
  } satisfies Measurement;
}

function table(before: Measurement, after: Measurement, compact: TimedRun, compactLoad: string): string {
  const s = (n: number) => n.toFixed(2);
  const rows: string[][] = [];
  for (const t of new Set([...before.files.keys(), ...after.files.keys()])) {
    const b = before.files.get(t) ?? { files: 0, bytes: 0 };
    const a = after.files.get(t) ?? { files: 0, bytes: 0 };
    rows.push([`${t} files`, String(b.files), String(a.files), '']);
    rows.push([`${t} MB`, (b.bytes / MB).toFixed(1), (a.bytes / MB).toFixed(1), '']);
  }
  rows.push([
    'count(*) clickstream s (median)',
    `${s(median(before.countSeconds))} (${before.countSeconds.map(s).join('/')})`,
    `${s(median(after.countSeconds))} (${after.countSeconds.map(s).join('/')})`,
    `${before.countLoad} | ${after.countLoad}`,
  ]);
  rows.push([
    'notebook s',
    before.notebook.seconds.toFixed(1),
    after.notebook.seconds.toFixed(1),
    `${before.notebookLoad} | ${after.notebookLoad}`,
  ]);
  rows.push([
    'verify s / peak RSS MB / exit',
    `${before.verify.seconds.toFixed(1)} / ${before.verify.peakRssMb?.toFixed(0)} / ${before.verify.code}`,
    `${after.verify.seconds.toFixed(1)} / ${after.verify.peakRssMb?.toFixed(0)} / ${after.verify.code}`,
    `${before.verifyLoad} | ${after.verifyLoad}`,
  ]);
  rows.push([
    'lake compact s / peak RSS MB / exit',
    '',
    `${compact.seconds.toFixed(1)} / ${compact.peakRssMb?.toFixed(0)} / ${compact.code}`,
    compactLoad,
  ]);
  return renderTable(['', 'before', 'after', 'load average (before | after)'], rows, {
    rightAligned: [false, true, true, false],
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runId = `compact-day-${randomSuffix()}`;
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sdp-compact-day-'));
  const env: Record<string, string> = {
    SDP_TOPICS__CLICKSTREAM: `${runId}-clickstream`,
    SDP_TOPICS__IOT: `${runId}-iot`,
    SDP_ETL__CONSUMER_GROUP: runId,
    SDP_STORAGE__DATALAKE_ROOT: path.join(workDir, 'lake'),
    SDP_STORAGE__CHECKPOINT_ROOT: path.join(workDir, 'checkpoints'),
    SDP_SERVICES__RUN_DIR: path.join(workDir, 'run'),
    SDP_UI__STATUS_PORT: '0',
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
    // The day's lake as the ETL writes it: the owners' compaction inside the ETL would merge it while it is built.
    SDP_LAKE__COMPACTION: 'false',
  };
  const { config } = loadConfig(path.join(PROJECT_ROOT, 'config.yml'), { ...process.env, ...env });
  const rates = config.data_generator.events_per_second;
  const partitions = config.kafka.partitions;
  const maxFileRows = args.maxFileRows ?? Math.max(1, Math.round((rates.clickstream * 60 * args.scale) / partitions));
  const dayStartMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const day = new Date(dayStartMs).toISOString().slice(0, 10);
  // Half a file's rows: the ETL fetches whole batches and a writer rolls what it buffered, so a batch larger than a
  // file would set the file size; much smaller batches make kcat slow (~500 batches/s here).
  const batchMessages = Math.max(1, Math.floor(maxFileRows / 2));
  const counts = {
    clickstream: Math.round(rates.clickstream * 86_400 * args.scale),
    iot: Math.round(rates.iot * 86_400 * args.scale),
  };
  say(
    `scale ${args.scale}: ${counts.clickstream} clickstream + ${counts.iot} IoT events over dt=${day}, ${partitions} partitions; work dir ${workDir}`,
  );
  const admin = createKafkaClient(config, createLogger({ level: 'warn', format: 'json', fd: 2 })).admin();
  await admin.connect();
  const topics = [config.topics.clickstream, config.topics.iot];
  let failed = false;
  try {
    await createInputTopics(admin, config);
    // 1. The day's backlog.
    const bootstrap = config.kafka.bootstrap_servers.join(',');
    for (const [i, stream] of STREAMS.entries()) {
      const t0 = Date.now();
      await produceDay(bootstrap, config.topics[stream], {
        stream,
        count: counts[stream],
        seed: args.seed + i,
        dayStartMs,
        batchMessages,
      });
      const s = (Date.now() - t0) / 1000;
      say(
        `backlog: ${counts[stream]} ${stream} events generated and written by kcat in ${s.toFixed(1)} s (${Math.round(counts[stream] / s)}/s, load ${load()})`,
      );
    }

    // 2. The ETL over it, files cut at about a minute of one partition's events.
    const perFile = (rate: number) => ((maxFileRows * partitions) / (rate * args.scale) / 60).toFixed(2);
    say(
      `etl: SDP_ETL__MAX_FILE_ROWS=${maxFileRows} (a file: ${perFile(rates.clickstream)} min of a clickstream partition, ${perFile(rates.iot)} min of an IoT partition)`,
    );
    const etlEnv = {
      ...env,
      SDP_ETL__MAX_FILE_ROWS: String(maxFileRows),
      SDP_ETL__IDLE_TIMEOUT: '2s',
      MALLOC_ARENA_MAX: '2',
    };
    const etlLoad = load();
    const etl = await etlToEnd(config, etlEnv, workDir);
    say(
      `etl: caught up in ${etl.seconds.toFixed(1)} s (${Math.round((counts.clickstream + counts.iot) / etl.seconds)} events/s), peak RSS ${etl.peakRssMb.toFixed(0)} MB (load ${etlLoad} → ${load()})`,
    );

    // 3–5. Before, compaction, after.
    const before = await measure('before', { ...process.env, ...env }, args, day, workDir);
    const compactLoad = load();
    const compact = await cli(['lake', 'compact'], { ...process.env, ...env });
    say(
      `lake compact: exit ${compact.code} in ${compact.seconds.toFixed(1)} s, peak RSS ${compact.peakRssMb?.toFixed(0)} MB (load ${compactLoad})`,
    );
    say(`lake compact said: ${compact.stdout.trim().split('\n').slice(-6).join('\n  ')}`);
    if (compact.code !== 0) throw new Error(`lake compact exited ${compact.code}: ${compact.stderr.slice(-2000)}`);
    const after = await measure('after', { ...process.env, ...env }, args, day, workDir);

    const inputBytes = [...before.files.values()].reduce((n, f) => n + f.bytes, 0);
    say(`lake compact: ${(compact.seconds / (inputBytes / 1024 ** 3)).toFixed(1)} s per GB of the lake before`);
    console.log(`\n${table(before, after, compact, compactLoad)}\n`);
    for (const [name, answer] of before.answers) {
      const same = after.answers.get(name) === answer;
      say(
        `${same ? 'same' : 'DIFFERENT'}: ${name}${same ? '' : `\n  before ${answer.slice(0, 500)}\n  after  ${after.answers.get(name)?.slice(0, 500)}`}`,
      );
      if (!same) failed = true;
    }
    if (before.notebookRows !== after.notebookRows) {
      say(`DIFFERENT: notebook rows ${before.notebookRows} → ${after.notebookRows}`);
      failed = true;
    }
    if (before.verify.code !== 0 || after.verify.code !== 0) failed = true;
    say(failed ? 'FAILED' : 'every answer the same, verify exit 0 before and after');
  } finally {
    await admin.deleteTopics({ topics }).catch((err: unknown) => say(`could not delete the topics: ${String(err)}`));
    await admin.disconnect();
    if (args.keep) say(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

await main();
