/**
 * Compaction that readers never see half of (architecture.md, "Who rewrites a partition's files"): a plain DuckDB glob
 * reader loops over one dt while four partitions keep adding files to it and each partition's files are merged again
 * and again by `swapPartitionFiles`. Real files, real DuckDB, real renameat2; no Kafka needed.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatOffset } from '../../../src/lake/layout.js';
import { swapPartitionFiles, swapStagingDir, unitDir, vacuumSwaps } from '../../../src/lake/readerSafeSwap.js';

const DT = '2026-01-01';
const TABLE = 'clickstream';
const PARTITIONS = 4;
const ROWS_PER_FILE = 40;

let root: string;
let instance: DuckDBInstance;
let writer: DuckDBConnection;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-reader-swap-'));
  instance = await DuckDBInstance.create(':memory:');
  writer = await instance.connect();
});

afterEach(async () => {
  writer.closeSync();
  instance.closeSync();
  await fs.rm(root, { recursive: true, force: true });
});

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;
const glob = () => path.join(root, 'tables', TABLE, '**', '*.parquet');
const dtDir = () => path.dirname(unitDir(root, TABLE, DT, 'p0'));
const rawName = (p: number, first: number, last: number) =>
  `part-${p}-${formatOffset(first)}-${formatOffset(last)}.parquet`;

/**
 * Writes a Parquet file with DuckDB, as a dot-named tmp file in the dt directory (never inside a unit). One connection
 * per concurrent writer: two statements waiting on one connection can hold every libuv thread DuckDB's steps need.
 */
