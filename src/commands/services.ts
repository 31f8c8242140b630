/**
 * `services up|scale|down|ps|logs|setup|init-volumes|clean`: the platform and its ETL members as background
 * services (architecture.md, "Services and operating"). The Makefile's up, scale, down, ps, logs, setup,
 * init-volumes and clean only call these.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { resolveKafkaClasspath } from '../localKafka/classpath.js';
import { localClusterDown, localDataDir } from '../localKafka/localCluster.js';
import { createTopics } from '../kafka/admin/topics.js';
import {
  checkKafkaLogin,
  compose,
  dockerAnswers,
  ensureKafka,
  stopKafka,
  COMPOSE_FILE,
} from '../services/kafkaService.js';
import { createPrettyLine, followFile, tailLines } from '../log/logTail.js';
import { removePidFile } from '../services/pidFile.js';
import {
  describeStale,
  inspectPlatform,
  logFileOf,
  loggedExitCode,
  runDirOf,
  startPlatform,
  statusUrlFromLog,
  stopProcess,
} from '../services/platformService.js';
import { describePort, MAX_MEMBERS, parseMemberDirName } from '../services/memberLayout.js';
import {
  chooseStatusPorts,
  isRunning,
  listLocalMembers,
  memberPathsOf,
  startMembers,
  type LocalMember,
  type MemberStart,
} from '../services/memberService.js';
import { brokerRows, groupView, localGroupLabels, memberRows, platformRow } from '../services/psStatus.js';
import { allUp, formatDuration, renderGroup, renderPs } from '../services/psTable.js';
import {
  readServicesState,
  removeServicesState,
  writeServicesState,
  type KafkaRecord,
} from '../services/serviceState.js';
import { checkOk, checkTools } from '../services/setupChecks.js';
import { isNoOp, parseMemberCount, planScale, scaleNotes } from '../services/scalePlan.js';
import { assertKafkaDataDeletable, initMemberCheckpointRoot, initVolumes } from '../services/volumes.js';
import type { CommandContext } from './context.js';
import { createLogger } from '../log/logger.js';
import { renderTable } from '../system/textTable.js';
import { withWindowsModeResolved } from '../etl/windowsModeCheck.js';
import type { WindowsMode } from '../etl/windowsMode.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A process `services` started: the platform (`run`) or an ETL member of `services scale` (`etl`). */
interface ServiceTarget {
  label: string;
  runDir: string;
  logFile: string;
  /** What a graceful shutdown of it guarantees, for the line that says it stopped. */
  graceful: string;
}

function platformTarget(config: Config): ServiceTarget {
  return {
    label: 'platform',
    runDir: runDirOf(config),
    logFile: logFileOf(config),
    graceful: 'every produced event acknowledged, last files committed',
  };
}

function memberTarget(member: LocalMember): ServiceTarget {
  return {
    label: `member ${member.paths.index}`,
    runDir: member.paths.runDir,
    logFile: member.paths.logFile,
    graceful: 'last files committed, left the group',
  };
}

/** Stops the platform if it runs, removes a stale pid file; says what it did. */
async function downPlatform(config: Config): Promise<void> {
  await stopService(config, platformTarget(config));
}

/**
 * Stops a process of `services` if it runs (SIGTERM, etl.shutdown_timeout, SIGKILL: "Back-pressure and
 * shutdown"), removes a stale pid file; says what it did.
 */
