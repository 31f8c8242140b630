/** A child process run to its end under `/usr/bin/time -v`: exit code, wall seconds, peak RSS, output. */
import { spawn } from 'node:child_process';

export interface TimedRun {
  code: number | null;
  seconds: number;
  /** "Maximum resident set size" of /usr/bin/time -v, MB; undefined when time(1) printed none. */
  peakRssMb: number | undefined;
  stdout: string;
  /** The child's own stderr, time(1)'s report removed. */
  stderr: string;
}

const TIME_REPORT = /\n?\tCommand being timed:[\s\S]*$/;

export function timedRun(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const child = spawn('/usr/bin/time', ['-v', command, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - startMs) / 1000;
      const stderr = Buffer.concat(err).toString('utf8');
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      resolve({
        code,
        seconds,
        peakRssMb: rss ? Number(rss[1]) / 1024 : undefined,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: stderr.replace(TIME_REPORT, ''),
      });
    });
  });
}
