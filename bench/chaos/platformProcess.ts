/**
 * One `node main.js <command>` child of the chaos run (`run` or `generate` under load, `etl` to catch up or as
 * a member), its output appended to a log file. A child that exits without being told to is started again at
 * once and counted: the platform gave up by itself, which the report names.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PlatformProcess {
  private child?: ChildProcess;
  private exited?: Promise<Exit>;
  private expectingExit = false;
  private stopped = false;
  /** Exits nobody asked for, with their codes. */
  readonly unexpectedExits: Array<Exit & { atMs: number }> = [];
  starts = 0;
  /** When the current process was started (Date.now()). */
  startedAtMs = 0;
  /** Where the current process's output begins in the log file. */
  private logOffset = 0;

  constructor(
    private readonly main: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    private readonly cwd: string,
    private readonly logFile: string,
    private readonly say: (line: string) => void,
    /** How the report names it: the command by default, `member <i>` for an ETL member. */
    readonly name: string = args[0] ?? 'main.js',
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `--- ${new Date().toISOString()} start #${this.starts + 1}: ${this.args.join(' ')}\n`);
    this.logOffset = statSync(this.logFile).size;
    const child = spawn(process.execPath, [this.main, ...this.args], {
      cwd: this.cwd,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child = child;
    this.starts += 1;
    this.startedAtMs = Date.now();
    this.expectingExit = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const exit = { code, signal };
        if (!this.expectingExit && !this.stopped) {
          this.unexpectedExits.push({ ...exit, atMs: Date.now() });
          this.say(
            `chaos: ${this.name} pid ${String(child.pid)} exited by itself (code ${String(code)}, signal ${String(signal)}); starting it again`,
          );
          setTimeout(() => {
            if (!this.stopped && this.child === child) this.start();
          }, 1_000);
        }
        resolve(exit);
      });
    });
  }

  /** What the current process has written so far. */
  outputSinceStart(): string {
    const fd = openSync(this.logFile, 'r');
    try {
      const length = Math.max(0, statSync(this.logFile).size - this.logOffset);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, this.logOffset);
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** kill -9 and wait until the process is gone. */
  async kill9(): Promise<Exit> {
    return this.signal('SIGKILL', 30_000);
  }

  /** SIGTERM; resolves with the exit and how long it took (rejects after `timeoutMs`). */
  async terminate(timeoutMs: number): Promise<Exit & { elapsedMs: number }> {
    const startMs = Date.now();
    const exit = await this.signal('SIGTERM', timeoutMs);
    return { ...exit, elapsedMs: Date.now() - startMs };
  }

  /** SIGSTOP: the process freezes (no heartbeat, no commit) until `thaw`; it is not an exit. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after `freeze`. */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Whether the current process still runs (or is frozen). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** No restarts from now on; kill -9 whatever still runs. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.running) await this.kill9();
  }

  private async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<Exit> {
    const child = this.child;
    if (!child || !this.exited) throw new Error('not started');
    this.expectingExit = true;
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`${this.name} pid ${String(child.pid)} did not exit within ${timeoutMs} ms of ${signal}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
