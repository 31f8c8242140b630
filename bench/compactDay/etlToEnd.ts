/**
 * `etl` run over a backlog to its end, for the day benches (compactDay.ts, verifyDay.ts): until the checkpoint store
 * holds every last offset, then SIGTERM.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config/schema.js';
import { createKafkaClient } from '../../src/kafka/client.js';
import { createLogger } from '../../src/log/logger.js';
import { sleep } from '../../src/system/processes.js';
import { readJournal } from '../chaos/checkpointJournal.js';
import { procStatusKb } from '../procStats.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');
const STREAMS = ['clickstream', 'iot'] as const;

/** Highest offset per partition of a topic (the end offset minus one; kcat writes no transaction markers). */
async function lastOffsets(config: Config, topic: string): Promise<Map<number, bigint>> {
  const admin = createKafkaClient(config, createLogger({ level: 'warn', format: 'json', fd: 2 })).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.filter((o) => BigInt(o.high) > 0n).map((o) => [o.partition, BigInt(o.high) - 1n]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * `etl` over the backlog until the checkpoint store holds every last offset (every raw writer, and the window
 * aggregator for clickstream, as test/integration/helpers/etlToEnd.ts waits), a few seconds more so that idle
 * partitions emit their windows, then SIGTERM. Returns seconds to caught up and peak RSS.
 */
export async function etlToEnd(config: Config, env: Record<string, string>, workDir: string) {
  const last = {
    clickstream: await lastOffsets(config, config.topics.clickstream),
    iot: await lastOffsets(config, config.topics.iot),
  };
  const startMs = Date.now();
  const log = createWriteStream(path.join(workDir, 'etl.log'));
  const child = spawn(process.execPath, [MAIN, 'etl'], {
    cwd: PROJECT_ROOT,
    // The wait below reads the one-process aggregator's offsets from the store: that mode, never `auto`.
    env: { ...process.env, ...env, SDP_ETL__WINDOWS: 'process' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let running = true;
  void exited.then(() => (running = false));
  const pid = child.pid!;
  let peakKb = 0;
  for (;;) {
    if (!running) throw new Error(`etl exited early: see ${path.join(workDir, 'etl.log')} (--keep keeps it)`);
    peakKb = Math.max(peakKb, procStatusKb(pid, 'VmHWM') ?? 0);
    const journal = readJournal(env.SDP_STORAGE__CHECKPOINT_ROOT!);
    const caughtUp =
      journal !== undefined &&
      STREAMS.every((stream) =>
        [...last[stream]].every(([p, o]) => {
          const topic = config.topics[stream];
          if ((journal.rawOffsets.get(topic)?.get(p) ?? -1n) < o) return false;
          return stream !== 'clickstream' || (journal.aggOffsets.get(topic)?.get(p) ?? -1n) >= o;
        }),
      );
    if (caughtUp) break;
    await sleep(500);
  }
  const seconds = (Date.now() - startMs) / 1000;
  await sleep(5_000);
  peakKb = Math.max(peakKb, procStatusKb(pid, 'VmHWM') ?? 0);
  child.kill('SIGTERM');
  const exit = await exited;
  if (exit.code !== 0)
    throw new Error(`etl exited ${JSON.stringify(exit)} after SIGTERM: see ${path.join(workDir, 'etl.log')}`);
  return { seconds, peakRssMb: peakKb / 1024 };
}
