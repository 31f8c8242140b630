/**
 * `npm run bench:members`: how fast 1, 2, 3 … ETL members of one group catch up on the same backlog, and what
 * each costs in RSS (architecture.md, "Growing past one machine"). For each member count: fresh topics and group,
 * a kcat-written backlog, N `etl` processes started together on one lake, timed from the first partition read to
 * the last offset durable in some member's store (polled every 200 ms), peak RSS per member from /proc.
 *
 * On a machine with fewer cores than members, more members are not faster: they share the cores with each other
 * and the brokers. The numbers say how much the per-member overhead costs there.
 *
 * Options: --members 1,2,3 (the counts), --backlog N (events, 2/3 clickstream), --seed N.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { windowTopicNames } from '../src/kafka/admin/windowTopics.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { createLogger } from '../src/log/logger.js';
import { sleep } from '../src/system/processes.js';
import { highestOffsets, readJournal, type JournalView } from './chaos/checkpointJournal.js';
import { PlatformProcess } from './chaos/platformProcess.js';
import { procStatusKb, randomSuffix } from './procStats.js';
import { kcatProduce, writeBacklogFile } from './scaleOut/backlog.js';
import { parseMemberLog } from './scaleOut/memberLogs.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');

interface Args {
  members: number[];
  backlog: number;
  seed: number;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const members = (get('--members') ?? '1,2,3').split(',').map(Number);
  const backlog = Number(get('--backlog') ?? 600_000);
  const seed = Number(get('--seed') ?? 42);
  if (members.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(backlog) || backlog < 1) {
    console.error('usage: npm run bench:members -- [--members 1,2,3] [--backlog N] [--seed N]');
    process.exit(2);
  }
  return { members, backlog, seed };
}

const say = (line: string): void => console.log(`members: ${line}`);

/** One sweep step: N members on a fresh backlog; events/s from the first partition read to the last durable. */
async function catchUp(n: number, args: Args): Promise<{ eventsPerS: number; seconds: number; rssMb: number[] }> {
  const runId = `members-${n}-${randomSuffix()}`;
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sdp-members-bench-'));
  const env: Record<string, string> = {
    SDP_TOPICS__CLICKSTREAM: `${runId}-clickstream`,
    SDP_TOPICS__IOT: `${runId}-iot`,
    SDP_ETL__CONSUMER_GROUP: runId,
    SDP_STORAGE__DATALAKE_ROOT: path.join(workDir, 'lake'),
    SDP_UI__STATUS_PORT: '0',
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
  };
  const { config } = loadConfig(path.join(PROJECT_ROOT, 'config.yml'), { ...process.env, ...env });
  const topics = { clickstream: config.topics.clickstream, iot: config.topics.iot };
  const bootstrap = config.kafka.bootstrap_servers.join(',');
  const admin = createKafkaClient(config, createLogger({ level: 'warn', format: 'json', fd: 2 })).admin();
  await admin.connect();
  const members: PlatformProcess[] = [];
  try {
    await admin.createTopics({
      topics: [topics.clickstream, topics.iot].map((topic) => ({
        topic,
        numPartitions: config.kafka.partitions,
        replicationFactor: config.kafka.replication_factor,
      })),
    });
    // A topic just created may not be known to every broker yet: wait until its offsets answer.
    for (let attempt = 0; ; attempt++) {
      try {
        for (const topic of [topics.clickstream, topics.iot]) await admin.fetchTopicOffsets(topic);
        break;
      } catch (err) {
        if (attempt >= 50) throw err;
        await sleep(200);
      }
    }
    const clicks = Math.round((args.backlog * 2) / 3);
    for (const [stream, count] of [
      ['clickstream', clicks],
      ['iot', args.backlog - clicks],
    ] as const) {
      const file = path.join(workDir, `${stream}.tsv`);
      await writeBacklogFile(file, { stream, count, seed: args.seed, endMs: Date.now(), spanMs: 600_000 });
      await kcatProduce(bootstrap, topics[stream], file);
      rmSync(file, { force: true });
    }
    const last = new Map<string, Map<number, bigint>>();
    for (const topic of [topics.clickstream, topics.iot])
      last.set(
        topic,
        new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high) - 1n] as const)),
      );
    for (let i = 1; i <= n; i++) {
      const member = new PlatformProcess(
        MAIN,
        ['etl'],
        { ...env, SDP_STORAGE__CHECKPOINT_ROOT: path.join(workDir, `checkpoints-${i}`) },
        PROJECT_ROOT,
        path.join(workDir, `member-${i}.log`),
        () => undefined,
        `member ${i}`,
      );
      members.push(member);
      member.start();
    }
    const peakKb = new Array<number>(n).fill(0);
    const caughtUp = (view: JournalView): boolean =>
      [...last].every(([topic, ends]) =>
        [...ends].every(([p, end]) => (view.rawOffsets.get(topic)?.get(p) ?? -1n) >= end),
      );
    const deadline = Date.now() + 600_000;
    for (;;) {
      members.forEach((m, i) => {
        const kb = m.pid !== undefined ? procStatusKb(m.pid, 'VmRSS') : undefined;
        if (kb !== undefined) peakKb[i] = Math.max(peakKb[i]!, kb);
      });
      const views = members
        .map((_, i) => readJournal(path.join(workDir, `checkpoints-${i + 1}`)))
        .filter((v): v is JournalView => v !== undefined);
      if (views.length > 0 && caughtUp(highestOffsets(views))) break;
      if (Date.now() > deadline) throw new Error(`${n} members: not caught up in 600 s`);
      await sleep(200);
    }
    const doneMs = Date.now();
    const firstRead = Math.min(
      ...members.map((_, i) => {
        const text = readFileSync(path.join(workDir, `member-${i + 1}.log`), 'utf8');
        const read = parseMemberLog(text, i + 1).find((e) => e.kind === 'reading');
        return read?.atMs ?? Number.POSITIVE_INFINITY;
      }),
    );
    const seconds = (doneMs - firstRead) / 1000;
    return {
      eventsPerS: Math.round(args.backlog / seconds),
      seconds,
      rssMb: peakKb.map((kb) => Math.round(kb / 1024)),
    };
  } finally {
    for (const m of members) await m.stop().catch(() => undefined);
    const existing = new Set(await admin.listTopics().catch(() => [] as string[]));
    const internal = Object.values(windowTopicNames(runId)).filter((t) => existing.has(t));
    await admin.deleteTopics({ topics: [topics.clickstream, topics.iot, ...internal] }).catch(() => undefined);
    await admin.disconnect();
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  say(`backlog=${args.backlog} members=${args.members.join(',')} cores=${os.cpus().length}`);
  for (const n of args.members) {
    const load = os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
    const r = await catchUp(n, args);
    say(
      `${n} member(s): ${r.eventsPerS} events/s (${r.seconds.toFixed(1)} s from the first partition read), ` +
        `peak RSS per member ${r.rssMb.join(', ')} MB; load average before ${load}`,
    );
  }
}

await main();
