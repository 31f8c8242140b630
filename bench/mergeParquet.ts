/**
 * Compaction's merge benchmark: `npm run bench:merge`.
 *
 * Writes realistic clickstream files of ~95 KB each (one 60 s roll of one partition at the default rates) with the
 * project's encoder, then merges (a) 60 of them (an hour) and (b) 1,440 of them (~130 MB, a day) with
 * `mergeParquetFiles` (hyparquet reads, hyparquet-writer writes) on its worker thread and inline, and with DuckDB's
 * streaming COPY, interleaved, each run in its own child process so its peak RSS is its own. Prints time, input MB/s,
 * output size, peak RSS and the longest the main thread's event loop was blocked (monitorEventLoopDelay), median and
 * spread, with the load average; then whether DuckDB's file keeps the row order and how its schema differs from ours.
 * Options: --runs N (3), --file-rows N (rows per input file), --files-a N, --files-b N, --row-group-rows N (50,000),
 * --max-heap-mb N, --dir PATH, --methods thread,inline,duckdb.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { fsyncDir, fsyncFile } from '../src/lake/durableFs.js';
import { getEncoder } from '../src/lake/encodeTask.js';
import { mergeParquetFiles } from '../src/lake/mergeParquet.js';
import type { ColumnBatch } from '../src/lake/tables.js';
import { renderTable } from '../src/system/textTable.js';
import { generateBatches } from './parquet-encoders/clickstreamBatches.js';

const MB = 1_000_000;
/**
 * thread: mergeParquetFiles as it is called (a worker thread of its own); inline: on the calling thread; duckdb: COPY
 * (not schema-identical, measured for comparison).
 */
const METHODS = ['thread', 'inline', 'duckdb'] as const;
type Method = (typeof METHODS)[number];

interface Settings {
  runs: number;
  fileRows: number;
  filesA: number;
  filesB: number;
  rowGroupRows: number;
  dir: string;
  /** The merge thread's old generation (MergeOptions.maxHeapMb); undefined: its default. */
  maxHeapMb: number | undefined;
  methods: Method[];
}

interface RunResult {
  method: Method;
  files: number;
  inputBytes: number;
  rows: number;
  seconds: number;
  outputBytes: number;
  /** The process before the merge: node, the modules, the input list. */
  rssBeforeMB: number;
  peakRssMB: number;
  maxBlockMs: number;
}

function parseArgs(argv: string[]): { settings: Settings; child?: { method: Method; files: number; out: string } } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const settings: Settings = {
    runs: Number(get('--runs') ?? 3),
    // ~95 KB per file with these rows (bench/parquet-encoders/clickstreamBatches.ts): ~49 bytes per row.
    fileRows: Number(get('--file-rows') ?? 1_950),
    filesA: Number(get('--files-a') ?? 60),
    filesB: Number(get('--files-b') ?? 1_440),
    rowGroupRows: Number(get('--row-group-rows') ?? 50_000),
    dir: get('--dir') ?? path.join(os.tmpdir(), 'sdp-bench-merge'),
    maxHeapMb: get('--max-heap-mb') === undefined ? undefined : Number(get('--max-heap-mb')),
    methods: (get('--methods')?.split(',') ?? [...METHODS]) as Method[],
  };
  const method = get('--child-method');
  if (method === undefined) return { settings };
  return {
    settings,
    child: { method: method as Method, files: Number(get('--child-files')), out: get('--child-out')! },
  };
}

const inputDir = (settings: Settings): string => path.join(settings.dir, `in-${settings.fileRows}`);
const inputName = (i: number): string => `part-0-${String(i).padStart(20, '0')}.parquet`;

