/** What /proc says about a child process the benchmarks measure (Linux only; undefined elsewhere or once it exited). */
import { readProcStat, readProcStatus } from '../src/system/procStat.js';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux's usual builds). */
const USER_HZ = 100;

/** VmRSS (resident now) or VmHWM (peak resident) of /proc/<pid>/status, in kB. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const status = readProcStatus(pid);
  return (field === 'VmRSS' ? status?.vmRssKb : status?.vmHwmKb) ?? undefined;
}

/** CPU seconds the process used, all threads: utime + stime of /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number | undefined {
  const stat = readProcStat(pid);
  return stat ? (stat.utimeTicks + stat.stimeTicks) / USER_HZ : undefined;
}

/** A suffix that makes topic, group and directory names of one run unique. */
export function randomSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