async function stopService(config: Config, target: ServiceTarget): Promise<void> {
  const { label, runDir } = target;
  const { record, verdict } = inspectPlatform(runDir);
  if (!record || !verdict) {
    say(`${label}: not running`);
    return;
  }
  if (verdict.state !== 'running') {
    removePidFile(runDir);
    say(`${label}: not running; removed a stale pid file (${describeStale(record, verdict)})`);
    return;
  }
  const timeoutS = Math.round(config.etl.shutdown_timeout / 1000);
  say(
    `${label}: sent SIGTERM to pid ${record.pid}; waiting up to ${timeoutS} s (etl.shutdown_timeout) for the graceful shutdown …`,
  );
  const result = await stopProcess(record.pid, config.etl.shutdown_timeout);
  removePidFile(runDir);
  if (result.how === 'SIGKILL') {
    say(
      `${label}: did not exit within ${timeoutS} s of SIGTERM: killed it (SIGKILL); the next start recovers from the last checkpoint`,
    );
  } else if (result.how === 'already gone') {
    say(`${label}: had already exited`);
  } else {
    const code = loggedExitCode(target.logFile, record.pid);
    const how =
      code === undefined
        ? ''
        : code === 0
          ? `, graceful shutdown (${target.graceful})`
          : `, exit code ${code}: the shutdown did not finish in time, the next start recovers from the last checkpoint`;
    say(`${label}: stopped after SIGTERM in ${seconds(result.elapsedMs)}${how}`);
  }
}

/**
 * Stops these members one at a time, highest index first: each leave is one rebalance, and a member never
 * drains while a neighbour's leave revokes its partitions.
 */
async function stopMembers(config: Config, members: readonly LocalMember[]): Promise<void> {
  for (const m of [...members].sort((a, b) => b.paths.index - a.paths.index))
    await stopService(config, memberTarget(m));
}

/**
 * Kafka as `up` finds or starts it (a cluster that answers is used; remembered in services.json so that
 * `down` stops only what an `up` or `scale` started), the login proved, the topics created if missing.
 */
async function prepareKafka(config: Config, context: CommandContext): Promise<KafkaRecord> {
  const runDir = runDirOf(config);
  const logger = context.logger(2);
  const previous = readServicesState(runDir)?.kafka;
  const found = await ensureKafka(config, logger, say);
  // A cluster an earlier `up` started is still ours to stop, even if this `up` found it running.
  const kafka: KafkaRecord = {
    ...found,
    startedByUs: found.startedByUs || (previous?.startedByUs === true && previous.mode === found.mode),
  };
  writeServicesState(runDir, { kafka, updatedAt: new Date().toISOString() });

  // A secured cluster: prove the login before anything else connects, with the CLI's one-line errors.
  const login = await checkKafkaLogin(config);
  if (login) say(login);

  say('topics: creating them if missing …');
  const topics = await createTopics(config, createLogger({ level: 'warn', format: config.log.format, fd: 2 }));
  say(
    `topics: ${[...topics.created.map((t) => `${t.topic} created`), ...topics.unchanged.map((t) => `${t.topic} exists`)].join(', ')}`,
  );
  return kafka;
}

async function up(
  config: Config,
  context: CommandContext,
  configFile: string | undefined,
  kafkaOnly: boolean,
): Promise<void> {
  const runDir = runDirOf(config);
  const { record, verdict } = inspectPlatform(runDir);
  if (record && verdict?.state === 'running' && !kafkaOnly) {
    const url = statusUrlFromLog(logFileOf(config), record.pid);
    const uptime = Number.isFinite(Date.parse(record.startedAt))
      ? `, up ${formatDuration((Date.now() - Date.parse(record.startedAt)) / 1000)}`
      : '';
    say(
      `already running: platform pid ${record.pid}${uptime}${url ? `, status page ${url}` : ''}; nothing to do (\`make ps\` shows everything, \`make down\` stops it)`,
    );
    return;
  }
  if (record && verdict && verdict.state !== 'running') {
    removePidFile(runDir);
    say(`platform: stale pid file (${describeStale(record, verdict)}); removed it`);
  }
  const kafka = await prepareKafka(config, context);
  if (kafkaOnly) return;

  const result = await startPlatform({ config, ...(configFile ? { configFile } : {}), say });
  if (!result.ok) {
    const pretty = createPrettyLine(process.stdout.isTTY === true);
    say(`platform: FAILED: ${result.reason}. Last log lines:`);
    for (const line of result.logLines) say(`  ${pretty(line)}`);
    throw new SdpError(ErrorCodes.SERVICES_START_FAILED, result.reason, [
      `full log: ${logFileOf(config)} (\`make logs\`)`,
      kafka.startedByUs
        ? 'Kafka keeps running: `make down` stops it'
        : 'Kafka was not started by this `up` and keeps running',
    ]);
  }
  const base = result.statusUrl.replace(/\/$/, '');
  say(`platform: ready in ${seconds(result.readyMs)} (pid ${result.pid})`);
  say(
    renderTable(
      ['', ''],
      [
        ['status page', `${base}/`],
        ['JSON', `${base}/api/status`],
        ['Prometheus', `${base}/metrics`],
        ['log', `${logFileOf(config)}  (make logs)`],
        ['stop', 'make down'],
      ],
    ).replace(/^\s*\n/, ''),
  );
}

