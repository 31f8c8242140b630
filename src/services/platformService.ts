/**
 * The platform as a background service (architecture.md, "Services and operating"): `run`
 * detached from the terminal, a pid file that knows the process by its start time and command
 * line, a size-capped log, a bounded wait for /readyz, and a stop that waits for the graceful
 * shutdown before it kills. The ETL members of `services scale` are started and stopped the same way.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { isPidAlive, sleep } from '../system/processes.js';
import {
  pidFileVerdict,
  readPidFile,
  removePidFile,
  writePidFile,
  type PidRecord,
  type PidVerdict,
} from './pidFile.js';
import { identifyProcess } from '../system/processIdentity.js';
import { LOG_FILE, OUT_FILE } from './serviceState.js';
import { tailLines } from '../log/logTail.js';
import { PLATFORM_NODE_ARGS, platformEnv } from './platformRuntime.js';

export function runDirOf(config: Config): string {
  return resolve(config.services.run_dir);
}

export function logFileOf(config: Config): string {
  return join(runDirOf(config), LOG_FILE);
}

export interface PlatformInspection {
  record?: PidRecord;
  verdict?: PidVerdict;
}

/** The pid file and what became of its process. */
export function inspectPlatform(runDir: string): PlatformInspection {
  const record = readPidFile(runDir);
  if (!record) return {};
  return { record, verdict: pidFileVerdict(record, identifyProcess(record.pid)) };
}

export function describeStale(record: PidRecord, verdict: PidVerdict): string {
  return verdict.state === 'reused'
    ? `pid ${record.pid} now belongs to another program (${verdict.commandLine.slice(0, 80) || 'unknown'}), not the platform`
    : `pid ${record.pid} is gone (the platform died or was killed without \`make down\`)`;
}

/** GET a URL; the status code, or undefined when nothing answers within `timeoutMs`. */
export function httpStatus(url: string, timeoutMs = 2_000): Promise<number | undefined> {
  return new Promise((resolvePromise) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolvePromise(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolvePromise(undefined));
    req.end();
  });
}

/** GET a URL and parse JSON; undefined on any failure. */
export function httpJson<T>(url: string, timeoutMs = 5_000): Promise<T | undefined> {
  return new Promise((resolvePromise) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => {
        try {
          resolvePromise(res.statusCode === 200 ? (JSON.parse(body) as T) : undefined);
        } catch {
          resolvePromise(undefined);
        }
      });
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolvePromise(undefined));
    req.end();
  });
}

