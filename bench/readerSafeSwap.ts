/**
 * Which compaction swap a plain glob reader never sees half of (architecture.md, "Who rewrites a partition's files"):
 * readers in their own processes loop `count(*)` and `count(distinct id)` over one dt while this process keeps
 * adding files of four partitions to it and compacts one partition's files into a merged file, again and again.
 *
 *   npm run bench:swap -- [seconds per mode, default 20] [mode,…: naive,dtlink,exchange]
 *   PYTHON=<python with pyarrow, pandas and duckdb> adds pandas/pyarrow and DuckDB-Python readers.
 *
 * Modes:
 * - naive: files directly in `dt=D/`; compaction renames the merged file in, then unlinks the replaced ones.
 * - dtlink: `dt=D` is a symlink to a version directory outside the table (`_v/`); compaction builds the next version
 *   with hard links and renames a new symlink over `dt=D`; arrivals rename into the current version under a lock
 *   shared with the swap (one process here, so a promise lock).
 * - exchange: one real directory per partition (`dt=D/p<p>/`), swapped whole by renameat2 RENAME_EXCHANGE
 *   (src/lake/readerSafeSwap.ts); no lock: only a partition's owner touches its unit.
 *
 * Each reader answer is checked: count = distinct ids (no row twice), no fall below its previous answer, and within
 * what was published between the query's start and end (no row missing). Errors are counted by kind. SWAP_DEBUG=1
 * prints every answer outside what was published with the swaps and arrivals around it.
 *
 * The project's venv (scripts/python-venv.sh) has DuckDB and pandas but no pyarrow, without which pandas reads no
 * Parquet: point PYTHON at an interpreter that has all three. Tmp files are dot-named here: pandas/pyarrow read every
 * file of a dt that does not start with `.` or `_`, `*.parquet.<id>.tmp` included.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { swapPartitionFiles, swapStagingDir, unitDir, vacuumSwaps } from '../src/lake/readerSafeSwap.js';

type Mode = 'naive' | 'dtlink' | 'exchange';
const DT = '2026-01-01';
const PARTITIONS = 4;
const ROWS_PER_FILE = 50;
const GRACE_MS = 2_000;

interface Published {
  beforeMs: number;
  afterMs: number;
  rows: number;
}

/** One reader answer, as a child writes it (one JSON line each). */
interface Answer {
  t0: number;
  t1: number;
  count?: number;
  distinct?: number;
  error?: string;
}

const DUCKDB_NODE_READER = 'duckdb-node';
/** [before, after] of every swap, for SWAP_DEBUG. */
const swapTimes: [number, number][] = [];

