/**
 * Helpers of the producer integration tests: random topics, the CLI as a child process that can be
 * signalled, kcat as the independent reader, the producer's structured log lines.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { decodeEvent } from '../../../src/events/validate.js';
import type { ClickstreamRow, IotRow, StreamName } from '../../../src/events/types.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { loadTestConfig } from './loadTestConfig.js';
import { CLI, PROJECT_ROOT } from './projectRoot.js';
import { testLogger } from './testLogger.js';

const run = promisify(execFile);

export interface FreshTopics {
  config: Config;
  env: NodeJS.ProcessEnv;
}

/**
 * A config with fresh random topics (4 partitions, RF 2 as config.yml), created on the cluster: the input topics
 * only, not the window stages' internal ones.
 */
export async function withFreshTopics(): Promise<FreshTopics> {
  const config = loadTestConfig();
  await createTopics(config, testLogger(), { topics: [config.topics.clickstream, config.topics.iot] });
  return {
    config,
    env: {
      SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
      SDP_TOPICS__IOT: config.topics.iot,
      SDP_LOG__FORMAT: 'json',
    },
  };
}

/**
 * Call in a describe block: returns what creates that block's fresh topics ({@link withFreshTopics}),
 * and deletes them after the block.
 */
export function freshTopicsPerBlock(): () => Promise<FreshTopics> {
  let created: Config | undefined;
  afterAll(async () => {
    if (created) await deleteTopics(created, [created.topics.clickstream, created.topics.iot]);
  });
  return async () => {
    const fresh = await withFreshTopics();
    created = fresh.config;
    return fresh;
  };
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  /** Message timestamp (CreateTime, ms). */
  ts: number;
  key: string | null;
  payload: string | null;
}

/**
 * Every message of `topic` as kcat (librdkafka, read_committed by default) reads it, from the
 * beginning to the end of the partitions (the last stable offset).
 */
export async function kcatConsume(config: Config, topic: string): Promise<ConsumedMessage[]> {
  const args = [
    '-C',
    '-b',
    config.kafka.bootstrap_servers.join(','),
    '-t',
    topic,
    '-o',
    'beginning',
    '-e',
    '-q',
    '-J',
    '-X',
    'isolation.level=read_committed',
  ];
  const { stdout } = await run('kcat', args, { timeout: 120_000, maxBuffer: 1024 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ConsumedMessage);
}

export interface DecodedStreams {
  clickstream: ClickstreamRow[];
  iot: IotRow[];
  /** Messages that decodeEvent rejected, with the reason. */
  invalid: Array<{ stream: StreamName; reason: string; payload: string | null }>;
  /** Messages whose key is not the event's user_id / device_id. */
  wrongKeys: number;
  messages: Record<StreamName, ConsumedMessage[]>;
}

/**
 * `consumeAndDecode` again until both topics hold `expected` messages or `timeoutMs` passed. A read_committed read to
 * the end stops at the last stable offset: a committed transaction's markers reach its partitions just after EndTxn
 * returns, and a thread that died mid-transaction holds it until its replacement's InitProducerId aborts what it left
 * open. Reading again only waits for those; a count that stays short is still short.
 */
export async function consumeAndDecodeAll(
  config: Config,
  expected: number,
  timeoutMs = 20_000,
): Promise<DecodedStreams> {
  const deadline = Date.now() + timeoutMs;
  const total = (d: DecodedStreams): number => d.messages.clickstream.length + d.messages.iot.length;
  let consumed = await consumeAndDecode(config);
  while (total(consumed) < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    consumed = await consumeAndDecode(config);
  }
  return consumed;
}

/** Both topics read by kcat and every message validated as the ETL would. */
export async function consumeAndDecode(config: Config): Promise<DecodedStreams> {
  const result: DecodedStreams = {
    clickstream: [],
    iot: [],
    invalid: [],
    wrongKeys: 0,
    messages: { clickstream: [], iot: [] },
  };
  for (const stream of ['clickstream', 'iot'] as const) {
    const messages = await kcatConsume(config, config.topics[stream]);
    result.messages[stream] = messages;
    for (const m of messages) {
      const decoded = decodeEvent(stream, m.payload === null ? null : Buffer.from(m.payload), {
        maxEventBytes: config.etl.max_event_bytes,
        maxFutureSkewMs: config.etl.max_future_skew,
        recordTimestampMs: m.ts,
      });
      if (!decoded.ok) {
        result.invalid.push({ stream, reason: `${decoded.reason}: ${decoded.detail}`, payload: m.payload });
        continue;
      }
      if (stream === 'clickstream') {
        const row = decoded.row as ClickstreamRow;
        if (m.key !== row.user_id) result.wrongKeys += 1;
        result.clickstream.push(row);
      } else {
        const row = decoded.row as IotRow;
        if (m.key !== row.device_id) result.wrongKeys += 1;
        result.iot.push(row);
      }
    }
  }
  return result;
}

/** Values that occur more than once. */
export function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) twice.add(v);
    seen.add(v);
  }
  return [...twice];
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    elapsedMs: number;
  }>;
  stdout(): string;
}

/** `node dist/main.js <args>` as a child process that the test can signal. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 240_000): RunningCli {
  const startedMs = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    elapsedMs: number;
  }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - startedMs }));
  });
  return { child, exited, stdout: () => stdout };
}

/** The JSON log lines of a run (pino), skipping anything else. */
export function logLines(output: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return lines;
}

/** The producer pool's final summary line: totals per stream. */
export function producerSummary(
  output: string,
): { clickstream_total: number; iot_total: number; errors: number } | undefined {
  const line = logLines(output).find((l) => l.msg === 'producer summary');
  return line as { clickstream_total: number; iot_total: number; errors: number } | undefined;
}

/** Deletes test topics (best effort: a test's cleanup must not hide its result). */
export async function deleteTopics(config: Config, topics: readonly string[]): Promise<void> {
  const { createKafkaClient } = await import('../../../src/kafka/client.js');
  const admin = createKafkaClient(config, testLogger()).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // left for the cluster's next clean
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
