/**
 * Who a pid is: its command line and its start time. A pid file alone cannot tell our platform
 * from another program that got the same pid after ours died; these two can.
 */
import { spawnSync } from 'node:child_process';
import { processStartTicks } from './procStat.js';
import { commandLineOf, isPidAlive } from './processes.js';

export interface ProcessIdentity {
  alive: boolean;
  commandLine?: string;
  /** Start time as the OS reports it (Linux: clock ticks since boot; elsewhere `ps -o lstart`). */
  startTime?: string;
}

/** The start time of a process: field 22 of /proc/<pid>/stat on Linux, `ps -o lstart=` elsewhere. */
export function processStartTime(pid: number): string | undefined {
  const ticks = processStartTicks(pid);
  if (ticks !== null) return ticks;
  const ps = spawnSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 3_000 });
  const text = ps.status === 0 ? ps.stdout.trim() : '';
  return text === '' ? undefined : text;
}

export function identifyProcess(pid: number): ProcessIdentity {
  if (!isPidAlive(pid)) return { alive: false };
  const commandLine = commandLineOf(pid);
  const startTime = processStartTime(pid);
  return {
    alive: true,
    ...(commandLine !== undefined ? { commandLine } : {}),
    ...(startTime !== undefined ? { startTime } : {}),
  };
}