async function down(config: Config, context: CommandContext): Promise<void> {
  const runDir = runDirOf(config);
  const members = listLocalMembers(config).filter((m) => m.record !== undefined);
  if (members.length > 0) await stopMembers(config, members);
  await downPlatform(config);
  say(await stopKafka(config, context.logger(2), readServicesState(runDir)?.kafka));
  removeServicesState(runDir);
}

/**
 * Where the running platform computes its windows (`auto` decided as its ETL decides, from the group in Kafka, which
 * a running platform implies is up); nothing when Kafka does not say, as the note is advice only.
 */
async function platformWindowsOf(config: Config, context: CommandContext): Promise<{ platformWindows?: WindowsMode }> {
  try {
    return { platformWindows: (await withWindowsModeResolved(config, context.logger(2), 'debug')).etl.windows };
  } catch {
    return {};
  }
}

function memberList(indexes: readonly number[]): string {
  return indexes.length === 0 ? 'none' : indexes.join(', ');
}

/**
 * `services scale <n>`: as many local ETL members as asked, each `etl` in its own run dir with its own
 * checkpoint store and status port, all on the same lake and group (architecture.md, "Growing past one
 * machine"). Stops the extra ones gracefully; the same count is a no-op that says so.
 */
async function scale(
  config: Config,
  context: CommandContext,
  configFile: string | undefined,
  target: number,
): Promise<void> {
  const members = listLocalMembers(config);
  for (const m of members) {
    if (m.record && m.verdict && m.verdict.state !== 'running') {
      removePidFile(m.paths.runDir);
      say(`member ${m.paths.index}: stale pid file (${describeStale(m.record, m.verdict)}); removed it`);
    }
  }
  const running = members.filter(isRunning);
  const plan = planScale(
    running.map((m) => m.paths.index),
    target,
  );
  const platform = inspectPlatform(runDirOf(config));
  const platformPid = platform.record && platform.verdict?.state === 'running' ? platform.record.pid : undefined;
  const notes = scaleNotes({
    target,
    ...(platformPid !== undefined ? { platformPid } : {}),
    partitions: config.kafka.partitions,
    ...(platformPid !== undefined ? await platformWindowsOf(config, context) : {}),
  });
  if (isNoOp(plan)) {
    say(
      `ETL members: ${target} asked, ${running.length} running (${memberList(plan.keep)}): nothing to do (\`make ps\` shows them and their partitions)`,
    );
    for (const note of notes) say(`note: ${note}`);
    return;
  }
  say(
    `ETL members: ${target} asked, ${running.length} running (${memberList(running.map((m) => m.paths.index))}): ` +
      [
        ...(plan.stop.length > 0 ? [`stopping ${memberList(plan.stop)}`] : []),
        ...(plan.start.length > 0 ? [`starting ${memberList(plan.start)}`] : []),
      ].join(', '),
  );
  await stopMembers(
    config,
    running.filter((m) => plan.stop.includes(m.paths.index)),
  );

  let started: MemberStart[] = [];
  if (plan.start.length > 0) {
    await prepareKafka(config, context);
    for (const index of plan.start) initMemberCheckpointRoot(config, index);
    const ports = await chooseStatusPorts(config, plan.start);
    const without = plan.start.filter((i) => !ports.has(i));
    if (without.length > 0)
      throw new SdpError(
        ErrorCodes.SERVICES_START_FAILED,
        `no free status port above ui.status_port ${config.ui.status_port} for member ${memberList(without)}`,
        ['set ui.status_port lower (each member takes ui.status_port + i, or the next free port)'],
      );
    started = await startMembers({ config, ...(configFile ? { configFile } : {}), ports, say });
    for (const m of started)
      if (m.result.ok) say(`member ${m.paths.index}: ready in ${seconds(m.result.readyMs)} (pid ${m.result.pid})`);
  }

  const rows = [
    ...running
      .filter((m) => plan.keep.includes(m.paths.index))
      .map((m) => ({ paths: m.paths, pid: m.record!.pid, url: statusUrlFromLog(m.paths.logFile, m.record!.pid) })),
    ...started.flatMap((m) => (m.result.ok ? [{ paths: m.paths, pid: m.result.pid, url: m.result.statusUrl }] : [])),
  ].sort((a, b) => a.paths.index - b.paths.index);
  if (rows.length > 0) {
    say(
      renderTable(
        ['MEMBER', 'PID', 'STATUS PAGE', 'PORT', 'LOG', 'CHECKPOINT STORE'],
        rows.map((r) => {
          const port = r.url ? Number(new URL(r.url).port) : undefined;
          return [
            `member-${r.paths.index}`,
            String(r.pid),
            r.url ?? '-',
            port === undefined ? '-' : `${port}: ${describePort(port, config.ui.status_port, r.paths.index)}`,
            r.paths.logFile,
            r.paths.checkpointRoot,
          ];
        }),
      ),
    );
  }
  say(
    `ETL members: ${rows.length} running (${memberList(rows.map((r) => r.paths.index))}) in group ${config.etl.consumer_group} on the lake ${resolve(config.storage.datalake_root)}; ` +
      '`make ps` shows who holds which partition, `make logs SERVICE=member-<i>` a log, `make down` stops them all',
  );
  for (const note of notes) say(`note: ${note}`);

  const failed = started.filter((m) => !m.result.ok);
  if (failed.length > 0) {
    const pretty = createPrettyLine(process.stdout.isTTY === true);
    for (const m of failed) {
      if (m.result.ok) continue;
      say(`member ${m.paths.index}: FAILED: ${m.result.reason}. Last log lines:`);
      for (const line of m.result.logLines) say(`  ${pretty(line)}`);
    }
    throw new SdpError(
      ErrorCodes.SERVICES_START_FAILED,
      `${failed.length} of ${started.length} ETL members did not start (member ${memberList(failed.map((m) => m.paths.index))})`,
      failed.map((m) => `full log of member ${m.paths.index}: ${m.paths.logFile}`),
    );
  }
}