/** The input files, written once per --dir and --file-rows (kept for later runs). */
async function ensureInputs(settings: Settings): Promise<void> {
  const dir = inputDir(settings);
  const count = Math.max(settings.filesA, settings.filesB);
  const have = await fs.readdir(dir).catch(() => [] as string[]);
  if (have.filter((n) => n.endsWith('.parquet')).length >= count) return;
  await fs.mkdir(dir, { recursive: true });
  const chunkFiles = 40;
  for (let first = 0; first < count; first += chunkFiles) {
    const files = Math.min(chunkFiles, count - first);
    const batches = generateBatches({ rows: files * settings.fileRows, fileRows: settings.fileRows });
    for (const [k, batch] of batches.entries()) {
      shiftTimes(batch, (first + k) * settings.fileRows * 2_000);
      const file = path.join(dir, inputName(first + k));
      await getEncoder('hyparquet-writer').encodeToFile(file, 'clickstream', batch, {
        rowGroupRows: settings.rowGroupRows,
      });
    }
  }
}

/** Every chunk of generated rows starts at the same time: move each file after the one before. */
function shiftTimes(batch: ColumnBatch, byMs: number): void {
  const ts = batch.columns.ts as number[];
  for (let i = 0; i < ts.length; i++) ts[i] = ts[i]! + byMs;
}

/** DuckDB is loaded only where it runs: its native library alone would add to the other method's peak RSS. */
async function openDuckDb() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  return DuckDBInstance.create(':memory:');
}

async function duckdbMerge(inputs: string[], out: string, rowGroupRows: number): Promise<void> {
  const instance = await openDuckDb();
  const connection = await instance.connect();
  try {
    const list = inputs.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
    await connection.run('SET preserve_insertion_order = true');
    await connection.run(
      `COPY (SELECT * FROM read_parquet([${list}])) TO '${out.replaceAll("'", "''")}' ` +
        `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${rowGroupRows})`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  await fsyncFile(out);
  await fsyncDir(path.dirname(out));
}

async function runChild(settings: Settings, method: Method, files: number, out: string): Promise<RunResult> {
  const inputs = Array.from({ length: files }, (_, i) => path.join(inputDir(settings), inputName(i)));
  let inputBytes = 0;
  for (const f of inputs) inputBytes += (await fs.stat(f)).size;
  const rssBeforeMB = process.memoryUsage().rss / MB;
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const start = performance.now();
  let rows = 0;
  if (method !== 'duckdb') {
    const options = {
      rowGroupRows: settings.rowGroupRows,
      thread: method === 'thread',
      ...(settings.maxHeapMb === undefined ? {} : { maxHeapMb: settings.maxHeapMb }),
    };
    rows = (await mergeParquetFiles('clickstream', inputs, out, options)).rows;
  } else {
    await duckdbMerge(inputs, out, settings.rowGroupRows);
    rows = Number((await parquetMetadataAsync(await asyncBufferFromFile(out))).num_rows);
  }
  const seconds = (performance.now() - start) / 1000;
  delay.disable();
  return {
    method,
    files,
    inputBytes,
    rows,
    seconds,
    outputBytes: (await fs.stat(out)).size,
    rssBeforeMB,
    // maxRSS is in kilobytes and covers DuckDB's native threads too (same process).
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB,
    maxBlockMs: delay.max / 1e6,
  };
}

function spawnChild(method: Method, files: number, out: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const args = [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
      '--child-method',
      method,
      '--child-files',
      String(files),
      '--child-out',
      out,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(text) as RunResult) : reject(new Error(`${method}/${files} exited with ${code}`)),
    );
  });
}

