/**
 * The platform's pid file (architecture.md, "Services and operating"): `<services.run_dir>/sdp.pid`
 * (data/sdp.pid by default). The first line is the bare pid, so any reader (`kill $(head -1
 * data/sdp.pid)`, the clean commands' running check) understands it; the second line is JSON with
 * the process's start time and command line as seen right after the start. `pidFileVerdict` is
 * the staleness rule, pure so it is tested without processes.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessIdentity } from '../system/processIdentity.js';

export const PID_FILE = 'sdp.pid';

export interface PidRecord {
  pid: number;
  /** OS start time of the process (see processIdentity.ts); absent when it could not be read. */
  startTime?: string;
  commandLine: string;
  /** ISO time the platform was started. */
  startedAt: string;
}

export type PidVerdict =
  | { state: 'running' }
  | { state: 'gone' }
  /** The pid belongs to another program now (our process died and the pid was reused). */
  | { state: 'reused'; commandLine: string };

/**
 * Whether the process a pid file names is still our platform. Gone when no process has the pid;
 * reused when one has it but started at another time or runs another command line; running only
 * when both match what was recorded.
 */
export function pidFileVerdict(record: PidRecord, observed: ProcessIdentity): PidVerdict {
  if (!observed.alive) return { state: 'gone' };
  const commandLine = observed.commandLine ?? '';
  if (record.startTime !== undefined && observed.startTime !== undefined && record.startTime !== observed.startTime)
    return { state: 'reused', commandLine };
  if (observed.commandLine === undefined) return { state: 'running' };
  // A bare pid (written by hand) records no command line: accept only a platform `run`.
  const matches =
    record.commandLine === ''
      ? isPlatformCommandLine(observed.commandLine)
      : observed.commandLine === record.commandLine;
  return matches ? { state: 'running' } : { state: 'reused', commandLine };
}

/** `node …/main.js run …`: the command line of a platform started by `services up`. */
export function isPlatformCommandLine(commandLine: string): boolean {
  return /\bmain\.js\b/.test(commandLine) && /(^|\s)run(\s|$)/.test(commandLine);
}

export function pidFilePath(runDir: string): string {
  return join(runDir, PID_FILE);
}

/** The text of a pid file: the pid on the first line, the identity as JSON on the second. */
export function renderPidFile(record: PidRecord): string {
  const { pid, ...identity } = record;
  return `${pid}\n${JSON.stringify(identity)}\n`;
}

/** Parses a pid file as `renderPidFile` writes it, or a bare pid (written by hand). */
export function parsePidFile(text: string): PidRecord | undefined {
  const [first = '', ...rest] = text.trim().split('\n');
  if (!/^\d+$/.test(first.trim()) || Number(first) <= 0) return undefined;
  const pid = Number(first);
  const json = rest.join('\n').trim();
  if (json === '') return { pid, commandLine: '', startedAt: '' };
  try {
    const value = JSON.parse(json) as Partial<PidRecord>;
    return {
      pid,
      ...(typeof value.startTime === 'string' ? { startTime: value.startTime } : {}),
      commandLine: typeof value.commandLine === 'string' ? value.commandLine : '',
      startedAt: typeof value.startedAt === 'string' ? value.startedAt : '',
    };
  } catch {
    // The pid line is what matters; without the identity, the command-line rule decides.
    return { pid, commandLine: '', startedAt: '' };
  }
}

export function readPidFile(runDir: string): PidRecord | undefined {
  try {
    return parsePidFile(readFileSync(pidFilePath(runDir), 'utf8'));
  } catch {
    return undefined;
  }
}

export function writePidFile(runDir: string, record: PidRecord): void {
  writeFileSync(pidFilePath(runDir), renderPidFile(record));
}

export function removePidFile(runDir: string): void {
  rmSync(pidFilePath(runDir), { force: true });
}
