/**
 * Reading the platform's log (architecture.md, "Services and operating"): the last lines of a
 * file, pino JSON lines made readable with pino-pretty, and following a file across rotations.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { prettyFactory } from 'pino-pretty';

/** The last `lines` lines of a file (reads at most the last `maxBytes`); [] when it does not exist. */
export function tailLines(file: string, lines: number, maxBytes = 1024 * 1024): string[] {
  if (lines <= 0) return [];
  try {
    const size = statSync(file).size;
    const length = Math.min(size, maxBytes);
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      const text = buffer.toString('utf8');
      const all = text.split('\n');
      if (all.at(-1) === '') all.pop();
      // The first line may be cut when we did not read from the start.
      if (length < size) all.shift();
      return all.slice(-lines);
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
}

/** A formatter for pino JSON lines; other lines pass unchanged. */
export function createPrettyLine(colorize: boolean): (line: string) => string {
  const pretty = prettyFactory({
    colorize,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'hostname',
    singleLine: true,
  });
  return (line) => {
    if (!line.startsWith('{')) return line;
    try {
      return pretty(JSON.parse(line) as Record<string, unknown>).replace(/\n$/, '');
    } catch {
      return line;
    }
  };
}

/**
 * Calls `onLine` for every line appended to `file` from now on, across rotations (a new inode or
 * a smaller size starts over from the beginning). Returns a function that stops following.
 */
export function followFile(file: string, onLine: (line: string) => void, pollMs = 300): () => void {
  let ino: number | undefined;
  let position = 0;
  let pending = '';
  try {
    const st = statSync(file);
    ino = st.ino;
    position = st.size;
  } catch {
    // appears later
  }
  const poll = () => {
    let st: import('node:fs').Stats;
    try {
      st = statSync(file);
    } catch {
      return;
    }
    if (st.ino !== ino || st.size < position) {
      ino = st.ino;
      position = 0;
      pending = '';
    }
    if (st.size <= position) return;
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(st.size - position);
      const n = readSync(fd, buffer, 0, buffer.length, position);
      position += n;
      pending += buffer.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  };
  const timer = setInterval(poll, pollMs);
  return () => clearInterval(timer);
}
