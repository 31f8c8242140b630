/**
 * The backlog of `bench:compact-day`: one UTC day of the generators' own events (src/generators/), keyed as the
 * producer keys them (user id, device id), event times spread evenly over the day in write order, piped straight
 * into `kcat -P` (no file: a day at the default rates is ~4 GB of JSON). kcat (librdkafka) writes without
 * transactions; the ETL reads read_committed either way.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createClickstreamGenerator } from '../../src/generators/clickstream.js';
import { createIotGenerator } from '../../src/generators/iot.js';

export const DAY_MS = 86_400_000;

export interface DayBacklogOptions {
  stream: 'clickstream' | 'iot';
  count: number;
  seed: number;
  /** 00:00 UTC of the day, epoch ms. */
  dayStartMs: number;
  /** Records per kcat batch (librdkafka batch.num.messages): what one fetch, hence one file at least, holds. */
  batchMessages: number;
}

/** The event time of the `i`-th of `count` events: evenly over [dayStart, dayStart + 1 day). */
export function dayTimestamp(i: number, count: number, dayStartMs: number): number {
  return dayStartMs + Math.floor((i * DAY_MS) / Math.max(1, count));
}

/** `key<TAB>value` lines, as `kcat -P -K '\t'` reads them. */
export function* dayBacklogLines(o: DayBacklogOptions): Generator<string> {
  if (o.stream === 'clickstream') {
    const generator = createClickstreamGenerator({ seed: o.seed });
    for (let i = 0; i < o.count; i++) {
      const event = generator.next(dayTimestamp(i, o.count, o.dayStartMs));
      yield `${event.user_id}\t${generator.toJson(event)}`;
    }
  } else {
    const generator = createIotGenerator({ seed: o.seed });
    for (let i = 0; i < o.count; i++) {
      const event = generator.next(dayTimestamp(i, o.count, o.dayStartMs));
      yield `${event.device_id}\t${generator.toJson(event)}`;
    }
  }
}

/** Generates the day's events of one stream and writes them to `topic` with kcat (LZ4, acks=all). */
export async function produceDay(bootstrap: string, topic: string, o: DayBacklogOptions): Promise<void> {
  const args = ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-z', 'lz4', '-X', 'acks=all'];
  args.push('-X', 'linger.ms=50', '-X', `batch.num.messages=${o.batchMessages}`);
  const child = spawn('kcat', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const closed = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) =>
      reject(new Error(`kcat could not start (is it installed? scripts/test-prereqs.d/10-kcat.sh): ${err.message}`)),
    );
    child.once('close', resolve);
  });
  let chunk: string[] = [];
  for (const line of dayBacklogLines(o)) {
    chunk.push(line);
    if (chunk.length === 10_000) {
      if (!child.stdin.write(`${chunk.join('\n')}\n`)) await once(child.stdin, 'drain');
      chunk = [];
    }
  }
  if (chunk.length > 0) child.stdin.write(`${chunk.join('\n')}\n`);
  child.stdin.end();
  const code = await closed;
  if (code !== 0) throw new Error(`kcat -P to ${topic} exited ${String(code)}: ${stderr.trim().slice(-2000)}`);
}
