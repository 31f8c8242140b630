/**
 * Small OS helpers for the local cluster: which processes run, which ports are taken. Linux reads
 * /proc; elsewhere `ps` and `lsof` stand in.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { readProcStat } from './procStat.js';

export interface ProcessInfo {
  pid: number;
  /** The command line, arguments joined by spaces. */
  commandLine: string;
}

/** True when a process with this pid exists (a zombie counts as gone). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed but unreaped child is a zombie: alive for kill(0), dead for us. Without /proc: alive.
  return readProcStat(pid)?.state !== 'Z';
}

/** Every process of the machine with its command line. */
export function listProcesses(): ProcessInfo[] {
  if (existsSync('/proc/self/cmdline')) {
    const result: ProcessInfo[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const raw = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (raw !== '') result.push({ pid: Number(entry), commandLine: raw.replace(/\0+$/, '').split('\0').join(' ') });
      } catch {
        // The process ended while we looked.
      }
    }
    return result;
  }
  const ps = spawnSync('ps', ['-axww', '-o', 'pid=,command='], { encoding: 'utf8' });
  return (ps.stdout ?? '')
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), commandLine: m[2] ?? '' }));
}

export function commandLineOf(pid: number): string | undefined {
  return listProcesses().find((p) => p.pid === pid)?.commandLine;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isPortListening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True when we could bind 127.0.0.1:port right now (nobody listens on it or on 0.0.0.0). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Who holds a TCP port, e.g. `java (pid 1234)`, or a connection that still uses it as its local
 * port (`a TIME-WAIT connection 127.0.0.1:39192 -> 127.0.0.1:39193`); undefined when it cannot be
 * told cheaply.
 */
export function describePortOwner(port: number): string | undefined {
  const listening = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', timeout: 3_000 });
  if (listening.status === 0 && listening.stdout) {
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(listening.stdout);
    if (m) return `${m[1]} (pid ${m[2]})`;
  }
  const any = spawnSync('ss', ['-tanpH', `sport = :${port}`], { encoding: 'utf8', timeout: 3_000 });
  const first = any.status === 0 ? any.stdout.split('\n').find((line) => line.trim() !== '') : undefined;
  if (first) {
    const [state, , , local, peer] = first.trim().split(/\s+/);
    const user = /users:\(\("([^"]+)",pid=(\d+)/.exec(first);
    const strip = (address: string | undefined) => (address ?? '?').replace('[::ffff:', '').replace(']', '');
    return `a ${state ?? '?'} connection ${strip(local)} -> ${strip(peer)}${user ? ` of ${user[1]} (pid ${user[2]})` : ''}`;
  }
  const lsof = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], {
    encoding: 'utf8',
    timeout: 3_000,
  });
  if (lsof.status === 0 && lsof.stdout) {
    const pid = /^p(\d+)/m.exec(lsof.stdout)?.[1];
    const command = /^c(.+)$/m.exec(lsof.stdout)?.[1];
    if (pid) return `${command ?? 'process'} (pid ${pid})`;
  }
  return undefined;
}

/** Linux's range of ports handed out to outgoing connections, when known. */
export function ephemeralPortRange(): [number, number] | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && Number.isFinite(low) && Number.isFinite(high)
      ? [low, high]
      : undefined;
  } catch {
    return undefined;
  }
}

/** The absolute path of an executable found on PATH, or undefined. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