async function logs(config: Config, options: { service?: string; lines: number; follow: boolean }): Promise<void> {
  const service = options.service ?? 'platform';
  let file: string;
  const member = /^member-(\d+)$/.exec(service);
  if (service === 'platform') {
    file = logFileOf(config);
  } else if (member) {
    const index = parseMemberDirName(member[1] ?? '');
    if (index === undefined)
      throw new SdpError(ErrorCodes.USAGE, `unknown service ${service}: members are member-1 … member-${MAX_MEMBERS}`);
    file = memberPathsOf(config, index).logFile;
  } else {
    const m = /^kafka-(\d+)$/.exec(service);
    const node = m ? Number(m[1]) : NaN;
    if (!m || node < 1 || node > config.kafka.brokers) {
      throw new SdpError(
        ErrorCodes.USAGE,
        `unknown service ${service}: expected platform, member-<i> or kafka-1 … kafka-${config.kafka.brokers}`,
      );
    }
    if (readServicesState(runDirOf(config))?.kafka?.mode === 'docker') {
      const args = [
        'compose',
        '-f',
        COMPOSE_FILE,
        'logs',
        '--tail',
        String(options.lines),
        ...(options.follow ? ['-f'] : []),
        service,
      ];
      await new Promise<void>((resolvePromise, reject) => {
        const child = spawn('docker', args, { stdio: 'inherit' });
        child.once('error', reject);
        child.once('close', () => resolvePromise());
      });
      return;
    }
    file = join(localDataDir(config), `node-${node}`, 'logs', 'server.log');
  }
  if (!existsSync(file)) {
    throw new SdpError(ErrorCodes.SERVICES_MISSING, `no log at ${file}`, [
      service === 'platform'
        ? 'the platform has not been started with `make up` here'
        : member
          ? 'this ETL member has not been started with `make scale` here'
          : 'this broker was not started from this checkout (a cluster started elsewhere keeps its logs there)',
    ]);
  }
  const format =
    service === 'platform' || member ? createPrettyLine(process.stdout.isTTY === true) : (line: string) => line;
  for (const line of tailLines(file, options.lines)) say(format(line));
  if (!options.follow) return;
  const stop = followFile(file, (line) => say(format(line)));
  await new Promise<void>((resolvePromise) => {
    const done = () => {
      stop();
      resolvePromise();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}

export function registerServicesCommands(program: Command, context: CommandContext): void {
  const services = program
    .command('services')
    .description(
      'the platform, ETL members and Kafka as background services: up, scale, down, ps, logs (make up/scale/down/ps/logs)',
    );
  const configFile = () => program.opts<{ config?: string }>().config;

  services
    .command('up')
    .description(
      'start Kafka (a running cluster is used as it is) and the whole platform in the background; wait for /readyz',
    )
    .option('--kafka-only', 'only Kafka and the topics (make run starts the platform in the foreground next)')
    .action(async (opts: { kafkaOnly?: boolean }) =>
      up(context.config().config, context, configFile(), opts.kafkaOnly === true),
    );

  services
    .command('down')
    .description(
      'stop the ETL members of `scale`, the platform (SIGTERM, SIGKILL after etl.shutdown_timeout) and the Kafka that `up` started',
    )
    .action(async () => down(context.config().config, context));

  services
    .command('scale')
    .argument('[n]', 'how many ETL members should run (0 stops them all)')
    .description(
      'start or stop local ETL members (`etl`, detached) until n run: one consumer group, one lake; each its own ' +
        'run dir (<run_dir>/members/<i>: pid file, etl.log), checkpoint store (<checkpoint_root>/members/<i>) ' +
        'and status port (ui.status_port + i, or the next free one)',
    )
    .action(async (n: string | undefined) =>
      scale(context.config().config, context, configFile(), parseMemberCount(n)),
    );

  services
    .command('ps')
    .description(
      "each broker, the platform and the local ETL members, then the ETL's consumer group from Kafka (who holds which partition); " +
        'exits 0 only when everything is up',
    )
    .action(async () => {
      const { config } = context.config();
      const logger = context.logger(2);
      const [brokers, platform, members, group] = await Promise.all([
        brokerRows(config, logger),
        platformRow(config),
        memberRows(config),
        groupView(config, logger),
      ]);
      say(renderPs(brokers, platform, members));
      say('');
      say(renderGroup(group, localGroupLabels(config, group, platform, members)));
      if (!allUp(brokers, platform, members)) {
        const down = [
          ...brokers.filter((b) => !b.up).map((b) => `${b.name} down`),
          ...(platform.state === 'ready' ? [] : [`platform ${platform.state}`]),
          ...members.filter((m) => m.state !== 'ready').map((m) => `member-${m.index} ${m.state}`),
        ];
        throw new SdpError(ErrorCodes.SERVICES_NOT_ALL_UP, `not everything is up: ${down.join(', ')}`, [
          '`make up` starts what is missing; `make logs` shows why the platform stopped',
        ]);
      }
    });

  services
    .command('logs')
    .description(
      "follow the platform log, pretty-printed (an ETL member's with --service member-N, a broker's server log with --service kafka-N)",
    )
    .option('-s, --service <name>', 'platform, member-1 … member-N, or kafka-1 … kafka-N', 'platform')
    .option('-n, --lines <n>', 'lines of history first', (v) => Number.parseInt(v, 10), 50)
    .option('--no-follow', 'print the last lines and exit')
    .action(async (opts: { service: string; lines: number; follow: boolean }) => {
      if (!Number.isInteger(opts.lines) || opts.lines < 0)
        throw new SdpError(ErrorCodes.USAGE, '--lines (LINES=) must be a whole number ≥ 0');
      await logs(context.config().config, opts);
    });

  services
    .command('setup')
    .description(
      'check Node, npm, Java, Maven, kcat, Python and Docker; fetch the Kafka jars; print the command for whatever is missing',
    )
    .action(async () => {
      const { config } = context.config();
      say('checking tools …');
      const checks = checkTools();
      say(
        renderTable(
          ['tool', 'status', 'version', 'needed for'],
          checks.map((c) => [
            c.tool,
            checkOk(c) ? 'ok' : c.required ? 'MISSING' : 'missing (optional)',
            c.problem ?? c.version ?? '-',
            c.purpose,
          ]),
        ),
      );
      const javaOk = checks.find((c) => c.tool === 'java' && checkOk(c));
      const mvnOk = checks.find((c) => c.tool === 'mvn' && checkOk(c));
      if (javaOk && mvnOk) {
        say(
          `fetching the Apache Kafka ${config.kafka.local.kafka_version} jars with Maven (cached in ~/.m2; the first time takes a minute or two) …`,
        );
        const startedMs = Date.now();
        await resolveKafkaClasspath(localDataDir(config), config.kafka.local.kafka_version, context.logger(2));
        say(`Kafka jars ready (${seconds(Date.now() - startedMs)})`);
      }
      const todo = checks.filter((c) => !checkOk(c) && c.fix);
      if (todo.length > 0) {
        say('to install what is missing:');
        for (const c of todo) say(`  ${c.tool}: ${c.fix}`);
      }
      const missing = checks.filter((c) => c.required && !checkOk(c));
      if (missing.length > 0)
        throw new SdpError(
          ErrorCodes.SERVICES_MISSING,
          `required tool${missing.length === 1 ? '' : 's'} missing: ${missing.map((c) => c.tool).join(', ')}`,
          missing.map((c) => `${c.tool}: ${c.fix ?? c.problem ?? ''}`),
        );
      say('setup done: `make up` starts everything in the background, `make run` in the foreground');
    });

  services
    .command('init-volumes')
    .description('create the data roots (lake, checkpoints, Kafka data, run dir) and mark each with .sdp-root')
    .action(() => {
      const { config } = context.config();
      const results = initVolumes(config);
      say(
        renderTable(
          ['root', 'path', 'directory', 'marker'],
          results.map((r) => [
            r.root.key,
            r.root.path,
            r.created ? 'created (0750)' : 'exists',
            r.root.kind === undefined
              ? '-'
              : r.markerWritten
                ? `written (${r.root.kind})`
                : `already there (${r.existingKind ?? 'unreadable'})`,
          ]),
        ),
      );
    });

  services
    .command('clean')
    .description(
      "stop everything and delete the local brokers' data (all topics and messages); the lake and checkpoints stay",
    )
    .action(async () => {
      const { config } = context.config();
      const dataDir = assertKafkaDataDeletable(config);
      await down(config, context);
      const logger = context.logger(2);
      const result = await localClusterDown(config, logger);
      if (result.stopped.length + result.killed.length > 0) say(`Kafka: stopped the local brokers of ${dataDir} too`);
      if (dockerAnswers()) {
        const code = await compose(['down', '-v']);
        say(
          code === 0
            ? 'Kafka: Docker cluster removed with its volumes (docker compose down -v)'
            : `Kafka: docker compose down -v failed (exit ${String(code)})`,
        );
      }
      if (existsSync(dataDir)) {
        rmSync(dataDir, { recursive: true, force: true });
        say(`Kafka: deleted ${dataDir} (every topic and message of the local brokers)`);
      } else {
        say(`Kafka: ${dataDir} does not exist: nothing to delete`);
      }
      say(
        `kept: ${config.storage.datalake_root} (lake) and ${config.storage.checkpoint_root} (checkpoints); \`make clean-data\` deletes those`,
      );
    });
}
