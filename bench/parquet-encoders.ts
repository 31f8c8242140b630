/**
 * Parquet encoder benchmark: `npm run bench:parquet`.
 *
 * Writes 1,000,000 clickstream rows as ten files of 100k rows with each encoder, on the calling
 * thread and through the encoder pool with 2 worker threads, and prints rows/s, MB written,
 * bytes/row and peak RSS. Each scenario runs in its own child process so that its peak RSS is
 * its own. Compiled with tsconfig.bench.json (src + bench → dist/bench), so the pool finds its
 * compiled worker next to it. Options: --rows N, --file-rows N, --row-group-rows N, --dir PATH.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ENCODER_NAMES, type EncoderName } from '../src/lake/encoder.js';
import { createEncoderPool } from '../src/lake/encoderPool.js';
import type { ColumnBatch } from '../src/lake/tables.js';
import { renderTable } from '../src/system/textTable.js';
import { generateBatches } from './parquet-encoders/clickstreamBatches.js';

interface Settings {
  rows: number;
  fileRows: number;
  rowGroupRows: number;
  dir: string;
}

interface ScenarioResult {
  encoder: EncoderName;
  threads: number;
  rows: number;
  files: number;
  seconds: number;
  bytes: number;
  rssAfterDataMB: number;
  peakRssMB: number;
}

const MB = 1_000_000;

function parseArgs(argv: string[]): { settings: Settings; child?: { encoder: EncoderName; threads: number } } {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const settings: Settings = {
    rows: Number(get('--rows') ?? 1_000_000),
    fileRows: Number(get('--file-rows') ?? 100_000),
    rowGroupRows: Number(get('--row-group-rows') ?? 50_000),
    dir: get('--dir') ?? os.tmpdir(),
  };
  const encoder = get('--child-encoder');
  if (encoder === undefined) return { settings };
  if (!(ENCODER_NAMES as readonly string[]).includes(encoder)) throw new Error(`unknown encoder ${encoder}`);
  return { settings, child: { encoder: encoder as EncoderName, threads: Number(get('--child-threads') ?? 0) } };
}

async function runScenario(settings: Settings, encoder: EncoderName, threads: number): Promise<ScenarioResult> {
  const batches = generateBatches(settings);
  const rssAfterDataMB = process.memoryUsage().rss / MB;
  const dir = await fs.mkdtemp(path.join(settings.dir, 'sdp-bench-parquet-'));
  const pool = createEncoderPool({ threads });
  try {
    const startMs = performance.now();
    const encodeFile = (batch: ColumnBatch, i: number) =>
      pool.encode({
        encoder,
        table: 'clickstream',
        path: path.join(dir, `part-${i}.parquet.tmp`),
        batch,
        rowGroupRows: settings.rowGroupRows,
      });
    let results: { bytes: number }[] = [];
    if (threads === 0) {
      // On the calling thread: one file after another.
      for (const [i, batch] of batches.entries()) results.push(await encodeFile(batch, i));
    } else {
      // Every file at once: the pool queues what its threads cannot take yet.
      results = await Promise.all(batches.map(encodeFile));
    }
    const seconds = (performance.now() - startMs) / 1000;
    return {
      encoder,
      threads,
      rows: batches.reduce((n, b) => n + b.rowCount, 0),
      files: batches.length,
      seconds,
      bytes: results.reduce((n, r) => n + r.bytes, 0),
      rssAfterDataMB,
      // maxRSS is in kilobytes and covers the worker threads too (same process).
      peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB,
    };
  } finally {
    await pool.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function runChild(encoder: EncoderName, threads: number): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const args = [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
      '--child-encoder',
      encoder,
      '--child-threads',
      String(threads),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as ScenarioResult)
        : reject(new Error(`scenario ${encoder}/${threads} exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const { settings, child } = parseArgs(process.argv.slice(2));
  if (child !== undefined) {
    process.stdout.write(JSON.stringify(await runScenario(settings, child.encoder, child.threads)));
    return;
  }
  console.log(
    `parquet encoders: ${settings.rows} clickstream rows, files of ${settings.fileRows} rows, row groups of ${settings.rowGroupRows}, SNAPPY`,
  );
  console.log(
    `node ${process.version}, ${os.cpus().length} cpus, load average before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  // Each scenario takes seconds: one line as it ends, the table once all have.
  const rows: string[][] = [];
  for (const encoder of ENCODER_NAMES) {
    for (const threads of [0, 2]) {
      const r = await runChild(encoder, threads);
      const where = r.threads === 0 ? 'inline' : String(r.threads);
      console.log(`${r.encoder} (${where}): ${r.rows} rows in ${r.seconds.toFixed(2)} s`);
      rows.push([
        r.encoder,
        where,
        String(Math.round(r.rows / r.seconds)),
        r.seconds.toFixed(2),
        (r.bytes / MB).toFixed(1),
        (r.bytes / r.rows).toFixed(1),
        r.rssAfterDataMB.toFixed(0),
        r.peakRssMB.toFixed(0),
      ]);
    }
  }
  const header = [
    'encoder',
    'threads',
    'rows/s',
    'seconds',
    'MB written',
    'bytes/row',
    'RSS after data MB',
    'peak RSS MB',
  ];
  console.log(`\n${renderTable(header, rows, { rightAligned: header.map((_, i) => i >= 1) })}`);
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
