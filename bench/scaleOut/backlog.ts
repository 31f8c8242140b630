/**
 * The backlog `check:scale-out` writes before its members start: the generators' own events (src/generators/),
 * keyed as the producer keys them (user id, device id), with event times out of order, written to the topic by
 * kcat (librdkafka, not the platform's producer, and without transactions).
 *
 * Event times: spread over `spanMs` before `endMs` in write order, each one moved back by up to 30 s (out of order
 * within the watermark delay and beyond it), one in a hundred by up to 10 minutes (late), one in fifty a little
 * ahead (up to 2 s). None lies further ahead than `etl.max_future_skew` allows.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createClickstreamGenerator } from '../../src/generators/clickstream.js';
import { createIotGenerator } from '../../src/generators/iot.js';
import { mulberry32 } from '../../src/system/mulberry32.js';

export interface BacklogOptions {
  stream: 'clickstream' | 'iot';
  count: number;
  seed: number;
  endMs: number;
  spanMs: number;
}

/** The event time of the `i`-th of `count` events (see above); `random` is uniform in [0, 1). */
export function backlogTimestamp(
  random: () => number,
  i: number,
  count: number,
  endMs: number,
  spanMs: number,
): number {
  const inOrder = endMs - spanMs + Math.floor((i * spanMs) / Math.max(1, count));
  const r = random();
  if (r < 0.01) return inOrder - Math.floor(random() * 600_000);
  if (r < 0.03) return Math.min(endMs + 2_000, inOrder + Math.floor(random() * 2_000));
  return inOrder - Math.floor(random() * 30_000);
}

/** `key<TAB>value` lines, as `kcat -P -K '\t'` reads them. */
export function* backlogLines(options: BacklogOptions): Generator<string> {
  const random = mulberry32(options.seed);
  if (options.stream === 'clickstream') {
    const generator = createClickstreamGenerator({ seed: options.seed });
    for (let i = 0; i < options.count; i++) {
      const event = generator.next(backlogTimestamp(random, i, options.count, options.endMs, options.spanMs));
      yield `${event.user_id}\t${JSON.stringify(event)}`;
    }
  } else {
    const generator = createIotGenerator({ seed: options.seed });
    for (let i = 0; i < options.count; i++) {
      const event = generator.next(backlogTimestamp(random, i, options.count, options.endMs, options.spanMs));
      yield `${event.device_id}\t${JSON.stringify(event)}`;
    }
  }
}

export async function writeBacklogFile(file: string, options: BacklogOptions): Promise<void> {
  const out = createWriteStream(file);
  let chunk: string[] = [];
  for (const line of backlogLines(options)) {
    chunk.push(line);
    if (chunk.length === 10_000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
}

/** `kcat -P`: every line of `file` one record (key before the tab), LZ4, acks from every in-sync replica. */
export async function kcatProduce(bootstrap: string, topic: string, file: string, partition?: number): Promise<void> {
  const args = ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-z', 'lz4', '-X', 'acks=all', '-l', file];
  if (partition !== undefined) args.push('-p', String(partition));
  await new Promise<void>((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', (err) =>
      reject(new Error(`kcat could not start (is it installed? scripts/test-prereqs.d/10-kcat.sh): ${err.message}`)),
    );
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`kcat -P to ${topic} exited ${String(code)}: ${stderr.trim().slice(-2000)}`)),
    );
  });
}
