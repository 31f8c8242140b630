/**
 * `services up → ps → logs → down` against the shared cluster, as `make up` runs it: the cluster
 * already answers, so `up` must use it and say so, and `down` must leave it running. The platform
 * gets its own topics, group, status port (20081, from this test's port block) and data roots
 * under /tmp. Also: a second `up` while running, stale pid files (process gone, pid reused by
 * another program) and a platform that fails to start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { isPidAlive } from '../../../src/system/processes.js';
import { readPidFile, renderPidFile } from '../../../src/services/pidFile.js';
import { identifyProcess } from '../../../src/system/processIdentity.js';
import { readRootMarker } from '../../../src/storage/rootMarker.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { kcatMetadata } from '../helpers/kcat.js';
import { withAdmin } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { CLI, PROJECT_ROOT } from '../helpers/projectRoot.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const STATUS_PORT = 20081;
const config = loadTestConfig();
const base = mkdtempSync(join(tmpdir(), 'sdp-services-'));
const runDir = join(base, 'run');
const env = {
  // The running test cluster plays a cluster started elsewhere (another checkout, by hand): this
  // checkout's own broker data dir is an empty one, so `up` must find the cluster by asking it.
  SDP_KAFKA__LOCAL__DATA_DIR: join(base, 'kafka'),
  SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
  SDP_TOPICS__IOT: config.topics.iot,
  SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
  SDP_STORAGE__DATALAKE_ROOT: join(base, 'lake'),
  SDP_STORAGE__CHECKPOINT_ROOT: join(base, 'checkpoints'),
  SDP_SERVICES__RUN_DIR: runDir,
  SDP_UI__STATUS_PORT: String(STATUS_PORT),
  SDP_DATA_GENERATOR__EVENTS_PER_SECOND__CLICKSTREAM: '40',
  SDP_DATA_GENERATOR__EVENTS_PER_SECOND__IOT: '20',
  SDP_DATA_GENERATOR__THREADS: '1',
  SDP_LOG__LEVEL: 'info',
};

/** A process that exited: its pid is free (until reused), as a platform killed by kill -9 leaves it. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('close', resolve));
  return child.pid!;
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve(server));
  });
}

describe('services up → ps → logs → down on a cluster that already answers', () => {
  let platformPid: number | undefined;

  afterAll(async () => {
    const record = readPidFile(runDir);
    if (record && isPidAlive(record.pid)) await runCli(['services', 'down'], env);
    if (platformPid !== undefined && isPidAlive(platformPid)) process.kill(platformPid, 'SIGKILL');
    await withAdmin(config, testLogger(), (admin) =>
      // `up` creates the window stages' internal topics of the test's group too.
      admin.deleteTopics({ topics: platformTopicNames(config) }),
    ).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });

  it('up: uses the running cluster and says so, replaces a stale pid file, waits for /readyz and prints the URLs', async () => {
    // A pid file left by a platform that died: `up` must notice and carry on.
    mkdirSync(runDir, { recursive: true });
    const gone = await deadPid();
    writeFileSync(
      join(runDir, 'sdp.pid'),
      renderPidFile({ pid: gone, startTime: '1', commandLine: `node ${CLI} run`, startedAt: new Date().toISOString() }),
    );

    const result = await runCli(['services', 'up'], env);
    expect(result.stderr).not.toContain(ErrorCodes.LOCAL_KAFKA_PORT_TAKEN);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Kafka: a cluster already answers on 127\.0\.0\.1:19092,127\.0\.0\.1:29092,127\.0\.0\.1:39092 \(3 brokers\), not started from this checkout: using it/,
    );
    expect(result.stdout).toContain(`stale pid file (pid ${gone} is gone`);
    expect(result.stdout).toMatch(/waiting for \/readyz/);
    expect(result.stdout).toMatch(/platform: ready in \d+\.\d s \(pid \d+\)/);
    expect(result.stdout).toContain(`http://127.0.0.1:${STATUS_PORT}/api/status`);
    console.info(`services up (shared cluster): ${result.elapsedMs} ms`);

    const record = readPidFile(runDir)!;
    platformPid = record.pid;
    expect(record.pid).not.toBe(gone);
    expect(isPidAlive(record.pid)).toBe(true);
    expect(record.commandLine).toMatch(/main\.js .*run --log-file/);
    // The memory settings of a long-running platform (services/platformRuntime.ts).
    expect(record.commandLine).toContain('--max-semi-space-size=4');
    expect(readFileSync(`/proc/${record.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
    // Detached: its own session, not a child of the CLI that exited.
    const res = await fetch(`http://127.0.0.1:${STATUS_PORT}/readyz`);
    expect(res.status).toBe(200);
    // The first run marks the roots it created as the platform's.
    expect(readRootMarker(env.SDP_STORAGE__DATALAKE_ROOT)).toMatchObject({
      status: 'ok',
      marker: { kind: 'datalake' },
    });
    expect(readRootMarker(env.SDP_STORAGE__CHECKPOINT_ROOT)).toMatchObject({
      status: 'ok',
      marker: { kind: 'checkpoints' },
    });
    // The first line of the pid file is the bare pid (what other tools and the clean commands read).
    expect(readFileSync(join(runDir, 'sdp.pid'), 'utf8').split('\n')[0]).toBe(String(record.pid));
  });

  it('a second up while it runs is a no-op that says so', async () => {
    const result = await runCli(['services', 'up'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `already running: platform pid ${platformPid}, up \\d+s, status page http://127\\.0\\.0\\.1:${STATUS_PORT}/; nothing to do`,
      ),
    );
    expect(readPidFile(runDir)?.pid).toBe(platformPid);
  });

  it('ps: one table, every broker and the platform up, events/s and lag per stream, exit 0', async () => {
    // The ETL's first metrics line (10 s) carries events/s; wait until it has processed something.
    await waitFor(
      async () => {
        const status = (await (await fetch(`http://127.0.0.1:${STATUS_PORT}/api/status`)).json()) as {
          etl?: { progress: Array<{ eventsPerSecond: number }>; lastCheckpointMs: number | null };
        };
        return (
          (status.etl?.progress.some((p) => p.eventsPerSecond > 0) ?? false) && status.etl?.lastCheckpointMs !== null
        );
      },
      60_000,
      'the ETL to report progress and a checkpoint',
    );
    const result = await runCli(['services', 'ps'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+NODE\s+PORT\s+PID\/CONTAINER\s+STATE\s+UNDER-REPLICATED/);
    for (const [i, port] of [19092, 29092, 39092].entries())
      expect(lines[i + 1]).toMatch(new RegExp(`^kafka-${i + 1}\\s+\\d+\\s+${port}\\s+\\S+\\s+up\\s+\\d+`));
    expect(lines[4]).toMatch(
      new RegExp(
        `^platform\\s+-\\s+${STATUS_PORT}\\s+pid ${platformPid}\\s+ready\\s+-\\s+\\d+(s|m \\d+s)\\s+-\\s+-\\s+\\d+s ago$`,
      ),
    );
    expect(lines[5]).toMatch(/^ {2}clickstream\s.*\s\d+(\.\d)? \/ \d+(\.\d)?\s+\d+\s+-$/);
    expect(lines[6]).toMatch(/^ {2}iot\s.*\s\d+(\.\d)? \/ \d+(\.\d)?\s+\d+\s+-$/);
  });

  it('logs: the last LINES lines pretty-printed, then follows new ones', async () => {
    const tail = await runCli(['services', 'logs', '--no-follow', '--lines', '5'], env);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines)
      expect(line).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|DEBUG|ERROR) \(\d+\): /);

    const history = await runCli(['services', 'logs', '--no-follow', '--lines', '2000'], env);
    expect(history.stdout).toMatch(/INFO \(\d+\): status page listening/);

    // Follow: a line the platform logs after we started following (the 10 s metrics lines) shows up.
    const follower: ChildProcess = spawn(process.execPath, [CLI, 'services', 'logs', '--lines', '0'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follower.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    try {
      await waitFor(() => /(producer|etl) metrics/.test(out), 30_000, 'a followed metrics line');
    } finally {
      follower.kill('SIGTERM');
      await new Promise((resolve) => follower.once('close', resolve));
    }
    expect(out).toMatch(/\] INFO \(\d+\): (producer|etl) metrics/);
  });

  it('down: SIGTERM, graceful stop within etl.shutdown_timeout, and the cluster it did not start keeps running', async () => {
    const result = await runCli(['services', 'down'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `platform: sent SIGTERM to pid ${platformPid}; waiting up to 30 s (etl.shutdown_timeout)`,
    );
    expect(result.stdout).toMatch(/platform: stopped after SIGTERM in \d+\.\d s, graceful shutdown/);
    expect(result.stdout).toMatch(
      /Kafka: the cluster on 127\.0\.0\.1:19092,127\.0\.0\.1:29092,127\.0\.0\.1:39092 was not started by `make up`: left running/,
    );
    expect(isPidAlive(platformPid!)).toBe(false);
    expect(existsSync(join(runDir, 'sdp.pid'))).toBe(false);
    expect((await kcatMetadata(config.kafka.bootstrap_servers[0]!)).brokers).toHaveLength(3);

    const ps = await runCli(['services', 'ps'], env);
    expect(ps.code).toBe(1);
    expect(ps.stdout).toMatch(/^platform\s+-\s+-\s+-\s+stopped/m);
    expect(ps.stderr).toContain(ErrorCodes.SERVICES_NOT_ALL_UP);
  });

  it('a pid file whose pid now belongs to another program: ps says stale, down removes it and leaves that program alone', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(
        join(runDir, 'sdp.pid'),
        renderPidFile({
          pid: other.pid!,
          startTime: '1',
          commandLine: `node ${CLI} run --log-file x`,
          startedAt: new Date().toISOString(),
        }),
      );
      const ps = await runCli(['services', 'ps'], env);
      expect(ps.code).toBe(1);
      expect(ps.stdout).toMatch(new RegExp(`^platform\\s+-\\s+-\\s+pid ${other.pid}\\s+stale pid file`, 'm'));
      const down = await runCli(['services', 'down'], env);
      expect(down.code).toBe(0);
      expect(down.stdout).toContain(
        `removed a stale pid file (pid ${other.pid} now belongs to another program (sleep 60)`,
      );
      expect(isPidAlive(other.pid!)).toBe(true);
      expect(existsSync(join(runDir, 'sdp.pid'))).toBe(false);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('down kills (SIGKILL) a platform that does not exit within etl.shutdown_timeout of SIGTERM, and says so', async () => {
    // Stands in for a platform stuck in its shutdown: ignores SIGTERM.
    const stuck = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", 'run'],
      { stdio: 'ignore' },
    );
    try {
      await waitFor(
        () => identifyProcess(stuck.pid!).commandLine?.includes('SIGTERM') === true,
        10_000,
        'the stand-in to start',
      );
      const id = identifyProcess(stuck.pid!);
      mkdirSync(runDir, { recursive: true });
      writeFileSync(
        join(runDir, 'sdp.pid'),
        renderPidFile({
          pid: stuck.pid!,
          startTime: id.startTime!,
          commandLine: id.commandLine!,
          startedAt: new Date().toISOString(),
        }),
      );
      const down = await runCli(['services', 'down'], { ...env, SDP_ETL__SHUTDOWN_TIMEOUT: '2s' });
      expect(down.code).toBe(0);
      expect(down.stdout).toContain(
        `platform: sent SIGTERM to pid ${stuck.pid}; waiting up to 2 s (etl.shutdown_timeout)`,
      );
      expect(down.stdout).toContain('platform: did not exit within 2 s of SIGTERM: killed it (SIGKILL)');
      await waitFor(() => stuck.exitCode !== null || stuck.signalCode !== null, 10_000, 'the stand-in to exit');
      expect(stuck.signalCode).toBe('SIGKILL');
      expect(existsSync(join(runDir, 'sdp.pid'))).toBe(false);
    } finally {
      stuck.kill('SIGKILL');
    }
  });

  it('a platform that fails to start: up prints its last log lines, exits 1 and leaves no process or pid file', async () => {
    const blocker = await occupy(STATUS_PORT);
    try {
      const result = await runCli(['services', 'up'], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        /platform: FAILED: the platform \(pid \d+\) exited during its start\. Last log lines:/,
      );
      expect(result.stdout).toContain(
        `${ErrorCodes.UI_PORT_IN_USE}: ui.status_port: port ${STATUS_PORT} on 127.0.0.1 is already in use`,
      );
      expect(result.stderr).toContain(ErrorCodes.SERVICES_START_FAILED);
      const pid = Number(/the platform \(pid (\d+)\)/.exec(result.stdout)![1]);
      expect(isPidAlive(pid)).toBe(false);
      expect(existsSync(join(runDir, 'sdp.pid'))).toBe(false);
      expect(readFileSync(join(runDir, 'platform.log'), 'utf8')).toContain(`"pid":${pid}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
