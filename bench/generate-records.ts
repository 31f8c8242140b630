/**
 * CPU time per event of a producer thread's generating half: `npm run bench:generate [events] [rounds]`. Generates
 * clickstream and IoT events and appends them to a RecordsBuilder (buffers from a RecordBufferPool, 5,000 events a
 * transaction over 4 partitions), as producer.worker.ts does, two ways in alternating rounds so a loaded machine skews
 * both alike: `writeNext` (each event's JSON written as bytes into its record) and `next` + `toJson` + `append` (a
 * string per event, UTF-8-encoded into the record: the path before). Prints CPU ns per event (process.cpuUsage, one
 * thread) per way: min, median, max over the rounds, with the load average.
 */
import os from 'node:os';
import { createClickstreamGenerator } from '../src/generators/clickstream.js';
import { createIotGenerator } from '../src/generators/iot.js';
import { RecordBufferPool } from '../src/kafka/recordBufferPool.js';
import { RecordsBuilder } from '../src/kafka/recordsBuilder.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);
const PER_TRANSACTION = 5_000;
const SHARD = { index: 0, count: 2 };

type Way = 'writeNext' | 'string';

function round(stream: 'clickstream' | 'iot', way: Way, pool: RecordBufferPool, startMs: number): number {
  const clickstream = createClickstreamGenerator({ seed: 1, shard: SHARD });
  const iot = createIotGenerator({ seed: 1, shard: SHARD });
  let bytesPerRecord = 400;
  const before = process.cpuUsage();
  for (let done = 0; done < EVENTS; done += PER_TRANSACTION) {
    const builder = new RecordsBuilder({
      partitions: 4,
      recordsPerRequest: 8_000,
      expectedRecords: PER_TRANSACTION,
      bytesPerRecord,
      pool,
    });
    const nowMs = startMs + done;
    for (let i = 0; i < PER_TRANSACTION; i++) {
      if (way === 'writeNext') (stream === 'clickstream' ? clickstream : iot).writeNext(nowMs, builder);
      else if (stream === 'clickstream') {
        const event = clickstream.next(nowMs);
        builder.append(event.user_id, clickstream.toJson(event));
      } else {
        const event = iot.next(nowMs);
        builder.append(event.device_id, iot.toJson(event));
      }
    }
    bytesPerRecord = Math.ceil(builder.valueBytes / PER_TRANSACTION) + 32;
    builder.finish();
    builder.release();
  }
  const cpu = process.cpuUsage(before);
  return ((cpu.user + cpu.system) * 1000) / EVENTS;
}

const pool = new RecordBufferPool();
const startMs = Date.UTC(2026, 11, 6);
for (const stream of ['clickstream', 'iot'] as const) {
  const ns: Record<Way, number[]> = { writeNext: [], string: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const way of ['writeNext', 'string'] as const) ns[way].push(round(stream, way, pool, startMs));
  for (const way of ['writeNext', 'string'] as const) {
    const sorted = ns[way].sort((a, b) => a - b);
    process.stdout.write(
      `${stream} ${way.padEnd(9)} CPU ns/event min ${sorted[0]!.toFixed(0)}  median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)}  max ${sorted[sorted.length - 1]!.toFixed(0)}  (${EVENTS} events x ${ROUNDS} rounds, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')})\n`,
    );
  }
}
