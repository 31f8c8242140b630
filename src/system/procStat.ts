/**
 * What Linux's /proc says about a process: /proc/<pid>/stat (state, CPU ticks, start time) and the
 * memory lines of /proc/<pid>/status. Every reader returns null where there is no /proc (macOS),
 * once the process is gone, or when the text is not what the kernel writes.
 */
import { readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the platform and the benchmarks use (proc(5) numbers them from 1). */
export interface ProcStat {
  /** Field 2, the command name, without its parentheses. */
  comm: string;
  /** Field 3: R running, S sleeping, D disk wait, Z zombie, ... */
  state: string;
  /** Field 14: CPU time in user mode, all threads, in clock ticks (USER_HZ). */
  utimeTicks: number;
  /** Field 15: CPU time in kernel mode, all threads, in clock ticks. */
  stimeTicks: number;
  /**
   * Field 22: start time in clock ticks since boot. Kept as text: it is only compared and stored
   * (lock holder and pid files), never computed with.
   */
  startTicks: string;
}

/** VmRSS (resident now) and VmHWM (peak resident) of /proc/<pid>/status in kB; null where absent (kernel threads). */
export interface ProcStatus {
  vmRssKb: number | null;
  vmHwmKb: number | null;
}

/** Parses the text of /proc/<pid>/stat; null when it is malformed. */
export function parseProcStat(text: string): ProcStat | null {
  // The command name may hold spaces and parentheses, but nothing after it can: split after the LAST ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // fields[0] is field 3 (state).
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const state = fields[0];
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTicks = fields[19];
  if (state === undefined || startTicks === undefined || !/^\d+$/.test(startTicks)) return null;
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime)) return null;
  return { comm: text.slice(open + 1, close), state, utimeTicks: utime, stimeTicks: stime, startTicks };
}

/** Parses the text of /proc/<pid>/status for its memory lines. */
export function parseProcStatus(text: string): ProcStatus {
  const kb = (field: string): number | null => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return { vmRssKb: kb('VmRSS'), vmHwmKb: kb('VmHWM') };
}

export function readProcStat(pid: number): ProcStat | null {
  const text = readProcFile(pid, 'stat');
  return text === null ? null : parseProcStat(text);
}

export function readProcStatus(pid: number): ProcStatus | null {
  const text = readProcFile(pid, 'status');
  return text === null ? null : parseProcStatus(text);
}

/** The process start time (field 22), which tells a process from a later one that got its pid; null without /proc. */
export function processStartTicks(pid: number): string | null {
  return readProcStat(pid)?.startTicks ?? null;
}

function readProcFile(pid: number, file: 'stat' | 'status'): string | null {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}
