/**
 * Microbenchmark of the ETL's per-record hot path on real generator output:
 * `npm run bench:decode`. Builds the values exactly as the producer threads do (the project's
 * generators, JSON.stringify, UTF-8), then times decodeEvent over them, rounds interleaved so a
 * loaded machine skews every variant alike. Prints ns per event per round and the median.
 */
import { createClickstreamGenerator } from '../src/generators/clickstream.js';
import { createIotGenerator } from '../src/generators/iot.js';
import { decodeEvent, decodeEventReference, type DecodeOptions } from '../src/events/validate.js';
import type { StreamName } from '../src/events/types.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 7);

function values(stream: StreamName): { value: Buffer; ts: number }[] {
  const out: { value: Buffer; ts: number }[] = [];
  const start = Date.UTC(2026, 11, 1);
  if (stream === 'clickstream') {
    const g = createClickstreamGenerator({ seed: 1 });
    for (let i = 0; i < N; i++)
      out.push({ value: Buffer.from(JSON.stringify(g.next(start + Math.floor(i / 1000) * 8))), ts: start + i });
  } else {
    const g = createIotGenerator({ seed: 2 });
    for (let i = 0; i < N; i++)
      out.push({ value: Buffer.from(JSON.stringify(g.next(start + Math.floor(i / 1000) * 8))), ts: start + i });
  }
  return out;
}

const opts: DecodeOptions = { maxEventBytes: 65536, maxFutureSkewMs: 300_000, recordTimestampMs: 0 };
const variants = { current: decodeEvent, reference: decodeEventReference } as const;
let sink = 0;
for (const stream of ['clickstream', 'iot'] as const) {
  const data = values(stream);
  const times: Record<string, number[]> = { current: [], reference: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t0 = process.hrtime.bigint();
      for (const { value, ts } of data) {
        opts.recordTimestampMs = ts;
        const r = fn(stream, value, opts);
        if (r.ok) sink += r.row.tsMs & 1;
      }
      times[name]!.push(Number(process.hrtime.bigint() - t0) / N);
    }
  }
  for (const [name, t] of Object.entries(times)) {
    const sorted = [...t].sort((a, b) => a - b);
    console.log(
      `${stream.padEnd(12)} ${name.padEnd(10)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ns/event  rounds ${t.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
}
if (sink < 0) console.log(sink);