const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "median (min–max)" of one figure over the runs. */
function spread(xs: number[], digits: number): string {
  const f = (x: number) => x.toFixed(digits);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

/** Whether DuckDB's file holds the same rows in the same order as ours, and how its schema differs. */
async function compareOutputs(ours: string, theirs: string): Promise<void> {
  const instance = await openDuckDb();
  const connection = await instance.connect();
  const q = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
  try {
    const lit = (f: string) => `'${f.replaceAll("'", "''")}'`;
    const [order] = await q(
      `SELECT count(*) AS n,
         count(*) FILTER (WHERE a.event_id IS DISTINCT FROM b.event_id OR a.ts IS DISTINCT FROM b.ts) AS differ
       FROM read_parquet(${lit(ours)}, file_row_number = true) a
       FULL JOIN read_parquet(${lit(theirs)}, file_row_number = true) b USING (file_row_number)`,
    );
    console.log(`row order: ${order?.n} rows compared by position, ${order?.differ} differ`);
    const schema = async (f: string) =>
      q(
        `SELECT name, type, repetition_type, converted_type, logical_type
         FROM parquet_schema(${lit(f)}) WHERE num_children IS NULL`,
      );
    const a = await schema(ours);
    const b = await schema(theirs);
    for (const [i, col] of a.entries()) {
      const other = b[i] ?? {};
      for (const key of Object.keys(col)) {
        if (JSON.stringify(col[key]) !== JSON.stringify(other[key])) {
          console.log(`  ${col.name}.${key}: ours ${JSON.stringify(col[key])}, duckdb ${JSON.stringify(other[key])}`);
        }
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Median and spread per case and method, one row each. */
function summaryTable(settings: Settings, results: RunResult[]): string {
  const rows: string[][] = [];
  for (const files of [settings.filesA, settings.filesB]) {
    for (const method of settings.methods) {
      const rs = results.filter((r) => r.method === method && r.files === files);
      const first = rs[0]!;
      rows.push([
        method,
        String(files),
        (first.inputBytes / MB).toFixed(1),
        String(first.rows),
        spread(
          rs.map((r) => r.seconds),
          2,
        ),
        spread(
          rs.map((r) => r.inputBytes / MB / r.seconds),
          1,
        ),
        (first.outputBytes / MB).toFixed(1),
        spread(
          rs.map((r) => r.rssBeforeMB),
          0,
        ),
        spread(
          rs.map((r) => r.peakRssMB),
          0,
        ),
        spread(
          rs.map((r) => r.maxBlockMs),
          0,
        ),
      ]);
    }
  }
  const header = [
    'method',
    'files',
    'in MB',
    'rows',
    'seconds',
    'in MB/s',
    'out MB',
    'RSS before MB',
    'peak RSS MB',
    'max block ms',
  ];
  return renderTable(header, rows, { rightAligned: header.map((_, i) => i >= 1) });
}

async function main(): Promise<void> {
  const { settings, child } = parseArgs(process.argv.slice(2));
  if (child !== undefined) {
    process.stdout.write(JSON.stringify(await runChild(settings, child.method, child.files, child.out)));
    return;
  }
  await ensureInputs(settings);
  const outDir = await fs.mkdtemp(path.join(settings.dir, 'out-'));
  console.log(`merge: clickstream files of ${settings.fileRows} rows, row groups of ${settings.rowGroupRows}`);
  console.log(`node ${process.version}, ${os.cpus().length} cpus, load average before: ${load()}`);
  const results: RunResult[] = [];
  const outputs = new Map<string, string>();
  try {
    for (let run = 0; run < settings.runs; run++) {
      for (const files of [settings.filesA, settings.filesB]) {
        for (const method of settings.methods) {
          const out = path.join(outDir, `${method}-${files}.parquet`);
          await fs.rm(out, { force: true });
          const r = await spawnChild(method, files, out);
          outputs.set(`${method}-${files}`, out);
          results.push(r);
          console.log(
            `run ${run + 1} ${method} ${files} files: ${r.seconds.toFixed(2)} s, ` +
              `peak RSS ${r.peakRssMB.toFixed(0)} MB, max block ${r.maxBlockMs.toFixed(0)} ms, load ${load()}`,
          );
        }
      }
    }
    console.log(`\n${summaryTable(settings, results)}`);
    console.log(`load average after: ${load()}`);
    const ours = outputs.get(`thread-${settings.filesA}`) ?? outputs.get(`inline-${settings.filesA}`);
    const theirs = outputs.get(`duckdb-${settings.filesA}`);
    if (ours !== undefined && theirs !== undefined) {
      console.log(`\nDuckDB's file against ours (${settings.filesA} files):`);
      await compareOutputs(ours, theirs);
    }
  } finally {
    await fs.rm(outDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
