/**
 * The high watermark of each partition of a topic: the end of its log, records of open and aborted transactions
 * included (ListOffsets v2 with isolation level read_uncommitted, to each partition's leader). kafkajs's admin asks
 * read_committed, which answers the last stable offset: a transaction a killed member left open holds that back until
 * the transaction timeout, so "was anything ever written here" would read no for a minute
 * (etl/windowsModeCheck.ts asks it of the repartition topic).
 */
import type { Config } from '../../config/schema.js';
import type { PartitionLog } from '../admin/partitionLeaders.js';
import { connectionSecurity } from '../security.js';
import { kafkaErrorName } from './offsetFetch.js';
import { sendRequest, type WireReader, WireWriter } from './wireProtocol.js';

export const LIST_OFFSETS_V2 = { key: 2, version: 2 } as const;
const READ_UNCOMMITTED = 0;
/** ListOffsets' timestamp for "the end of the log". */
const LATEST = -1n;
const CLIENT_ID = 'sdp-high-watermarks';

/** The body of a ListOffsets v2 request (after the request header): the end of each of `partitions` of `topic`. */
export function encodeListOffsetsRequest(topic: string, partitions: readonly number[]): Buffer {
  const w = new WireWriter().int32(-1).int8(READ_UNCOMMITTED);
  w.array([topic], (tw, name) => {
    tw.string(name);
    tw.array(partitions, (pw, p) => pw.int32(p).int64(LATEST));
  });
  return w.buffer();
}

export interface ListedOffset {
  partition: number;
  errorCode: number;
  offset: bigint;
}

/** A ListOffsets v2 response body: every partition of every topic in it. */
export function decodeListOffsetsResponse(r: WireReader): ListedOffset[] {
  r.int32(); // throttle time
  return r
    .array(() => {
      r.string(); // topic
      return r.array(() => {
        const partition = r.int32();
        const errorCode = r.int16();
        r.int64(); // timestamp
        return { partition, errorCode, offset: r.int64() };
      });
    })
    .flat();
}

/** partition → high watermark, asking each leader of `logs` (kafka/admin/partitionLeaders.ts) once. */
export async function fetchHighWatermarks(
  config: Config,
  topic: string,
  logs: readonly PartitionLog[],
): Promise<Map<number, bigint>> {
  const byLeader = new Map<string, PartitionLog[]>();
  for (const log of logs) {
    const key = `${log.host}:${log.port}`;
    byLeader.set(key, [...(byLeader.get(key) ?? []), log]);
  }
  const answers = await Promise.all(
    [...byLeader.values()].map(async (ps) => {
      const reader = await sendRequest(
        ps[0]!.host,
        ps[0]!.port,
        LIST_OFFSETS_V2,
        encodeListOffsetsRequest(
          topic,
          ps.map((p) => p.partition),
        ),
        { timeoutMs: config.kafka.request_timeout, clientId: CLIENT_ID, security: connectionSecurity(config) },
      );
      return decodeListOffsetsResponse(reader);
    }),
  );
  const out = new Map<number, bigint>();
  for (const o of answers.flat()) {
    if (o.errorCode !== 0)
      throw new Error(`ListOffsets of ${topic}/${o.partition}: ${kafkaErrorName(o.errorCode)} (a leader that moved?)`);
    out.set(o.partition, o.offset);
  }
  const missing = logs.filter((l) => !out.has(l.partition)).map((l) => l.partition);
  if (missing.length > 0) throw new Error(`ListOffsets of ${topic}: no answer for partition ${missing.join(', ')}`);
  return out;
}
