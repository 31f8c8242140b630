/**
 * The chaos run (architecture.md, "The chaos run"): `npm run chaos -- --duration S --kills K --broker-restarts B`.
 *
 * On its own three-broker local cluster (ports 24092/24192/24292, controllers 24093/24193/24293,
 * data under /tmp; started and stopped here unless `--kafka-dir` names one to reuse), with its own
 * topics, group, lake and checkpoint store, it runs the whole platform (`main.js run`: generators at
 * `--rate` events/s in total, 2:1 clickstream:IoT, plus the ETL) for S seconds while, at moments
 * drawn from one seed (printed; `--seed` repeats a run):
 *  - the platform is killed with SIGKILL K times and started again at once;
 *  - it gets SIGTERM once under load and must exit 0 within etl.shutdown_timeout, then is started again;
 *  - B times one broker is killed, left down for `--broker-down` seconds (30) and started again.
 * Then the platform is stopped with SIGTERM, `main.js etl` catches up until the checkpoint store's
 * durable offsets reach the last committed record of every partition, the topics are read
 * independently with kcat (read_committed) and DuckDB compares the lake with them (lakeCheck.ts).
 * "produced" counts only committed records: events of a transaction aborted by a kill are not
 * produced, and must not be in the lake.
 *
 * The raw files' offset ranges are checked too (bench/lakeRanges.ts): every committed record in one
 * range, ranges starting and ending on committed records, no tmp file of a raw table left.
 *
 * With `--members N` (N > 1) the load is `main.js generate` and the ETL is N `main.js etl` members of one
 * group on one lake (architecture.md, "Growing past one machine"), each with its own checkpoint store
 * (checkpoints-<i>), status port (24081 + i - 1), client id and log (member-<i>.log). The kills and the
 * SIGTERM hit the member the seeded plan names (schedule.ts) and restart it at once; brokers as above.
 * When the load stops, the members catch up themselves (durable offsets: the highest over their stores)
 * and get SIGTERM. The members run the windows across members (etl.windows: members, architecture.md): the window
 * checks read the stage-2 snapshots in `<group>-pv-state` and the stage-1 records no task applied yet
 * (scaleOut/stage2View.ts) where one process reads its store.
 *
 * The last line is exactly
 *   chaos: produced=N lake=N missing=0 duplicates=0 windows=N window_mismatches=0 kills=K broker_restarts=B
 * with one member, and with N members the same with `members=N` before `kills`
 * (duplicates include events no committed record carries); exit 0 only when missing, duplicates,
 * window_mismatches and the range problems and tmp files are 0 and the SIGTERM under load exited 0 in time.
 *
 * Compiled with tsconfig.bench.json like the benchmarks; the platform child, and `kafka up/down`,
 * are `node dist/main.js` (`npm run chaos` builds it first): the bench build's copy would look for
 * pom.xml and the broker log4j files under dist/bench.
 * Options: --duration S (60) --kills K (3) --broker-restarts B (1) --rate N (20000) --seed N
 * --broker-down S (30) --kafka-dir DIR (reuse, leave running) --catch-up-timeout S (1800) --keep
 * --members N (1) --short (the test suite's short run: rate 5000 unless given; the other defaults are its own).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { sleep } from '../src/system/processes.js';
import { killNode, waitForFullIsr } from './chaos/brokers.js';
import { behind, highestOffsets, readJournal, type JournalView } from './chaos/checkpointJournal.js';
import { countUncommittedRead, readCommitted } from './chaos/independentRead.js';
import { LakeCheck } from './chaos/lakeCheck.js';
import { PlatformProcess } from './chaos/platformProcess.js';
import { planChaos } from './chaos/schedule.js';
import { readStage2View } from './scaleOut/stage2View.js';
import { createKafkaClient } from '../src/kafka/client.js';
import { createLogger } from '../src/log/logger.js';
import { repartitionTopicName } from '../src/windows/repartitionRecords.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/**
 * The platform as an operator runs it (`npm run build`); its `kafka up/down` also find pom.xml and log4j files from
 * there.
 */