async function main(): Promise<void> {
  if (process.argv[2] === DUCKDB_NODE_READER) return duckdbNodeReader(process.argv[3]!, process.argv[4]!);
  const seconds = Number(process.argv[2] ?? 20);
  const modes = (process.argv[3] ?? 'naive,dtlink,exchange').split(',') as Mode[];
  const python = process.env.PYTHON;
  console.log(
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${seconds}s per mode; python: ${python ?? 'none'}`,
  );
  for (const mode of modes) await runMode(mode, seconds, python);
}

/** Reader specs: name → command line; each loops until `<out>.stop` exists. */
function readers(mode: Mode, tableDir: string, python: string | undefined): Record<string, string[]> {
  const self = fileURLToPath(import.meta.url);
  const specs: Record<string, string[]> = {
    'duckdb-node **': [process.execPath, self, DUCKDB_NODE_READER, `${tableDir}/**/*.parquet`],
  };
  // The pattern of the project's own readers today (query, notebook); one level deeper with units.
  const level = mode === 'exchange' ? 'dt=*/*/*' : 'dt=*/*';
  specs[`duckdb-node ${level}`] = [process.execPath, self, DUCKDB_NODE_READER, `${tableDir}/${level}.parquet`];
  if (python) {
    specs['pandas read_parquet'] = [python, '-c', PYTHON_READER, 'pandas', tableDir];
    specs['duckdb-python **'] = [python, '-c', PYTHON_READER, 'duckdb', `${tableDir}/**/*.parquet`];
  }
  return specs;
}

const PYTHON_READER = `
import json, os, sys, time
kind, source, out = sys.argv[1], sys.argv[2], sys.argv[3]
if kind == 'pandas':
    import pandas as pd
    def ask():
        df = pd.read_parquet(source)
        return len(df), int(df['id'].nunique())
else:
    import duckdb
    con = duckdb.connect()
    def ask():
        return con.execute(f"SELECT count(*), count(DISTINCT id) FROM read_parquet('{source}', hive_partitioning = true)").fetchone()
with open(out, 'w') as f:
    while not os.path.exists(out + '.stop'):
        t0 = time.time() * 1000
        try:
            c, d = ask()
            row = {'t0': t0, 't1': time.time() * 1000, 'count': c, 'distinct': d}
        except Exception as e:
            row = {'t0': t0, 't1': time.time() * 1000, 'error': type(e).__name__ + ': ' + str(e).splitlines()[0]}
        f.write(json.dumps(row) + '\\n')
`;

async function duckdbNodeReader(pattern: string, out: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const sql = `SELECT count(*)::INTEGER AS c, count(DISTINCT id)::INTEGER AS d FROM read_parquet('${pattern}', hive_partitioning = true)`;
  const lines: string[] = [];
  for (;;) {
    try {
      await fs.access(`${out}.stop`);
      break;
    } catch {}
    const t0 = Date.now();
    try {
      const [row] = (await connection.runAndReadAll(sql)).getRowObjectsJson() as { c: number; d: number }[];
      lines.push(JSON.stringify({ t0, t1: Date.now(), count: row!.c, distinct: row!.d }));
    } catch (err) {
      lines.push(JSON.stringify({ t0, t1: Date.now(), error: (err as Error).message.split('\n')[0] }));
    }
  }
  await fs.writeFile(out, `${lines.join('\n')}\n`);
}

/** A promise chain per key: the arrivals and the compactions that must not overlap. */
class Locks {
  private readonly tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(work, work);
    this.tails.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }
}

interface Lake {
  /** Where a partition's new final files go (the directory readers list). */
  finalDir(partition: number): Promise<string>;
  /** Where tmp files are written: never inside what a swap moves. */
  tmpDir: string;
  /** Lock key serialising a partition's arrivals with a swap that would lose them. */
  lockKey(partition: number): string;
  compact(partition: number, replaced: string[], mergedTmp: string, mergedName: string): Promise<void>;
  vacuum(nowMs: number): Promise<void>;
}

async function runMode(mode: Mode, seconds: number, python: string | undefined): Promise<void> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `sdp-swap-${mode}-`));
  const tableDir = path.join(root, 'tables', 'clickstream');
  const dtDir = path.join(tableDir, `dt=${DT}`);
  const writer = await DuckDBInstance.create(':memory:');
  const db = await writer.connect();
  const lake = await makeLake(mode, root, dtDir);
  const locks = new Locks();
  const published: Published[] = [];
  let rows = 0;
  let swaps = 0;
  const files = new Map<number, string[]>(); // partition → its final names, in offset order
  const nextOffset = new Map<number, number>();

  const writeParquet = async (sql: string, file: string) => {
    await db.run(`COPY (${sql}) TO '${file}' (FORMAT parquet)`);
  };
  const arrive = async (partition: number) => {
    const first = nextOffset.get(partition) ?? 0;
    const last = first + ROWS_PER_FILE - 1;
    nextOffset.set(partition, last + 1);
    const name = `part-${partition}-${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}.parquet`;
    // Dot-prefixed: pandas/pyarrow read every file of a dt whatever its suffix, `*.tmp` included, but skip `.` names.
    const tmp = path.join(lake.tmpDir, `.${name}.w.tmp`);
    // ids unique across partitions: partition * 1e9 + offset
    await writeParquet(`SELECT ${partition}::BIGINT * 1000000000 + range AS id FROM range(${first}, ${last + 1})`, tmp);
    await locks.run(lake.lockKey(partition), async () => {
      const dir = await lake.finalDir(partition);
      const beforeMs = Date.now();
      await fs.rename(tmp, path.join(dir, name));
      rows += ROWS_PER_FILE;
      published.push({ beforeMs, afterMs: Date.now(), rows });
      files.set(partition, [...(files.get(partition) ?? []), name]);
    });
  };
  const compact = async (partition: number) => {
    const names = files.get(partition) ?? [];
    if (names.length < 3) return;
    const dir = await lake.finalDir(partition);
    const first = names[0]!.split('-')[2]!;
    const last = names[names.length - 1]!.split('-')[3]!.replace('.parquet', '');
    const mergedName = `part-${partition}-${first}-${last}.parquet`;
    const mergedTmp = path.join(lake.tmpDir, `.${mergedName}.w.tmp`);
    const list = names.map((n) => `'${path.join(dir, n)}'`).join(', ');
    await writeParquet(`SELECT id FROM read_parquet([${list}], hive_partitioning = false)`, mergedTmp);
    const swapBeforeMs = Date.now();
    await lake.compact(partition, names, mergedTmp, mergedName);
    swapTimes.push([swapBeforeMs, Date.now()]);
    files.set(partition, [mergedName]);
    swaps += 1;
  };

  for (let p = 0; p < PARTITIONS; p++) await arrive(p);
  const specs = readers(mode, tableDir, python);
  const children = Object.entries(specs).map(([name, argv]) => {
    const out = path.join(root, `${name.replace(/[^a-z0-9]+/gi, '_')}.jsonl`);
    const child = spawn(argv[0]!, [...argv.slice(1), out], { stdio: ['ignore', 'inherit', 'inherit'] });
    return { name, out, done: new Promise<void>((resolve) => child.on('exit', () => resolve())) };
  });

  const endMs = Date.now() + seconds * 1000;
  const arrivals = (async () => {
    for (let i = 0; Date.now() < endMs; i++) await arrive(i % PARTITIONS);
  })();
  const compactions = (async () => {
    for (let i = 0; Date.now() < endMs; i++) {
      const partition = i % PARTITIONS;
      await locks.run(lake.lockKey(partition), () => compact(partition));
      await lake.vacuum(Date.now());
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await Promise.all([arrivals, compactions]);
  for (const c of children) await fs.writeFile(`${c.out}.stop`, '');
  await Promise.all(children.map((c) => c.done));
  db.closeSync();
  writer.closeSync();

  console.log(`\n== ${mode}: ${swaps} swaps, ${published.length} arrivals, ${rows} rows at the end`);
  for (const c of children) report(c.name, await readAnswers(c.out), published);
  await fs.rm(root, { recursive: true, force: true });
}

async function makeLake(mode: Mode, root: string, dtDir: string): Promise<Lake> {
  if (mode === 'naive') {
    await fs.mkdir(dtDir, { recursive: true });
    return {
      tmpDir: dtDir,
      finalDir: async () => dtDir,
      lockKey: (p) => `p${p}`,
      async compact(_p, replaced, mergedTmp, mergedName) {
        await fs.rename(mergedTmp, path.join(dtDir, mergedName));
        for (const name of replaced) await fs.unlink(path.join(dtDir, name));
      },
      async vacuum() {},
    };
  }
  if (mode === 'dtlink') {
    const versions = path.join(root, '_v');
    await fs.mkdir(path.join(versions, 'v0'), { recursive: true });
    // tmp files in a real directory outside the table: inside a version they would be carried along by the swap
    const tmpDir = path.join(root, '_tmp');
    await fs.mkdir(tmpDir);
    await fs.mkdir(path.dirname(dtDir), { recursive: true });
    await fs.symlink(path.join(versions, 'v0'), dtDir);
    let version = 0;
    const retired: { dir: string; atMs: number }[] = [];
    return {
      tmpDir,
      finalDir: async () => fs.realpath(dtDir),
      lockKey: () => 'dt', // every writer of the dt shares the swap's lock
      async compact(_p, replaced, mergedTmp, mergedName) {
        const old = await fs.realpath(dtDir);
        version += 1;
        const next = path.join(versions, `v${version}`);
        await fs.mkdir(next);
        const skip = new Set(replaced);
        for (const name of await fs.readdir(old))
          if (!skip.has(name)) await fs.link(path.join(old, name), path.join(next, name));
        await fs.rename(mergedTmp, path.join(next, mergedName));
        const link = `${tmpDir}.link`;
        await fs.rm(link, { force: true });
        await fs.symlink(next, link);
        await fs.rename(link, dtDir);
        retired.push({ dir: old, atMs: Date.now() });
      },
      async vacuum(nowMs) {
        while (retired.length > 0 && retired[0]!.atMs <= nowMs - GRACE_MS)
          await fs.rm(retired.shift()!.dir, { recursive: true });
      },
    };
  }
  await fs.mkdir(dtDir, { recursive: true });
  const live = (p: number) => unitDir(root, 'clickstream', DT, `p${p}`);
  for (let p = 0; p < PARTITIONS; p++) await fs.mkdir(live(p));
  return {
    tmpDir: dtDir,
    finalDir: async (p) => live(p),
    lockKey: (p) => `p${p}`,
    async compact(p, replaced, mergedTmp, mergedName) {
      const stagingDir = swapStagingDir(root, 'clickstream', DT, `p${p}`, mergedName);
      await swapPartitionFiles({ liveDir: live(p), stagingDir, replaced, mergedTmp, mergedName });
    },
    async vacuum(nowMs) {
      for (let p = 0; p < PARTITIONS; p++) {
        await vacuumSwaps(
          path.dirname(swapStagingDir(root, 'clickstream', DT, `p${p}`, 'x.parquet')),
          `p${p}`,
          GRACE_MS,
          nowMs,
        );
      }
    },
  };
}

async function readAnswers(file: string): Promise<Answer[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Answer);
}

/** Rows surely visible at `t` (published before it) and possibly visible (a rename begun before it). */
function bracket(published: Published[], t0: number, t1: number): [number, number] {
  let low = 0;
  let high = 0;
  for (const p of published) {
    // Date.now() is whole milliseconds: a rename that ended in t0's millisecond may have ended after t0.
    if (p.afterMs + 1 <= t0) low = p.rows;
    if (p.beforeMs <= t1) high = p.rows;
  }
  return [low, high];
}

function report(name: string, answers: Answer[], published: Published[]): void {
  let ok = 0;
  let twice = 0;
  let falls = 0;
  let outside = 0;
  let previous = -1;
  const errors = new Map<string, number>();
  const ms: number[] = [];
  for (const a of answers) {
    ms.push(a.t1 - a.t0);
    if (a.error !== undefined) {
      const kind = a.error.replace(/"[^"]*"|'[^']*'|\/[^\s:]+/g, '…').slice(0, 90);
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
      continue;
    }
    ok += 1;
    const [low, high] = bracket(published, a.t0, a.t1);
    if (a.count! > a.distinct!) twice += 1;
    if (a.count! < previous) {
      falls += 1;
      if (process.env.SWAP_DEBUG) console.log(`  fell: ${previous} -> ${a.count} ${a.t0}..${a.t1}`);
    }
    if (a.count! < low || a.count! > high) {
      outside += 1;
      if (process.env.SWAP_DEBUG) {
        const near = swapTimes
          .filter(([b, e]) => e >= a.t0 - 200 && b <= a.t1 + 50)
          .map(([b, e]) => `${b - a.t0}..${e - a.t0}`);
        const arr = published
          .filter((p) => p.afterMs >= a.t0 - 100 && p.beforeMs <= a.t1)
          .map((p) => `${p.beforeMs - a.t0}..${p.afterMs - a.t0}:${p.rows}`);
        console.log(
          `  outside: count=${a.count} distinct=${a.distinct} low=${low} high=${high} dur=${a.t1 - a.t0} swaps(rel t0)=${near} arrivals=${arr}`,
        );
      }
    }
    previous = a.count!;
  }
  ms.sort((x, y) => x - y);
  const errorText = [...errors].map(([k, n]) => `${n}× ${k}`).join('; ') || 'none';
  console.log(
    `${name.padEnd(20)} queries=${answers.length} ok=${ok} rows_twice=${twice} count_fell=${falls} ` +
      `outside_published=${outside} errors=${answers.length - ok} median_ms=${ms[ms.length >> 1] ?? 0} | ${errorText}`,
  );
}

await main();
