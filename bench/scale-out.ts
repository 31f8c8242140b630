/**
 * `npm run check:scale-out`: several ETL members of one consumer group on one lake (architecture.md, "Growing
 * past one machine"), under load and faults, checked against an independent read of the topics.
 *
 * On the configured cluster (config.yml and SDP_* overrides), with topics, group, lake and checkpoint stores of
 * its own (random names, data under /tmp; the topics are deleted at the end unless --keep):
 *  1. kcat writes a backlog (`--backlog`, 2:1 clickstream:IoT) of the generators' events with out-of-order event
 *     times (scaleOut/backlog.ts) to both topics (4 partitions);
 *  2. three `main.js etl` members (own checkpoint store, status port, client id and log each) read it; the time
 *     they take is the backlog's throughput with three members;
 *  3. `main.js generate` produces at `--clickstream-rate` + `--iot-rate` (14,000 + 6,000 events/s) for `--minutes`
 *     (5), while (scaleOut/timeline.ts) member 1 is killed -9, member 2 is frozen with SIGSTOP for `--freeze`
 *     seconds (60) and then continued, both topics are raised to 6 partitions (`main.js topics alter` with
 *     SDP_KAFKA__PARTITIONS=6; kcat then writes a few events straight into the new partitions, as the producer's
 *     metadata may be minutes old) and a fourth member starts;
 *  4. the producer gets SIGTERM, the members catch up (the highest durable offset over their stores reaches the
 *     last committed record kcat reads, read_committed) and get SIGTERM: every one must exit 0.
 *
 * Checks (exit 0 only when all hold): per raw table, DuckDB's rows and distinct ids (clickstream event ids; IoT
 * whole readings) equal kcat's read_committed count and distinct ids, every committed event exactly once (the
 * chaos run's multiset comparison), the files' offset ranges cover every committed record of every partition once
 * (bench/lakeRanges.ts), no tmp file left, the producer and every member exit 0. The members run the windows across
 * members (etl.windows: members, architecture.md): `clickstream_agg` holds each (minute, url) once, pv never above the
 * raw count, and the raw clickstream rows − emitted page views − page views still open (the stage-2 snapshots in
 * `<group>-pv-state` plus stage-1 records no task applied yet, scaleOut/stage2View.ts) equal the late page views the
 * snapshots count; the windows whose pv differs from the raw count are reported (the backlog's late events).
 *
 * Printed besides (from the members' logs, scaleOut/memberLogs.ts, and /proc): the failover time (kill -9 → a
 * partition of the killed member read again on another member, and all of them), the same for the frozen member,
 * the pause of the other members at each leave and join (kafkajs's `The group is rebalancing` → the member's next
 * `partitions assigned` of every topic), when the new partitions are read, the events read per second with each
 * number of working members (their `etl metrics`) and RSS per member (median and peak of a sample every 2 s, VmHWM).
 *
 * Options: --minutes M (5) --freeze S (60) --backlog N (300000) --clickstream-rate N (14000) --iot-rate N (6000)
 * --seed N --catch-up-timeout S (1200) --keep (topics, logs, lake and stores kept).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { createLogger } from '../src/log/logger.js';
import { sleep } from '../src/system/processes.js';
import { highestOffsets, readJournal, type JournalView } from './chaos/checkpointJournal.js';
import { readCommitted } from './chaos/independentRead.js';
import { LakeCheck } from './chaos/lakeCheck.js';
import { PlatformProcess } from './chaos/platformProcess.js';
import { listLakeFiles } from '../src/lake/lakeFiles.js';
import { procStatusKb, randomSuffix } from './procStats.js';
import { kcatProduce, writeBacklogFile } from './scaleOut/backlog.js';
import { failover, type MemberEvent, parseMemberLog, rebalancePauses, throughput } from './scaleOut/memberLogs.js';
import { planScaleOut } from './scaleOut/timeline.js';
import { readStage2View } from './scaleOut/stage2View.js';
import { repartitionTopicName } from '../src/windows/repartitionRecords.js';
import { stateTopicName } from '../src/windows/stage2Windows.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The platform as an operator runs it (`npm run build`), as in the chaos run. */
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');
const FIRST_MEMBERS = 3;
const PARTITIONS_BEFORE = 4;
const PARTITIONS_AFTER = 6;
/** Events kcat writes into each new partition after the alter. */
const NEW_PARTITION_EVENTS = 2_000;