const MAIN = path.join(PROJECT_ROOT, 'dist', 'main.js');
const PORTS = [24092, 24192, 24292];
const CONTROLLER_PORTS = [24093, 24193, 24293];
/** The status port of `run`, or of member 1; member i listens on STATUS_PORT + i - 1. */
const STATUS_PORT = 24081;
/** Producer transaction timeout (15 s, transactionalProducer.ts) + the broker's 10 s abort scan + margin. */
const HANGING_TXN_MS = 40_000;

interface Args {
  durationS: number;
  kills: number;
  brokerRestarts: number;
  rate: number;
  seed: number;
  brokerDownS: number;
  kafkaDir?: string;
  keep: boolean;
  catchUpTimeoutS: number;
  members: number;
}

function parseArgs(argv: string[]): Args {
  const known = new Set([
    '--duration',
    '--kills',
    '--broker-restarts',
    '--rate',
    '--seed',
    '--broker-down',
    '--kafka-dir',
    '--catch-up-timeout',
    '--keep',
    '--members',
    '--short',
  ]);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a)) throw new Error(`unknown option ${a} (known: ${[...known].join(' ')})`);
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (flag: string, fallback: number): number => {
    const v = get(flag);
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, not ${String(v)}`);
    return n;
  };
  const kafkaDir = get('--kafka-dir');
  const members = num('--members', 1);
  if (!Number.isInteger(members) || members < 1) throw new Error(`--members needs a whole number >= 1, not ${members}`);
  return {
    durationS: num('--duration', 60),
    kills: num('--kills', 3),
    brokerRestarts: num('--broker-restarts', 1),
    // The test suite's rate (test/integration/chaos/chaos.test.ts): on two shared cores more only lengthens the catch-up.
    rate: num('--rate', argv.includes('--short') ? 5_000 : 20_000),
    seed: num('--seed', Math.floor(Math.random() * 2 ** 31)),
    brokerDownS: num('--broker-down', 30),
    ...(kafkaDir ? { kafkaDir: path.resolve(kafkaDir) } : {}),
    keep: argv.includes('--keep'),
    catchUpTimeoutS: num('--catch-up-timeout', 1_800),
    members,
  };
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The platform's output shows both its producer pool and its consumers running. */
function isLoaded(output: string): boolean {
  return output.includes('"msg":"producer pool started"') && output.includes('"msg":"partitions assigned"');
}

/** An ETL member at work: it took a partition over and reads it (the producer runs in its own process). */
function isMemberAtWork(output: string): boolean {
  return output.includes('"msg":"partition reading"');
}

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

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const runId = `chaos-${Date.now().toString(36)}`;
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'sdp-chaos-'));
  const kafkaDir = args.kafkaDir ?? path.join(workDir, 'kafka');
  const lakeRoot = path.join(workDir, 'lake');
  const checkpointRoot = path.join(workDir, 'checkpoints');
  const many = args.members > 1;
  const memberCheckpointRoot = (i: number): string => path.join(workDir, `checkpoints-${i + 1}`);
  /** Where the durable offsets are: the one store, or each member's. */
  const checkpointRoots = many
    ? Array.from({ length: args.members }, (_, i) => memberCheckpointRoot(i))
    : [checkpointRoot];
  mkdirSync(kafkaDir, { recursive: true });
  const clickRate = Math.round((args.rate * 2) / 3);
  const env: Record<string, string> = {
    SDP_KAFKA__EXTERNAL_PORTS: PORTS.join(','),
    SDP_KAFKA__BOOTSTRAP_SERVERS: PORTS.map((p) => `127.0.0.1:${p}`).join(','),
    SDP_KAFKA__LOCAL__CONTROLLER_PORTS: CONTROLLER_PORTS.join(','),
    SDP_KAFKA__LOCAL__DATA_DIR: kafkaDir,
    SDP_TOPICS__CLICKSTREAM: `${runId}-clickstream`,
    SDP_TOPICS__IOT: `${runId}-iot`,
    SDP_ETL__CONSUMER_GROUP: runId,
    // One member runs the one-process aggregator, whose offsets and state the checks read from the store; several
    // run the stages (set per member below). Never `auto`: the checks must know the mode before the run.
    SDP_ETL__WINDOWS: 'process',
    SDP_DATA_GENERATOR__TRANSACTIONAL_ID_PREFIX: runId,
    SDP_DATA_GENERATOR__EVENTS_PER_SECOND__CLICKSTREAM: String(clickRate),
    SDP_DATA_GENERATOR__EVENTS_PER_SECOND__IOT: String(args.rate - clickRate),
    SDP_STORAGE__DATALAKE_ROOT: lakeRoot,
    SDP_STORAGE__CHECKPOINT_ROOT: checkpointRoot,
    SDP_UI__STATUS_PORT: String(STATUS_PORT),
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
  };
  const { config } = loadConfig(path.join(PROJECT_ROOT, 'config.yml'), { ...process.env, ...env });
  const bootstrap = config.kafka.bootstrap_servers.join(',');
  const logger = createLogger({ level: 'warn', format: 'json', fd: 2 });
  /** R of the window stages (several members): the repartition topic's partitions. */
  const repartitions = async (): Promise<number> => {
    const admin = createKafkaClient(config, logger).admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(repartitionTopicName(config.etl.consumer_group))).length;
    } finally {
      await admin.disconnect();
    }
  };
  const topics = [config.topics.clickstream, config.topics.iot];
  say(
    `chaos: seed=${args.seed} duration=${args.durationS}s kills=${args.kills} broker_restarts=${args.brokerRestarts} rate=${args.rate}/s ${many ? `members=${args.members} ` : ''}work_dir=${workDir} kafka_dir=${kafkaDir}`,
  );

  let clusterStartedHere = false;
  let ok = false;
  // One member: `run` under load, then `etl` to catch up. Several: `generate` under load beside N `etl` members.
  const platform = many
    ? new PlatformProcess(MAIN, ['generate'], env, PROJECT_ROOT, path.join(workDir, 'generate.log'), say)
    : new PlatformProcess(MAIN, ['run'], env, PROJECT_ROOT, path.join(workDir, 'run.log'), say);
  const etl = new PlatformProcess(MAIN, ['etl'], env, PROJECT_ROOT, path.join(workDir, 'etl.log'), say);
  const members = many
    ? Array.from(
        { length: args.members },
        (_, i) =>
          new PlatformProcess(
            MAIN,
            ['etl'],
            {
              ...env,
              SDP_STORAGE__CHECKPOINT_ROOT: memberCheckpointRoot(i),
              SDP_UI__STATUS_PORT: String(STATUS_PORT + i),
              SDP_KAFKA__CLIENT_ID: `sdp-member-${i + 1}`,
              SDP_ETL__WINDOWS: 'members',
            },
            PROJECT_ROOT,
            path.join(workDir, `member-${i + 1}.log`),
            say,
            `member ${i + 1}`,
          ),
      )
    : [];
  /** The process an action of the plan hits. */
  const targetOf = (member: number | undefined): PlatformProcess => (many ? members[member ?? 0]! : platform);
  const atWork = (target: PlatformProcess): boolean =>
    many ? isMemberAtWork(target.outputSinceStart()) : isLoaded(target.outputSinceStart());
  /** Durable offsets: the highest over the stores (a partition's commits move between members with it). */
  const readDurable = (): JournalView | undefined => {
    const views = checkpointRoots.map((root) => readJournal(root));
    return views.some((v) => v === undefined) ? undefined : highestOffsets(views as JournalView[]);
  };
  const stopEverything = async (): Promise<void> => {
    await platform.stop().catch(() => undefined);
    await etl.stop().catch(() => undefined);
    for (const member of members) await member.stop().catch(() => undefined);
    if (clusterStartedHere)
      await runCli(['kafka', 'down'], env).catch((err: unknown) =>
        say(`chaos: stopping the cluster failed: ${String(err)}`),
      );
  };
  const onSignal = (): void => {
    say('chaos: interrupted; cleaning up');
    void stopEverything().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // A fresh data dir: whatever runs there is ours to stop, even if `up` fails half-way.
    clusterStartedHere = !args.kafkaDir;
    await runCli(['kafka', 'up'], env);
    await runCli(['topics', 'create'], env);
    const plan = planChaos({
      seed: args.seed,
      durationMs: args.durationS * 1000,
      kills: args.kills,
      brokerRestarts: args.brokerRestarts,
      brokerDownMs: args.brokerDownS * 1000,
      brokerSettleMs: 20_000,
      brokers: config.kafka.brokers,
      minGapMs: Math.min(5_000, Math.floor((args.durationS * 1000 * 0.8) / (args.kills + 2))),
      members: args.members,
    });
    say(`chaos: plan ${JSON.stringify(plan)}`);

    const t0 = Date.now();
    platform.start();
    for (const member of members) member.start();
    let kills = 0;
    let lastKillMs = t0;
    const sigterm: { code: number | null; signal: string | null; elapsedMs: number; ok: boolean }[] = [];
    const processLoop = (async () => {
      let restartedAtMs = t0;
      for (const action of plan.processActions) {
        // A SIGTERM takes its time: the next action then waits a little for the process it started.
        await sleepUntil(Math.max(t0 + action.atMs, restartedAtMs + 3_000));
        const target = targetOf(action.member);
        const who = many ? ` ${target.name}` : '';
        if (action.underLoad) {
          // At work: the generators run and the ETL consumes (at most a minute's wait for that).
          const loadedBy = Date.now() + 60_000;
          while (Date.now() < loadedBy && !atWork(target)) await sleep(250);
          await sleep(action.afterLoadMs);
        }
        if (action.kind === 'kill9') {
          const pid = target.pid;
          await target.kill9();
          kills += 1;
          lastKillMs = Date.now();
          say(
            `chaos: t=${Math.round((Date.now() - t0) / 1000)}s kill -9 #${kills}${who} (pid ${String(pid)}${action.underLoad ? ', at work' : ''})`,
          );
        } else {
          const exit = await target.terminate(config.etl.shutdown_timeout + 30_000);
          const inTime = exit.elapsedMs <= config.etl.shutdown_timeout;
          sigterm.push({ ...exit, ok: exit.code === 0 && inTime });
          say(
            `chaos: t=${Math.round((Date.now() - t0) / 1000)}s SIGTERM under load${who}: exit ${String(exit.code)} after ${exit.elapsedMs} ms (etl.shutdown_timeout ${config.etl.shutdown_timeout} ms)`,
          );
        }
        target.start();
        restartedAtMs = Date.now();
      }
    })();
    let brokerRestarts = 0;
    let lastBrokerMs = t0;
    const brokerLoop = (async () => {
      for (const outage of plan.brokerOutages) {
        await sleepUntil(t0 + outage.atMs);
        const pid = await killNode(config, outage.nodeId);
        say(
          `chaos: t=${Math.round((Date.now() - t0) / 1000)}s broker ${outage.nodeId} (pid ${pid}) killed for ${outage.downMs / 1000} s`,
        );
        await sleep(outage.downMs);
        await runCli(['kafka', 'up'], env);
        brokerRestarts += 1;
        await waitForFullIsr(bootstrap, [...topics, '__consumer_offsets', '__transaction_state'], 180_000);
        lastBrokerMs = Date.now();
        say(`chaos: t=${Math.round((Date.now() - t0) / 1000)}s broker ${outage.nodeId} back, replicas in sync`);
      }
    })();
    await Promise.all([processLoop, brokerLoop]);
    await sleepUntil(t0 + args.durationS * 1000);

    // Load ends: a graceful stop (generators acknowledge every batch), then the ETL alone catches up.
    const loadEndMs = Date.now();
    const durableAtLoadEnd = readDurable();
    const final = await platform.terminate(config.etl.shutdown_timeout + 30_000);
    await platform.stop();
    say(
      `chaos: t=${Math.round((Date.now() - t0) / 1000)}s load stopped: ${many ? 'generate' : 'run'} exit ${String(final.code)} after ${final.elapsedMs} ms`,
    );
    // Several members go on and catch up themselves; one `run` hands over to `etl`.
    if (!many) etl.start();
    await sleepUntil(Math.max(lastKillMs, lastBrokerMs) + HANGING_TXN_MS);

    const check = await LakeCheck.open(path.join(workDir, 'check.duckdb'), lakeRoot);
    try {
      const last = new Map<string, Map<number, bigint>>();
      const notCommitted = new Map<string, number>();
      for (const stream of ['clickstream', 'iot'] as const) {
        const file = path.join(workDir, `${stream}.ndjson`);
        await readCommitted(bootstrap, config.topics[stream], file, 1_800_000);
        last.set(stream, await check.loadInput(stream, file));
        const all = await countUncommittedRead(bootstrap, config.topics[stream], 1_800_000);
        notCommitted.set(stream, all - (await check.scalar(`SELECT count(*) FROM in_${stream}`)));
        if (!args.keep) rmSync(file, { force: true });
      }
      const catchUpStartMs = Date.now();
      const deadline = catchUpStartMs + args.catchUpTimeoutS * 1000;
      for (;;) {
        const journal = readDurable();
        const lagging = journal
          ? [
              ...behind(journal.rawOffsets.get(config.topics.clickstream), last.get('clickstream')!).map(
                (p) => `clickstream raw p${p}`,
              ),
              // Several members keep their window state in Kafka: the wait for the windows below covers it.
              ...(many
                ? []
                : behind(journal.aggOffsets.get(config.topics.clickstream), last.get('clickstream')!).map(
                    (p) => `clickstream agg p${p}`,
                  )),
              ...behind(journal.rawOffsets.get(config.topics.iot), last.get('iot')!).map((p) => `iot raw p${p}`),
            ]
          : ['no checkpoint store yet'];
        if (lagging.length === 0) break;
        if (Date.now() > deadline)
          throw new Error(
            `the ETL did not catch up within ${args.catchUpTimeoutS} s: still behind: ${lagging.join(', ')}`,
          );
        await sleep(1_000);
      }
      // Then every partition goes idle and the watermark passes all input: wait until every window
      // that can close has been emitted and checkpointed, so that the window checks cover them.
      const closableBeforeMs =
        (await check.scalar('SELECT coalesce(max(ts_ms), 0) FROM in_clickstream')) - config.etl.watermark_delay;
      const emitDeadline = Date.now() + config.etl.idle_timeout + 120_000;
      const stages = async () =>
        readStage2View(config, logger, bootstrap, await repartitions(), workDir).catch(() => undefined);
      for (;;) {
        const view = many ? await stages() : undefined;
        if (many && view === undefined && Date.now() < emitDeadline) {
          // The stage-2 state could not be read (a broker still electing leaders): ask again, never take it as done.
          await sleep(1_000);
          continue;
        }
        const open = many
          ? (view?.openWindows ?? [])
          : (readJournal(checkpointRoot)?.aggState.get(config.topics.clickstream)?.openWindows ?? []);
        const closable = open.filter((w) => w.startMs + 60_000 <= closableBeforeMs);
        if (closable.length === 0) break;
        if (Date.now() > emitDeadline) {
          say(
            `chaos: windows ${closable.map((w) => new Date(w.startMs).toISOString()).join(', ')} are still open ${Math.round((Date.now() - catchUpStartMs) / 1000)} s after catching up`,
          );
          break;
        }
        await sleep(1_000);
      }
      const caughtUpS = Math.round((Date.now() - loadEndMs) / 1000);
      const etlExits: Array<Awaited<ReturnType<PlatformProcess['terminate']>>> = [];
      for (const child of many ? members : [etl]) {
        etlExits.push(await child.terminate(config.etl.shutdown_timeout + 30_000));
        await child.stop();
      }
      const etlExit = etlExits[0]!;
      say(
        many
          ? `chaos: caught up ${caughtUpS} s after the load ended; member exits ${etlExits.map((e, i) => `${i + 1}:${String(e.code)} after ${e.elapsedMs} ms`).join(', ')}`
          : `chaos: caught up ${caughtUpS} s after the load ended; etl exit ${String(etlExit.code)} after ${etlExit.elapsedMs} ms`,
      );

      const streams = { clickstream: await check.compareStream('clickstream'), iot: await check.compareStream('iot') };
      const ranges = {
        clickstream: await check.checkRanges('clickstream', config.topics.clickstream),
        iot: await check.checkRanges('iot', config.topics.iot),
      };
      const journal = readJournal(checkpointRoot);
      const windows = await check.checkWindows(
        many ? await stages() : journal?.aggState.get(config.topics.clickstream),
        workDir,
      );
      const produced = streams.clickstream.produced + streams.iot.produced;
      const lake = streams.clickstream.lake + streams.iot.lake;
      const missing = streams.clickstream.missing + streams.iot.missing;
      const duplicates =
        streams.clickstream.duplicates +
        streams.iot.duplicates +
        streams.clickstream.uncommitted +
        streams.iot.uncommitted;
      for (const [name, v] of Object.entries(streams)) {
        say(
          `chaos: ${name}: produced=${v.produced} lake=${v.lake} missing=${v.missing} duplicates=${v.duplicates} uncommitted=${v.uncommitted} (records of aborted transactions in the topic: ${notCommitted.get(name) ?? '?'})`,
        );
        for (const e of v.examples) say(`chaos:   ${e}`);
      }
      let rangeProblems = 0;
      for (const [name, v] of Object.entries(ranges)) {
        rangeProblems += v.problems.length + v.badNames.length + v.tmpFiles.length;
        say(
          `chaos: ranges: ${name}: ranges=${v.ranges} problems=${v.problems.length} bad_names=${v.badNames.length} tmp_files=${v.tmpFiles.length}`,
        );
        for (const p of v.problems.slice(0, 10)) say(`chaos:   ${name} p${p.partition}: ${p.problem}`);
        for (const f of [...v.badNames, ...v.tmpFiles].slice(0, 10)) say(`chaos:   ${f}`);
      }
      say(
        `chaos: windows: rows=${windows.windows} emitted_twice=${windows.emittedTwice} bad_bounds=${windows.badBounds} pv_over_raw=${windows.overRaw} open_over_raw=${windows.openOverRaw} open_and_emitted=${windows.openAndEmitted} ` +
          `raw=${windows.rawRows} emitted_pv=${windows.emittedPv} open_pv=${windows.openPv} shortfall=${windows.shortfall} late_events_checkpointed=${windows.lateEventsTotal}`,
      );
      for (const e of windows.examples) say(`chaos:   ${e}`);
      const loadS = (loadEndMs - t0) / 1000;
      say(
        `chaos: rate requested=${args.rate}/s committed=${Math.round(produced / loadS)}/s over ${Math.round(loadS)} s of load; ` +
          `lake_at_load_end=${durableAtLoadEnd?.rawRecords ?? 0} (${Math.round((durableAtLoadEnd?.rawRecords ?? 0) / loadS)}/s); ` +
          (many
            ? `member starts=${members.reduce((n, m) => n + m.starts, 0)} unexpected_exits=${[platform, ...members].reduce((n, m) => n + m.unexpectedExits.length, 0)} final_generate_exit=${String(final.code)} member_exits=${etlExits.map((e) => String(e.code)).join(',')}`
            : `platform starts=${platform.starts} unexpected_exits=${platform.unexpectedExits.length + etl.unexpectedExits.length} final_run_exit=${String(final.code)} etl_exit=${String(etlExit.code)}`),
      );
      const sigtermOk = sigterm.length === 1 && sigterm[0]!.ok;
      if (!sigtermOk)
        say(
          `chaos: FAILED: the SIGTERM under load did not exit 0 within etl.shutdown_timeout: ${JSON.stringify(sigterm)}`,
        );
      ok = missing === 0 && duplicates === 0 && windows.mismatches === 0 && rangeProblems === 0 && sigtermOk;
      say(
        `chaos: produced=${produced} lake=${lake} missing=${missing} duplicates=${duplicates} ` +
          `windows=${windows.windows} window_mismatches=${windows.mismatches}` +
          (many ? ` members=${args.members}` : '') +
          ` kills=${kills} broker_restarts=${brokerRestarts}`,
      );
    } finally {
      check.close();
    }
  } finally {
    await stopEverything();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (ok && !args.keep) rmSync(workDir, { recursive: true, force: true });
    else if (existsSync(workDir))
      process.stderr.write(
        `chaos: evidence kept in ${workDir} (logs ${many ? 'generate.log, member-<i>.log' : 'run.log, etl.log'}; lake; checkpoints)\n`,
      );
  }
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
