import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Config } from '../../../src/config/schema.js';
import { CLI, PROJECT_ROOT } from './projectRoot.js';
import { waitFor } from './waitFor.js';

/** One JSON log line of the child (pino). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number; component?: string };

export interface EtlExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EtlEnvOptions {
  lakeRoot: string;
  checkpointRoot: string;
  /** Further SDP_* overrides, e.g. { SDP_ETL__IDLE_TIMEOUT: '5s' }. */
  extra?: Record<string, string>;
}

/**
 * The SDP_* environment that points `node dist/main.js etl` at the test's own topics, group, lake
 * and checkpoint store (from a `loadTestConfig()` config), in its window mode, with JSON logs and a free status port.
 */
export function etlEnv(config: Config, options: EtlEnvOptions): Record<string, string> {
  return {
    SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
    SDP_TOPICS__IOT: config.topics.iot,
    SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
    SDP_ETL__WINDOWS: config.etl.windows,
    SDP_STORAGE__DATALAKE_ROOT: options.lakeRoot,
    SDP_STORAGE__CHECKPOINT_ROOT: options.checkpointRoot,
    SDP_UI__STATUS_PORT: '0',
    SDP_LOG__FORMAT: 'json',
    SDP_LOG__LEVEL: 'info',
    ...options.extra,
  };
}

export interface EtlStartOptions {
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/x']. */
  nodeArgs?: string[];
  /** Extra CLI arguments after `etl`. */
  args?: string[];
  /** Every output line is also appended here (kept for post-mortems). */
  logFile?: string;
}

/** Children still running: a test that fails or times out must not leave an ETL behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * `node dist/main.js etl` as a child process, as an operator runs it. Keeps every log line, parses
 * the JSON ones, and offers condition-based waits on them.
 */
export class EtlProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly lines: string[] = [];
  readonly logs: LogLine[] = [];
  readonly exited: Promise<EtlExit>;
  readonly startedAtMs = Date.now();
  private exit?: EtlExit;
  private readonly logStream?: WriteStream;

  private constructor(env: Record<string, string>, options: EtlStartOptions) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, 'etl', ...(options.args ?? [])], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error('could not spawn the etl process');
    this.pid = this.child.pid;
    if (options.logFile) this.logStream = createWriteStream(options.logFile, { flags: 'a' });
    this.logStream?.write(`--- etl pid ${this.pid} started ${new Date().toISOString()}\n`);
    const onData = (buffered: { text: string }) => (chunk: Buffer) => {
      buffered.text += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.text.indexOf('\n')) >= 0) {
        const line = buffered.text.slice(0, nl);
        buffered.text = buffered.text.slice(nl + 1);
        this.addLine(line);
      }
    };
    const out = { text: '' };
    const err = { text: '' };
    this.child.stdout!.on('data', onData(out));
    this.child.stderr!.on('data', onData(err));
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (out.text) this.addLine(out.text);
        if (err.text) this.addLine(err.text);
        this.exit = { code, signal };
        this.logStream?.write(`--- etl pid ${this.pid} exited code=${code} signal=${signal}\n`);
        this.logStream?.end();
        resolve(this.exit);
      });
    });
  }

  static start(env: Record<string, string>, options: EtlStartOptions = {}): EtlProcess {
    const etl = new EtlProcess(env, options);
    live.add(etl.child);
    etl.child.once('close', () => live.delete(etl.child));
    return etl;
  }

  private addLine(line: string): void {
    this.lines.push(line);
    this.logStream?.write(`${line}\n`);
    if (!line.startsWith('{')) return;
    try {
      this.logs.push(JSON.parse(line) as LogLine);
    } catch {
      // not JSON: kept in `lines` only
    }
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The first log line matching, once it appears; fails early if the process exits first. */
  async waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    let found: LogLine | undefined;
    await waitFor(
      () => {
        found = this.logs.find(predicate);
        if (found) return true;
        if (!this.running)
          throw new Error(`etl exited (${JSON.stringify(this.exit)}) before ${what}; last lines:\n${this.tail(30)}`);
        return false;
      },
      timeoutMs,
      what,
      50,
    );
    return found!;
  }

  /** Every log line so far that matches. */
  logsMatching(predicate: (line: LogLine) => boolean): LogLine[] {
    return this.logs.filter(predicate);
  }

  /** Port of the status server, from its 'status page listening' line. */
  async statusPort(timeoutMs = 120_000): Promise<number> {
    const line = await this.waitForLog(
      (l) => l.msg === 'status page listening',
      timeoutMs,
      'the status page to listen',
    );
    return Number(line.port);
  }

  /** Resolves once both ingest actors logged their partition assignment (the group is joined). */
  async waitForAssignments(topics: readonly string[], timeoutMs = 180_000): Promise<void> {
    for (const topic of topics) {
      await this.waitForLog(
        (l) => l.msg === 'partitions assigned' && l.topic === topic,
        timeoutMs,
        `partitions of ${topic} assigned`,
      );
    }
  }

  /** SIGTERM and the exit it leads to. */
  async terminate(timeoutMs = 120_000): Promise<EtlExit> {
    if (this.running) this.child.kill('SIGTERM');
    return this.within(timeoutMs, 'graceful exit after SIGTERM');
  }

  /** kill -9 and wait until the process is gone. */
  async kill9(): Promise<EtlExit> {
    if (this.running) this.child.kill('SIGKILL');
    return this.within(30_000, 'exit after SIGKILL');
  }

  private async within(timeoutMs: number, what: string): Promise<EtlExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`etl pid ${this.pid}: no ${what} within ${timeoutMs} ms; last lines:\n${this.tail(30)}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lines at warn level or above (pino: 40 warn, 50 error, 60 fatal). */
  problems(): LogLine[] {
    return this.logs.filter((l) => typeof l.level === 'number' && l.level >= 40);
  }

  tail(n: number): string {
    return this.lines.slice(-n).join('\n');
  }
}