interface Args {
  minutes: number;
  freezeS: number;
  backlog: number;
  clickstreamRate: number;
  iotRate: number;
  seed: number;
  catchUpTimeoutS: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Args {
  const known = new Set([
    '--minutes',
    '--freeze',
    '--backlog',
    '--clickstream-rate',
    '--iot-rate',
    '--seed',
    '--catch-up-timeout',
    '--keep',
  ]);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a)) throw new Error(`unknown option ${a} (known: ${[...known].join(' ')})`);
  const num = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : undefined;
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, not ${String(v)}`);
    return n;
  };
  return {
    minutes: num('--minutes', 5),
    freezeS: num('--freeze', 60),
    backlog: Math.round(num('--backlog', 300_000)),
    clickstreamRate: num('--clickstream-rate', 14_000),
    iotRate: num('--iot-rate', 6_000),
    seed: num('--seed', Math.floor(Math.random() * 2 ** 31)),
    catchUpTimeoutS: num('--catch-up-timeout', 1_200),
    keep: argv.includes('--keep'),
  };
}

function say(line: string): void {
  process.stdout.write(`scale-out: ${line}\n`);
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

async function sleepUntil(ms: number): Promise<void> {
  const wait = ms - Date.now();
  if (wait > 0) await sleep(wait);
}

async function runCli(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`main.js ${args.join(' ')} exited ${String(code)}:\n${out.slice(-3000)}`)),
    );
  });
}

/** What member `member`'s log says so far (scaleOut/memberLogs.ts). */
function memberEvents(workDir: string, member: number): MemberEvent[] {
  const file = path.join(workDir, `member-${member}.log`);
  return existsSync(file) ? parseMemberLog(readFileSync(file, 'utf8'), member) : [];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const timeline = planScaleOut(args.minutes * 60_000, args.freezeS * 1000);
  const suffix = randomSuffix();
  const runId = `scale-out-${suffix}`;
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sdp-scale-out-'));
  const lakeRoot = path.join(workDir, 'lake');
  const env: Record<string, string> = {
    SDP_TOPICS__CLICKSTREAM: `${runId}-clickstream`,
    SDP_TOPICS__IOT: `${runId}-iot`,
    SDP_KAFKA__PARTITIONS: String(PARTITIONS_BEFORE),
    SDP_ETL__CONSUMER_GROUP: runId,
    SDP_ETL__WINDOWS: 'members',
    SDP_DATA_GENERATOR__TRANSACTIONAL_ID_PREFIX: runId,
    SDP_STORAGE__DATALAKE_ROOT: lakeRoot,
    SDP_UI__STATUS_PORT: '0',
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
    // As `make up` starts the platform (services/platformRuntime.ts).
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
  };
  const { config } = loadConfig(path.join(PROJECT_ROOT, 'config.yml'), { ...process.env, ...env });
  const bootstrap = config.kafka.bootstrap_servers.join(',');
  const topics = { clickstream: config.topics.clickstream, iot: config.topics.iot };
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  say(
    `seed=${args.seed} minutes=${args.minutes} freeze=${args.freezeS}s backlog=${args.backlog} rates=${args.clickstreamRate}+${args.iotRate}/s ` +
      `topics=${topics.clickstream},${topics.iot} group=${runId} work_dir=${workDir} bootstrap=${bootstrap}`,
  );
  say(
    `timeline (s after the producer starts): kill -9 member 1 at ${timeline.killAtMs / 1000}, SIGSTOP member 2 at ${timeline.freezeAtMs / 1000}, ` +
      `SIGCONT at ${timeline.thawAtMs / 1000}, ${PARTITIONS_BEFORE} → ${PARTITIONS_AFTER} partitions at ${timeline.alterAtMs / 1000}, member 4 starts at ${timeline.joinAtMs / 1000}, producer stops at ${timeline.loadMs / 1000}`,
  );

  const members: PlatformProcess[] = [];
  const addMember = (): PlatformProcess => {
    const i = members.length + 1;
    const member = new PlatformProcess(
      MAIN,
      ['etl'],
      {
        ...env,
        SDP_STORAGE__CHECKPOINT_ROOT: path.join(workDir, `checkpoints-${i}`),
        SDP_KAFKA__CLIENT_ID: `sdp-member-${i}`,
      },
      PROJECT_ROOT,
      path.join(workDir, `member-${i}.log`),
      say,
      `member ${i}`,
    );
    members.push(member);
    return member;
  };
  const producer = new PlatformProcess(
    MAIN,
    ['generate', '--clickstream-rate', String(args.clickstreamRate), '--iot-rate', String(args.iotRate)],
    env,
    PROJECT_ROOT,
    path.join(workDir, 'generate.log'),
    say,
    'generate',
  );
  /** Durable offsets: the highest over the members' stores (a partition's commits move with it). */
  const durable = (): JournalView =>
    highestOffsets(
      members
        .map((_, i) => readJournal(path.join(workDir, `checkpoints-${i + 1}`)))
        .filter((v): v is JournalView => v !== undefined),
    );
  const behindOf = (
    view: JournalView,
    last: { clickstream: Map<number, bigint>; iot: Map<number, bigint> },
  ): string[] =>
    (['clickstream', 'iot'] as const).flatMap((stream) =>
      [...last[stream]]
        .filter(([p, o]) => (view.rawOffsets.get(topics[stream])?.get(p) ?? -1n) < o)
        .map(([p]) => `${stream} p${p}`),
    );
  const waitCaughtUp = async (
    last: { clickstream: Map<number, bigint>; iot: Map<number, bigint> },
    what: string,
  ): Promise<number> => {
    const startMs = Date.now();
    const deadline = startMs + args.catchUpTimeoutS * 1000;
    for (;;) {
      const lagging = behindOf(durable(), last);
      if (lagging.length === 0) return Date.now();
      if (Date.now() > deadline)
        throw new Error(`${what}: not caught up within ${args.catchUpTimeoutS} s: still behind: ${lagging.join(', ')}`);
      await sleep(1_000);
    }
  };

  let ok = false;
  let rssTimer: NodeJS.Timeout | undefined;
  const stopEverything = async (): Promise<void> => {
    if (rssTimer) clearInterval(rssTimer);
    for (const member of members) member.thaw();
    await producer.stop().catch(() => undefined);
    for (const member of members) await member.stop().catch(() => undefined);
  };
  const onSignal = (): void => {
    say('interrupted; cleaning up');
    void stopEverything().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const failures: string[] = [];

  try {
    await runCli(['topics', 'create'], env);

    // 1. The backlog, written by kcat.
    const backlogStartMs = Date.now();
    const clickBacklog = Math.round((args.backlog * 2) / 3);
    for (const [stream, count] of [
      ['clickstream', clickBacklog],
      ['iot', args.backlog - clickBacklog],
    ] as const) {
      const file = path.join(workDir, `backlog-${stream}.tsv`);
      await writeBacklogFile(file, { stream, count, seed: args.seed, endMs: Date.now(), spanMs: 600_000 });
      await kcatProduce(bootstrap, topics[stream], file);
      rmSync(file, { force: true });
    }
    const admin = createKafkaClient(config, logger).admin();
    await admin.connect();
    const endsOf = async (topic: string): Promise<Map<number, bigint>> =>
      new Map(
        (await admin.fetchTopicOffsets(topic))
          .filter((o) => BigInt(o.high) > 0n)
          .map((o) => [o.partition, BigInt(o.high) - 1n] as [number, bigint]),
      );
    const backlogLast = { clickstream: await endsOf(topics.clickstream), iot: await endsOf(topics.iot) };
    say(`backlog: ${args.backlog} events written by kcat in ${seconds(Date.now() - backlogStartMs)}`);

    // 2. Three members read it.
    for (let i = 0; i < FIRST_MEMBERS; i++) addMember().start();
    const membersStartMs = Date.now();
    const rss = new Map<number, number[]>();
    rssTimer = setInterval(() => {
      members.forEach((member, i) => {
        const kb = member.running && member.pid !== undefined ? procStatusKb(member.pid, 'VmRSS') : undefined;
        if (kb === undefined) return;
        const samples = rss.get(i + 1) ?? [];
        samples.push(kb);
        rss.set(i + 1, samples);
      });
    }, 2_000);
    const backlogDoneMs = await waitCaughtUp(backlogLast, 'the backlog');
    const firstReadingMs = Math.min(
      ...members.map((_, i) => {
        const e = memberEvents(workDir, i + 1).find((x) => x.kind === 'reading');
        return e?.atMs ?? Number.POSITIVE_INFINITY;
      }),
    );
    const backlogS = (backlogDoneMs - firstReadingMs) / 1000;
    say(
      `backlog: ${FIRST_MEMBERS} members in the lake ${seconds(backlogDoneMs - membersStartMs)} after they started, ` +
        `${backlogS.toFixed(1)} s after the first partition was read: ${Math.round(args.backlog / backlogS)} events/s with ${FIRST_MEMBERS} members`,
    );

    // 3. The producer, and the faults on the timeline.
    producer.start();
    const t0 = Date.now();
    const moments: Record<'kill' | 'freeze' | 'thaw' | 'alter' | 'join' | 'end', number> = {
      kill: 0,
      freeze: 0,
      thaw: 0,
      alter: 0,
      join: 0,
      end: 0,
    };
    const t = (): string => `t=${Math.round((Date.now() - t0) / 1000)}s`;
    const steps: Array<{ atMs: number; run: () => Promise<void> }> = [
      {
        atMs: timeline.killAtMs,
        run: async () => {
          moments.kill = Date.now();
          await members[0]!.kill9();
          say(`${t()} kill -9 member 1 (pid ${String(members[0]!.pid)})`);
        },
      },
      {
        atMs: timeline.freezeAtMs,
        run: async () => {
          moments.freeze = Date.now();
          members[1]!.freeze();
          say(`${t()} SIGSTOP member 2 (pid ${String(members[1]!.pid)}) for ${args.freezeS} s`);
        },
      },
      {
        atMs: timeline.thawAtMs,
        run: async () => {
          moments.thaw = Date.now();
          members[1]!.thaw();
          say(`${t()} SIGCONT member 2`);
        },
      },
      {
        atMs: timeline.alterAtMs,
        run: async () => {
          moments.alter = Date.now();
          const out = await runCli(['topics', 'alter'], { ...env, SDP_KAFKA__PARTITIONS: String(PARTITIONS_AFTER) });
          say(
            `${t()} topics alter: ${
              out
                .trim()
                .split('\n')
                .filter((l) => l.startsWith('raised')).length
            } topics raised to ${PARTITIONS_AFTER} partitions`,
          );
          for (const stream of ['clickstream', 'iot'] as const)
            for (let p = PARTITIONS_BEFORE; p < PARTITIONS_AFTER; p++) {
              const file = path.join(workDir, `new-${stream}-${p}.tsv`);
              await writeBacklogFile(file, {
                stream,
                count: NEW_PARTITION_EVENTS,
                seed: args.seed + p,
                endMs: Date.now(),
                spanMs: 60_000,
              });
              await kcatProduce(bootstrap, topics[stream], file, p);
              rmSync(file, { force: true });
            }
          say(`${t()} kcat wrote ${NEW_PARTITION_EVENTS} events into each new partition`);
        },
      },
      {
        atMs: timeline.joinAtMs,
        run: async () => {
          moments.join = Date.now();
          addMember().start();
          say(`${t()} member 4 started`);
        },
      },
    ].sort((a, b) => a.atMs - b.atMs);
    // Each step at its own moment: the alter and its kcat writes must not delay the thaw or the join.
    await Promise.all(
      steps.map(async (step) => {
        await sleepUntil(t0 + step.atMs);
        await step.run();
      }),
    );
    await sleepUntil(t0 + timeline.loadMs);

    // 4. The producer stops; the members catch up and stop.
    moments.end = Date.now();
    const producerExit = await producer.terminate(config.etl.shutdown_timeout + 30_000);
    await producer.stop();
    say(`${t()} producer stopped: exit ${String(producerExit.code)} after ${producerExit.elapsedMs} ms`);
    if (producerExit.code !== 0) failures.push(`the producer exited ${String(producerExit.code)}`);
    const check = await LakeCheck.open(path.join(workDir, 'check.duckdb'), lakeRoot);
    try {
      const last = { clickstream: new Map<number, bigint>(), iot: new Map<number, bigint>() };
      const kcatCounts = { clickstream: 0, iot: 0 };
      for (const stream of ['clickstream', 'iot'] as const) {
        const file = path.join(workDir, `${stream}.ndjson`);
        await readCommitted(bootstrap, topics[stream], file, 1_800_000);
        last[stream] = await check.loadInput(stream, file);
        kcatCounts[stream] = await check.scalar(`SELECT count(*) FROM in_${stream}`);
        if (!args.keep) rmSync(file, { force: true });
      }
      const caughtUpMs = await waitCaughtUp(last, 'the members after the load');
      say(`caught up ${seconds(caughtUpMs - moments.end)} after the producer stopped`);
      // Every partition idle, the marks sent and applied: the last windows close before the members stop.
      const settleMs = config.etl.idle_timeout + 3 * config.etl.checkpoint_interval;
      say(
        `waiting ${seconds(settleMs)} (etl.idle_timeout + 3 × etl.checkpoint_interval) for the last windows to close`,
      );
      await sleep(settleMs);
      const peaks = members.map((m) => (m.running && m.pid !== undefined ? procStatusKb(m.pid, 'VmHWM') : undefined));
      if (rssTimer) clearInterval(rssTimer);
      const live = members.filter((m) => m.running);
      const exits = await Promise.all(live.map((m) => m.terminate(config.etl.shutdown_timeout + 30_000)));
      for (const m of live) await m.stop();
      live.forEach((m, i) => {
        const exit = exits[i]!;
        say(`${m.name} SIGTERM: exit ${String(exit.code)} after ${exit.elapsedMs} ms`);
        if (exit.code !== 0) failures.push(`${m.name} exited ${String(exit.code ?? exit.signal)} after SIGTERM`);
      });

      // Checks.
      for (const stream of ['clickstream', 'iot'] as const) {
        const verdict = await check.compareStream(stream);
        const counts = await check.distinctCounts(stream);
        const ranges = await check.checkRanges(stream, topics[stream]);
        const partitions = [...last[stream].keys()].sort((a, b) => a - b);
        say(
          `${stream}: kcat read_committed rows=${counts.inputRows} distinct=${counts.inputDistinct} partitions=${partitions.join(',')}; ` +
            `lake rows=${counts.lakeRows} distinct=${counts.lakeDistinct}; missing=${verdict.missing} duplicates=${verdict.duplicates} uncommitted=${verdict.uncommitted}; ` +
            `ranges=${ranges.ranges} range_problems=${ranges.problems.length} bad_names=${ranges.badNames.length} tmp_files=${ranges.tmpFiles.length}`,
        );
        for (const e of verdict.examples.slice(0, 5)) say(`  ${e}`);
        for (const p of ranges.problems.slice(0, 10)) say(`  ${stream} p${p.partition}: ${p.problem}`);
        for (const f of [...ranges.badNames, ...ranges.tmpFiles].slice(0, 10)) say(`  ${f}`);
        if (counts.lakeRows !== counts.inputRows || counts.lakeRows !== kcatCounts[stream])
          failures.push(`${stream}: ${counts.lakeRows} rows in the lake, kcat read ${counts.inputRows}`);
        if (counts.lakeDistinct !== counts.inputDistinct)
          failures.push(
            `${stream}: ${counts.lakeDistinct} distinct ids in the lake, kcat read ${counts.inputDistinct}`,
          );
        if (verdict.missing + verdict.duplicates + verdict.uncommitted > 0)
          failures.push(
            `${stream}: missing ${verdict.missing}, duplicates ${verdict.duplicates}, uncommitted ${verdict.uncommitted}`,
          );
        if (ranges.problems.length + ranges.badNames.length > 0)
          failures.push(
            `${stream}: ${ranges.problems.length} range problems, ${ranges.badNames.length} bad file names`,
          );
        if (ranges.tmpFiles.length > 0) failures.push(`${stream}: ${ranges.tmpFiles.length} tmp files left`);
      }
      const aggTmp = listLakeFiles(lakeRoot).filter(
        (f) => f.path.startsWith('tables/clickstream_agg/') && f.path.endsWith('.tmp'),
      ).length;
      const repartitions = (await admin.fetchTopicOffsets(repartitionTopicName(runId))).length;
      const stages = await readStage2View(config, logger, bootstrap, repartitions, workDir);
      const windows = await check.checkWindows(stages, workDir);
      const differing = await check.scalar(
        'SELECT count(*) FROM (SELECT m, url, sum(pv) AS pv FROM agg GROUP BY ALL) a JOIN raw_w USING (m, url) WHERE a.pv <> raw_w.n',
      );
      say(
        `windows: ${windows.windows} emitted (${differing} with pv below the raw count); emitted_twice=${windows.emittedTwice} ` +
          `bad_bounds=${windows.badBounds} over_raw=${windows.overRaw} open_and_emitted=${windows.openAndEmitted}; ` +
          `raw rows ${windows.rawRows} = emitted pv ${windows.emittedPv} + open ${windows.openPv} + late ${windows.shortfall} ` +
          `(late page views counted by stage 2: ${windows.lateEventsTotal}); ${stages.snapshots}/${repartitions} stage-2 snapshots, ` +
          `${stages.pendingRecords} stage-1 records after them (${stages.pendingPageViews} page views); tmp files ${aggTmp}`,
      );
      for (const e of windows.examples.slice(0, 5)) say(`  ${e}`);
      if (windows.mismatches > 0) failures.push(`windows: ${windows.mismatches} mismatches`);
      if (windows.windows === 0) failures.push('windows: none emitted');
      if (aggTmp > 0) failures.push(`clickstream_agg: ${aggTmp} tmp files left`);

      // What the logs say.
      const events = members.flatMap((_, i) => memberEvents(workDir, i + 1)).sort((a, b) => a.atMs - b.atMs);
      const kill = failover(events, 1, moments.kill);
      say(
        `failover (kill -9 member 1): ${kill.partitions} partitions; the first read again on another member after ${seconds(kill.firstMs)}, ` +
          `all after ${seconds(kill.allMs)} (session timeout 10 s)`,
      );
      const frozen = failover(events, 2, moments.freeze);
      say(
        `failover (SIGSTOP member 2): ${frozen.partitions} partitions; the first read again on another member after ${seconds(frozen.firstMs)}, all after ${seconds(frozen.allMs)}`,
      );
      const back = events.find((e) => e.member === 2 && e.kind === 'assigned' && e.atMs >= moments.thaw);
      say(`member 2 after SIGCONT: assigned again after ${seconds(back ? back.atMs - moments.thaw : undefined)}`);
      const ordered = (['kill', 'freeze', 'thaw', 'alter', 'join', 'end'] as const)
        .map((name) => ({ name, atMs: moments[name] }))
        .sort((a, b) => a.atMs - b.atMs);
      // The pause of the members still at work after each step (the subject of the step left out).
      const what = {
        kill: 'the leave of member 1 (kill -9)',
        freeze: 'the eviction of member 2 (SIGSTOP)',
        thaw: 'the return of member 2 (SIGCONT)',
        alter: 'the partition change',
        join: 'the join of member 4',
      } as const;
      const atWork = new Set([1, 2, 3]);
      for (const [i, m] of ordered.entries()) {
        if (m.name === 'end') continue;
        if (m.name === 'kill') atWork.delete(1);
        if (m.name === 'freeze') atWork.delete(2);
        const others = [...atWork].sort((a, b) => a - b);
        if (m.name === 'thaw') atWork.add(2);
        if (m.name === 'join') atWork.add(4);
        const pauses = rebalancePauses(events, others, m.atMs, ordered[i + 1]?.atMs);
        say(
          `pause at ${what[m.name]}: ` +
            (pauses.length === 0
              ? `no rebalance of members ${others.join(', ')} before the next step`
              : pauses
                  .map(
                    (p) => `member ${p.member} ${seconds(p.pauseMs)} (its rebalance began ${seconds(p.afterMs)} after)`,
                  )
                  .join(', ')),
        );
      }
      for (const stream of ['clickstream', 'iot'] as const) {
        const reads: string[] = [];
        for (let p = PARTITIONS_BEFORE; p < PARTITIONS_AFTER; p++) {
          const r = events.find(
            (e) => e.kind === 'reading' && e.topic === topics[stream] && e.partition === p && e.atMs >= moments.alter,
          );
          reads.push(`p${p} after ${seconds(r ? r.atMs - moments.alter : undefined)} (member ${r?.member ?? '-'})`);
        }
        say(`new partitions of ${stream} read: ${reads.join(', ')} of the alter`);
      }
      // Working members: not killed, not frozen.
      const phases: Array<{ fromMs: number; toMs: number; working: number }> = [];
      let working = FIRST_MEMBERS;
      let from = t0;
      for (const m of ordered) {
        if (m.atMs > from) phases.push({ fromMs: from, toMs: m.atMs, working });
        from = Math.max(from, m.atMs);
        working += m.name === 'kill' || m.name === 'freeze' ? -1 : m.name === 'thaw' || m.name === 'join' ? 1 : 0;
      }
      phases.push({ fromMs: from, toMs: caughtUpMs, working });
      say(
        `events read per second by working members (Σ of their 'etl metrics'; input paced at ${args.clickstreamRate + args.iotRate}/s, so more only while catching up) and their lag at the end: ` +
          phases
            .map((p) => {
              const r = throughput(events, p.fromMs, p.toMs);
              const span = `${p.working} for ${seconds(p.toMs - p.fromMs)}`;
              return r.members === 0 ? `${span}: no metrics line` : `${span}: ${r.eventsPerSecond}/s lag ${r.lag}`;
            })
            .join('; '),
      );
      say(
        `RSS per member (MB): ${members
          .map((_, i) => {
            const samples = rss.get(i + 1) ?? [];
            const hwm = peaks[i];
            return `member ${i + 1} median ${(median(samples) / 1024).toFixed(0)} max ${(Math.max(0, ...samples) / 1024).toFixed(0)} VmHWM ${hwm === undefined ? '-' : (hwm / 1024).toFixed(0)}`;
          })
          .join('; ')}`,
      );
      const unexpected = [producer, ...members].flatMap((m) =>
        m.unexpectedExits.map((e) => `${m.name} ${String(e.code ?? e.signal)}`),
      );
      if (unexpected.length > 0) say(`exits nobody asked for (restarted): ${unexpected.join(', ')}`);
    } finally {
      check.close();
      await admin.disconnect().catch(() => undefined);
    }
    ok = failures.length === 0;
    say(ok ? 'ok: every check holds' : `FAILED: ${failures.join('; ')}`);
  } finally {
    await stopEverything();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (!args.keep) {
      const admin = createKafkaClient(config, logger).admin();
      try {
        await admin.connect();
        await admin.deleteTopics({
          topics: [topics.clickstream, topics.iot, repartitionTopicName(runId), stateTopicName(runId)],
          timeout: 30_000,
        });
      } catch (err) {
        say(`deleting the topics failed: ${String(err)}`);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    if (ok && !args.keep) rmSync(workDir, { recursive: true, force: true });
    else if (existsSync(workDir))
      process.stderr.write(
        `scale-out: evidence kept in ${workDir} (generate.log, member-<i>.log, lake, checkpoints-<i>)\n`,
      );
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`scale-out: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