async function writeTmp(name: string, select: string, connection: DuckDBConnection = writer): Promise<string> {
  const tmp = path.join(dtDir(), `.${name}.test.tmp`);
  await connection.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet)`);
  return tmp;
}

/** What was published when: a rename into a unit, [before, after] in performance.now() time, and the rows after it. */
interface Published {
  beforeMs: number;
  afterMs: number;
  rows: number;
}

interface Answer {
  t0: number;
  t1: number;
  count?: number;
  distinct?: number;
  error?: string;
}

describe('readerSafeSwap with a glob reader', () => {
  it('a looping count(*) / count(distinct id) never sees a row twice, a count fall or a published row missing', async () => {
    await fs.mkdir(dtDir(), { recursive: true });
    for (let p = 0; p < PARTITIONS; p++) await fs.mkdir(unitDir(root, TABLE, DT, `p${p}`));
    const published: Published[] = [];
    let rows = 0;
    const files = new Map<number, string[]>();
    const nextOffset = new Map<number, number>();
    const arrivalWriter = await instance.connect();
    const compactionWriter = await instance.connect();
    // A partition's arrivals and its compactions run one at a time, as its owner's commits do; partitions overlap.
    const chains = new Map<number, Promise<unknown>>();
    const serially = <T>(p: number, work: () => Promise<T>): Promise<T> => {
      const next = (chains.get(p) ?? Promise.resolve()).then(work);
      chains.set(
        p,
        next.catch(() => undefined),
      );
      return next;
    };

    const arrive = async (p: number) => {
      const first = nextOffset.get(p) ?? 0;
      const last = first + ROWS_PER_FILE - 1;
      nextOffset.set(p, last + 1);
      const name = rawName(p, first, last);
      const ids = `SELECT ${p}::BIGINT * 1000000000 + range AS id FROM range(${first}, ${last + 1})`;
      const tmp = await writeTmp(name, ids, arrivalWriter);
      await serially(p, async () => {
        const beforeMs = performance.now();
        await fs.rename(tmp, path.join(unitDir(root, TABLE, DT, `p${p}`), name));
        rows += ROWS_PER_FILE;
        published.push({ beforeMs, afterMs: performance.now(), rows });
        files.set(p, [...(files.get(p) ?? []), name]);
      });
    };
    let swaps = 0;
    const compact = (p: number) =>
      serially(p, async () => {
        const names = files.get(p) ?? [];
        if (names.length < 2) return;
        const liveDir = unitDir(root, TABLE, DT, `p${p}`);
        const first = Number(names[0]!.split('-')[2]);
        const last = Number(names[names.length - 1]!.split('-')[3]!.replace('.parquet', ''));
        const mergedName = rawName(p, first, last);
        const list = names.map((n) => sqlString(path.join(liveDir, n))).join(', ');
        const merged = `SELECT id FROM read_parquet([${list}], hive_partitioning = false)`;
        const mergedTmp = await writeTmp(mergedName, merged, compactionWriter);
        const stagingDir = swapStagingDir(root, TABLE, DT, `p${p}`, mergedName);
        expect(await swapPartitionFiles({ liveDir, stagingDir, replaced: names, mergedTmp, mergedName })).toBe(
          'swapped',
        );
        files.set(p, [mergedName]);
        swaps += 1;
        await vacuumSwaps(path.dirname(stagingDir), `p${p}`, 1_000, Date.now());
      });

    for (let p = 0; p < PARTITIONS; p++) await arrive(p);
    const readerDb = await DuckDBInstance.create(':memory:');
    const reader = await readerDb.connect();
    const sql = `SELECT count(*)::INTEGER AS c, count(DISTINCT id)::INTEGER AS d FROM read_parquet(${sqlString(glob())}, hive_partitioning = true) WHERE dt = DATE '${DT}'`;
    const answers: Answer[] = [];
    let stop = false;
    const readLoop = (async () => {
      while (!stop) {
        const t0 = performance.now();
        try {
          const [row] = (await reader.runAndReadAll(sql)).getRowObjectsJson() as { c: number; d: number }[];
          answers.push({ t0, t1: performance.now(), count: row!.c, distinct: row!.d });
        } catch (err) {
          answers.push({ t0, t1: performance.now(), error: (err as Error).message.split('\n')[0] });
        }
      }
    })();
    const deadline = Date.now() + 90_000;
    const enough = () => swaps >= 200 && answers.filter((a) => a.error === undefined).length >= 400;
    const arrivals = (async () => {
      for (let i = 0; !enough() && Date.now() < deadline; i++) await arrive(i % PARTITIONS);
    })();
    const compactions = (async () => {
      for (let i = 0; !enough() && Date.now() < deadline; i++) {
        await compact(i % PARTITIONS);
        // A compaction with nothing to merge settles in microtasks only: yield, or no I/O callback ever runs.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    await Promise.all([arrivals, compactions]);
    stop = true;
    await readLoop;

    let previous = -1;
    const problems: string[] = [];
    for (const a of answers) {
      if (a.error !== undefined) continue;
      const low = published.filter((p) => p.afterMs <= a.t0).at(-1)?.rows ?? 0;
      const high = published.filter((p) => p.beforeMs <= a.t1).at(-1)?.rows ?? 0;
      if (a.count !== a.distinct) problems.push(`rows twice: count ${a.count}, distinct ids ${a.distinct}`);
      if (a.count! < previous) problems.push(`count fell: ${previous} -> ${a.count}`);
      if (a.count! < low || a.count! > high)
        problems.push(`count ${a.count} outside what was published [${low}, ${high}]`);
      previous = a.count!;
    }
    const errors = answers.filter((a) => a.error !== undefined);
    console.log(
      `readerSafeSwap: ${swaps} swaps, ${published.length} arrivals, ${answers.length} queries, ` +
        `${answers.length - errors.length} answered, ${errors.length} failed (list→open spanning a swap), ${problems.length} wrong`,
    );
    expect(problems).toEqual([]);
    expect(swaps).toBeGreaterThanOrEqual(200);
    expect(answers.length - errors.length).toBeGreaterThanOrEqual(400);
    // The one failure a glob reader may meet: it listed a version and opened a replaced file after the swap.
    for (const e of errors) expect(e.error).toMatch(/Cannot open file .*No such file or directory/);

    // The end state: every row once, and the unit directories add no column (p<n> is not key=value).
    const [final] = (await reader.runAndReadAll(sql)).getRowObjectsJson() as { c: number; d: number }[];
    expect(final).toEqual({ c: rows, d: rows });
    const columns = (
      await reader.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(glob())}, hive_partitioning = true)`)
    )
      .getRowObjectsJson()
      .map((r) => `${r.column_name}:${r.column_type}`);
    expect(columns).toEqual(['id:BIGINT', 'dt:DATE']);
    reader.closeSync();
    readerDb.closeSync();
    arrivalWriter.closeSync();
    compactionWriter.closeSync();
  });

  it('a reader that listed the old version finds its paths gone after the swap; the kept version reads until the vacuum', async () => {
    const liveDir = unitDir(root, TABLE, DT, 'p0');
    await fs.mkdir(liveDir, { recursive: true });
    const names = [rawName(0, 0, 9), rawName(0, 10, 19), rawName(0, 20, 29)];
    for (const [i, name] of names.entries()) {
      const tmp = await writeTmp(name, `SELECT range::BIGINT AS id FROM range(${i * 10}, ${i * 10 + 10})`);
      await fs.rename(tmp, path.join(liveDir, name));
    }
    const listed = (
      (await writer.runAndReadAll(`SELECT file FROM glob(${sqlString(glob())})`)).getRowObjectsJson() as {
        file: string;
      }[]
    ).map((r) => r.file);
    expect(listed.map((f) => path.basename(f))).toEqual(names);
    const held = await fs.open(path.join(liveDir, names[0]!), 'r');

    const mergedName = rawName(0, 0, 19);
    const mergedTmp = await writeTmp(mergedName, 'SELECT range::BIGINT AS id FROM range(0, 20)');
    const stagingDir = swapStagingDir(root, TABLE, DT, 'p0', mergedName);
    await swapPartitionFiles({ liveDir, stagingDir, replaced: names.slice(0, 2), mergedTmp, mergedName }, Date.now());
    const count = async (files: string[]) => {
      const sql = `SELECT count(*)::INTEGER AS c FROM read_parquet([${files.map(sqlString).join(', ')}])`;
      return ((await writer.runAndReadAll(sql)).getRowObjectsJson() as { c: number }[])[0]!.c;
    };

    // Its listed paths now resolve into the new version, which no longer holds the replaced files, although they are
    // kept: an error, never a wrong answer.
    // (DuckDB checks an explicit list at bind time; a glob's file opened mid-scan fails with "Cannot open file".)
    await expect(count(listed)).rejects.toThrow(/No files found that match the pattern .*part-0-0+-0+9\.parquet/);
    expect(await count([glob()])).toBe(30);
    // The kept old version reads by its _swap paths until the vacuum, and an open handle beyond it (POSIX unlink).
    const kept = names.map((n) => path.join(stagingDir, n));
    expect(await count(kept)).toBe(30);
    expect(await vacuumSwaps(path.dirname(stagingDir), 'p0', 0, Date.now() + 1)).toEqual([stagingDir]);
    await expect(count(kept)).rejects.toThrow(/No files found that match the pattern/);
    const magic = Buffer.alloc(4);
    await held.read(magic, 0, 4, 0);
    await held.close();
    expect(magic.toString()).toBe('PAR1');
  });
});
