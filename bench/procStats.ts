/** What /proc says about a child process the benchmarks measure (Linux only; undefined elsewhere or once it exited). */
import { readdirSync, readFileSync } from 'node:fs';
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

/**
 * Pids of the local cluster's Kafka brokers (java processes running kafka.Kafka with a node of `dataDir`, as `kafka
 * up` starts them; not another cluster's, e.g. the secured or chaos tests'): what they spend beside a run shares the
 * same cores, so a benchmark reports it with the client's own CPU.
 */
export function kafkaBrokerPids(dataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('kafka.Kafka') && argv.some((a) => a.startsWith(`${dataDir}/node-`))) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** CPU seconds the given processes used so far, summed (those that exited count 0). */
export function cpuSecondsOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (procCpuSeconds(pid) ?? 0), 0);
}

/**
 * CPU seconds per thread name of a live process (/proc/<pid>/task/<tid>/stat: comm, utime + stime), summed over the
 * threads of one name, most first: where a run's CPU went (`main`; Node's worker threads are `node`, the libuv pool
 * `libuv-worker`, V8's helpers `V8 DefaultWorke`… when the kernel has those names).
 */
export function threadCpuSeconds(pid: number): Array<{ name: string; threads: number; seconds: number }> {
  const byName = new Map<string, { threads: number; seconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    // The main thread's tid is the pid; Node's worker threads are unnamed (`node`) like it.
    const name = tid === String(pid) ? 'main' : text.slice(open + 1, close);
    // After the comm: state is field 3, utime 14 and stime 15 (1-based), so indexes 11 and 12 of the rest.
    const rest = text.slice(close + 2).split(' ');
    const seconds = (Number(rest[11]) + Number(rest[12])) / USER_HZ;
    const cur = byName.get(name) ?? { threads: 0, seconds: 0 };
    byName.set(name, { threads: cur.threads + 1, seconds: cur.seconds + seconds });
  }
  return [...byName].map(([name, t]) => ({ name, ...t })).sort((a, b) => b.seconds - a.seconds);
}
