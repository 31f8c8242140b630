/**
 * `npm run bench:verify-day`: `verify`'s wall time and peak RSS on a day of the platform at its default rates
 * (architecture.md, "Verifying the lake"), several builds of dist/main.js interleaved.
 *
 *   --build DIR [--scale F] [--seed N]   a day's backlog into fresh random topics, `etl` over it into DIR/lake (as
 *                                        bench:compact-day, compactDay/), the topics and DIR kept; DIR/env.json
 *                                        holds the environment that points the CLI at them.
 *   --dir DIR --main A.js[,B.js…] [--runs N]   `verify` N times (3) with each main, interleaved, under
 *                                        `/usr/bin/time -v`: exit, wall s, peak RSS MB, load average, then median
 *                                        and range per main. Optional --compact runs `lake compact` first.
 *   --dir DIR --delete                    deletes the topics and DIR.
 * Run it under `flock /tmp/sdp-bench.lock` on a shared machine.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { createLogger } from '../src/log/logger.js';
import { DAY_MS, produceDay } from './compactDay/dayBacklog.js';
import { etlToEnd } from './compactDay/etlToEnd.js';
import { createInputTopics } from './compactDay/inputTopics.js';
import { timedRun } from './compactDay/timedRun.js';
import { randomSuffix } from './procStats.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const say = (line: string): void => console.log(`verify-day: ${line}`);
const load = (): string =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function configOf(env: Record<string, string>) {
  return loadConfig(path.join(PROJECT_ROOT, 'config.yml'), { ...process.env, ...env }).config;
}

async function build(dir: string, scale: number, seed: number): Promise<void> {
  const runId = `verify-day-${randomSuffix()}`;
  mkdirSync(dir, { recursive: true });
  const env: Record<string, string> = {
    SDP_TOPICS__CLICKSTREAM: `${runId}-clickstream`,
    SDP_TOPICS__IOT: `${runId}-iot`,
    SDP_ETL__CONSUMER_GROUP: runId,
    SDP_STORAGE__DATALAKE_ROOT: path.join(dir, 'lake'),
    SDP_STORAGE__CHECKPOINT_ROOT: path.join(dir, 'checkpoints'),
    SDP_SERVICES__RUN_DIR: path.join(dir, 'run'),
    SDP_UI__STATUS_PORT: '0',
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
    // The day's lake as the ETL writes it: the owners' compaction inside the ETL would merge it while it is built.
    SDP_LAKE__COMPACTION: 'false',
  };
  writeFileSync(path.join(dir, 'env.json'), JSON.stringify(env, null, 2));
  const config = configOf(env);
  const rates = config.data_generator.events_per_second;
  const partitions = config.kafka.partitions;
  const maxFileRows = Math.max(1, Math.round((rates.clickstream * 60 * scale) / partitions));
  const dayStartMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const admin = createKafkaClient(config, createLogger({ level: 'warn', format: 'json', fd: 2 })).admin();
  await admin.connect();
  try {
    await createInputTopics(admin, config);
  } finally {
    await admin.disconnect();
  }
  const bootstrap = config.kafka.bootstrap_servers.join(',');
  for (const [i, stream] of (['clickstream', 'iot'] as const).entries()) {
    const count = Math.round(rates[stream] * 86_400 * scale);
    const t0 = Date.now();
    await produceDay(bootstrap, config.topics[stream], {
      stream,
      count,
      seed: seed + i,
      dayStartMs,
      batchMessages: Math.max(1, Math.floor(maxFileRows / 2)),
    });
    say(`backlog: ${count} ${stream} events in ${((Date.now() - t0) / 1000).toFixed(1)} s (load ${load()})`);
  }
  const etl = await etlToEnd(
    config,
    { ...env, SDP_ETL__MAX_FILE_ROWS: String(maxFileRows), SDP_ETL__IDLE_TIMEOUT: '2s', MALLOC_ARENA_MAX: '2' },
    dir,
  );
  say(`etl: caught up in ${etl.seconds.toFixed(1)} s, peak RSS ${etl.peakRssMb.toFixed(0)} MB; lake kept in ${dir}`);
}

async function runs(dir: string, mains: string[], n: number, compact: boolean): Promise<void> {
  const env = { ...process.env, ...(JSON.parse(readFileSync(path.join(dir, 'env.json'), 'utf8')) as object) };
  if (compact) {
    const r = await timedRun(process.execPath, [path.resolve(mains[0]!), 'lake', 'compact'], PROJECT_ROOT, env);
    say(`lake compact: exit ${r.code} in ${r.seconds.toFixed(1)} s`);
  }
  const results = new Map<string, Array<{ s: number; mb: number }>>(mains.map((m) => [m, []]));
  for (let i = 0; i < n; i++)
    for (const main of mains) {
      const before = load();
      const r = await timedRun(process.execPath, [path.resolve(main), 'verify'], PROJECT_ROOT, env);
      say(
        `${main} run ${i + 1}: exit ${r.code}, ${r.seconds.toFixed(1)} s, peak RSS ${r.peakRssMb?.toFixed(0)} MB (load ${before}): ${r.stdout.trim().split('\n').at(-1)}`,
      );
      if (r.code !== 0) say(`${r.stdout.slice(-3000)}${r.stderr.slice(-2000)}`);
      results.get(main)!.push({ s: r.seconds, mb: r.peakRssMb ?? Number.NaN });
    }
  for (const [main, rs] of results) {
    const s = rs.map((r) => r.s);
    const mb = rs.map((r) => r.mb);
    say(
      `${main}: wall median ${median(s).toFixed(1)} s (${Math.min(...s).toFixed(1)}–${Math.max(...s).toFixed(1)}), peak RSS median ${median(mb).toFixed(0)} MB (${Math.min(...mb).toFixed(0)}–${Math.max(...mb).toFixed(0)})`,
    );
  }
}

async function remove(dir: string): Promise<void> {
  const env = JSON.parse(readFileSync(path.join(dir, 'env.json'), 'utf8')) as Record<string, string>;
  const config = configOf(env);
  const admin = createKafkaClient(config, createLogger({ level: 'warn', format: 'json', fd: 2 })).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [config.topics.clickstream, config.topics.iot] });
  } finally {
    await admin.disconnect();
  }
  rmSync(dir, { recursive: true, force: true });
  say(`deleted the topics and ${dir}`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const buildDir = flag(argv, '--build');
  const dir = flag(argv, '--dir');
  if (buildDir !== undefined) {
    if (existsSync(path.join(buildDir, 'env.json'))) throw new Error(`${buildDir} holds a lake already`);
    await build(path.resolve(buildDir), Number(flag(argv, '--scale') ?? 1), Number(flag(argv, '--seed') ?? 20261205));
  } else if (dir !== undefined && argv.includes('--delete')) {
    await remove(dir);
  } else if (dir !== undefined && flag(argv, '--main') !== undefined) {
    await runs(dir, flag(argv, '--main')!.split(','), Number(flag(argv, '--runs') ?? 3), argv.includes('--compact'));
  } else {
    console.error(
      'usage: bench:verify-day -- --build DIR [--scale F] | --dir DIR --main A.js[,B.js] [--runs N] [--compact] | --dir DIR --delete',
    );
    process.exit(2);
  }
}

await main();