/** The status page URL the process `pid` logged ('status page listening'), from the log file. */
export function statusUrlFromLog(logFile: string, pid: number): string | undefined {
  for (const line of tailLines(logFile, 2_000).reverse()) {
    if (!line.includes('status page listening')) continue;
    try {
      const entry = JSON.parse(line) as { pid?: number; msg?: string; url?: string };
      if (entry.pid === pid && entry.msg === 'status page listening' && entry.url)
        return entry.url.replace('//0.0.0.0:', '//127.0.0.1:');
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/** The last message the process `pid` logged, for progress lines. */
function lastMessage(logFile: string, pid: number): string | undefined {
  for (const line of tailLines(logFile, 50).reverse()) {
    try {
      const entry = JSON.parse(line) as { pid?: number; msg?: string };
      if (entry.pid === pid && entry.msg) return entry.msg;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

export interface StartOptions {
  config: Config;
  /** `-c <file>` of this invocation, passed on to the platform. */
  configFile?: string;
  say: (line: string) => void;
  /** Progress lines while waiting, at most this often. */
  progressEveryMs?: number;
}

export type StartResult =
  | { ok: true; pid: number; statusUrl: string; readyMs: number }
  | { ok: false; pid: number; reason: string; logLines: string[] };

/** Reads a freshly spawned child's command line once it has exec'd (right after fork it is still ours). */
async function settledCommandLine(pid: number, marker: string): Promise<{ commandLine: string; startTime?: string }> {
  const deadlineMs = Date.now() + 3_000;
  for (;;) {
    const id = identifyProcess(pid);
    if (!id.alive || (id.commandLine ?? '').includes(marker) || Date.now() > deadlineMs) {
      return { commandLine: id.commandLine ?? '', ...(id.startTime !== undefined ? { startTime: id.startTime } : {}) };
    }
    await sleep(20);
  }
}

/** A long-running process of `services`: the platform (`run`) or an ETL member (`etl`). */
export interface DetachedSpec {
  /** `platform`, `member 2`: the start of every line said about it. */
  label: string;
  /** Where its pid file goes. */
  runDir: string;
  logFile: string;
  /** Its stdout/stderr, truncated here. */
  outFile: string;
  /** node flags, then the script and its arguments (which must contain `--log-file`). */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  /** How long a process that is not ready in time gets for its graceful shutdown. */
  shutdownTimeoutMs: number;
  say: (line: string) => void;
  progressEveryMs?: number;
}

/**
 * Starts `run` detached (own session, no terminal, stdout/stderr to platform.out, logs to
 * platform.log) and waits up to services.ready_timeout for /readyz. On failure the platform is
 * stopped (if it still runs) and the pid file removed.
 */
export async function startPlatform(options: StartOptions): Promise<StartResult> {
  const { config } = options;
  const cli = resolve(process.argv[1] ?? 'dist/main.js');
  return startDetached({
    label: 'platform',
    runDir: runDirOf(config),
    logFile: logFileOf(config),
    outFile: join(runDirOf(config), OUT_FILE),
    argv: [
      ...PLATFORM_NODE_ARGS,
      cli,
      ...(options.configFile ? ['--config', options.configFile] : []),
      'run',
      '--log-file',
      logFileOf(config),
    ],
    env: platformEnv(process.env),
    readyTimeoutMs: config.services.ready_timeout,
    shutdownTimeoutMs: config.etl.shutdown_timeout,
    say: options.say,
    ...(options.progressEveryMs !== undefined ? { progressEveryMs: options.progressEveryMs } : {}),
  });
}

/**
 * Spawns a process detached, writes its pid file in `spec.runDir` and waits up to `spec.readyTimeoutMs` for
 * the /readyz of the status URL it logs. On failure the process is stopped (if it still runs) and the pid
 * file removed.
 */
export async function startDetached(spec: DetachedSpec): Promise<StartResult> {
  const { label, runDir, logFile, outFile, say } = spec;
  mkdirSync(runDir, { recursive: true, mode: 0o750 });
  const out = openSync(outFile, 'w');
  let pid: number;
  try {
    const child = spawn(process.execPath, [...spec.argv], {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: process.cwd(),
      env: spec.env,
    });
    child.on('error', () => undefined);
    child.unref();
    if (child.pid === undefined)
      return { ok: false, pid: -1, reason: `could not start ${process.execPath}`, logLines: [] };
    pid = child.pid;
  } finally {
    closeSync(out);
  }
  const identity = await settledCommandLine(pid, '--log-file');
  const startedAt = new Date().toISOString();
  writePidFile(runDir, {
    pid,
    ...(identity.startTime !== undefined ? { startTime: identity.startTime } : {}),
    commandLine: identity.commandLine,
    startedAt,
  });

  const startedMs = Date.now();
  const deadlineMs = startedMs + spec.readyTimeoutMs;
  const everyMs = spec.progressEveryMs ?? 5_000;
  let nextProgressMs = startedMs + everyMs;
  say(`${label}: started (pid ${pid}); waiting for /readyz (at most ${Math.round(spec.readyTimeoutMs / 1000)} s) …`);
  for (;;) {
    if (!isPidAlive(pid)) {
      removePidFile(runDir);
      return {
        ok: false,
        pid,
        reason: `the ${label} (pid ${pid}) exited during its start`,
        logLines: failureLines(logFile, outFile, pid),
      };
    }
    const url = statusUrlFromLog(logFile, pid);
    if (url && (await httpStatus(new URL('/readyz', url).toString())) === 200) {
      return { ok: true, pid, statusUrl: url, readyMs: Date.now() - startedMs };
    }
    const nowMs = Date.now();
    if (nowMs > deadlineMs) {
      const logLines = failureLines(logFile, outFile, pid);
      const stopped = await stopProcess(pid, spec.shutdownTimeoutMs);
      removePidFile(runDir);
      return {
        ok: false,
        pid,
        reason: `the ${label} (pid ${pid}) was not ready within ${Math.round(spec.readyTimeoutMs / 1000)} s (services.ready_timeout); it was stopped (${stopped.how})`,
        logLines,
      };
    }
    if (nowMs >= nextProgressMs) {
      nextProgressMs = nowMs + everyMs;
      say(
        `${label}: still waiting for /readyz after ${Math.round((nowMs - startedMs) / 1000)} s; last log: ${lastMessage(logFile, pid) ?? '(nothing yet)'}`,
      );
    }
    await sleep(250);
  }
}

/** The platform's last log lines of this run, then whatever it printed outside the logger. */
function failureLines(logFile: string, outFile: string, pid: number): string[] {
  const own = tailLines(logFile, 400)
    .filter((l) => l.includes(`"pid":${pid},`))
    .slice(-20);
  const printed = tailLines(outFile, 20);
  return [...own, ...printed];
}

export interface StopResult {
  /** How it ended: 'SIGTERM', 'SIGKILL' or 'already gone'. */
  how: 'SIGTERM' | 'SIGKILL' | 'already gone';
  elapsedMs: number;
}

/** SIGTERM, wait up to `timeoutMs` (+2 s for the process to exit after its own deadline), then SIGKILL. */
export async function stopProcess(pid: number, timeoutMs: number): Promise<StopResult> {
  const startedMs = Date.now();
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return { how: 'already gone', elapsedMs: 0 };
  }
  const deadlineMs = startedMs + timeoutMs + 2_000;
  while (isPidAlive(pid) && Date.now() < deadlineMs) await sleep(100);
  if (!isPidAlive(pid)) return { how: 'SIGTERM', elapsedMs: Date.now() - startedMs };
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited just now
  }
  while (isPidAlive(pid) && Date.now() < deadlineMs + 5_000) await sleep(100);
  return { how: 'SIGKILL', elapsedMs: Date.now() - startedMs };
}

/** The exit code the platform `pid` logged in its last line ('stopped'), when it did. */
export function loggedExitCode(logFile: string, pid: number): number | undefined {
  for (const line of tailLines(logFile, 200).reverse()) {
    try {
      const entry = JSON.parse(line) as { pid?: number; msg?: string; exit_code?: number };
      if (entry.pid === pid && entry.msg === 'stopped' && typeof entry.exit_code === 'number') return entry.exit_code;
    } catch {
      // not JSON
    }
  }
  return undefined;
}
