/**
 * Counts the committed data records Kafka holds in offset ranges of one partition, group-less:
 * Fetch v4 with isolation level read_committed to the partition's leader, one fresh connection per
 * request (wireProtocol.ts), the record sets walked by recordSetCount.ts without decoding records.
 * For `verify` (architecture.md, "Verifying the lake"). The request is encoded by kafkajs's own
 * protocol module, as partitionFetch.ts does; the response is read here, to keep the record set a
 * view of the received bytes.
 */
import { createRequire } from 'node:module';
import type { ConnectionSecurity } from '../security.js';
import { registerLz4Codec } from '../lz4Codec.js';
import type { AbortedTransaction } from '../patches/abortedTransactions.js';
import type { OffsetSpan } from './offsetSpan.js';
import { CommittedRecordCounter, type Decompress } from './recordSetCount.js';
import { sendRequest, WireReader } from './wireProtocol.js';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buffer: Buffer;
}
type FetchV4Module = (args: object) => { apiKey: number; apiVersion: number; encode(): Promise<KafkajsEncoder> };
interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
  decompressSync?(buffer: Buffer): Buffer;
}

const fetchRequestV4 = require('kafkajs/src/protocol/requests/fetch/v4/request.js') as FetchV4Module;
const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression/index.js') as {
  lookupCodecByAttributes: (attributes: number) => Codec | null;
};

const READ_COMMITTED = 1;
const OFFSET_OUT_OF_RANGE = 1;

const decompress: Decompress = (attributes, records) => {
  const codec = lookupCodecByAttributes(attributes);
  if (!codec) return null;
  return codec.decompressSync ? codec.decompressSync(records) : codec.decompress(records);
};

export interface RangeCountRequest {
  host: string;
  port: number;
  topic: string;
  partition: number;
  /** Sorted by first offset, every one at or above the log start offset. */
  spans: readonly OffsetSpan[];
  maxBytes: number;
  timeoutMs: number;
  clientId: string;
  security?: ConnectionSecurity;
}

export interface RangeCount {
  /** Committed data records per span, index for index. */
  counts: number[];
  /**
   * The first offset not read: the end of the last span + 1, or where Kafka stopped delivering (its last stable
   * offset).
   */
  readTo: bigint;
  fetches: number;
  bytes: number;
}

export class OffsetOutOfRangeError extends Error {}

interface PartitionAnswer {
  errorCode: number;
  lastStableOffset: bigint;
  aborted: AbortedTransaction[];
  records: Buffer;
}

/** The one partition of a Fetch v4 response; the record set stays a view of `body`. */
function readFetchV4(reader: WireReader, body: Buffer): PartitionAnswer {
  reader.int32(); // throttle time
  const topics = reader.int32();
  if (topics < 1) throw new Error('Fetch answered no topic');
  reader.string();
  const partitions = reader.int32();
  if (partitions < 1) throw new Error('Fetch answered no partition');
  reader.int32(); // partition
  const errorCode = reader.int16();
  reader.int64(); // high watermark
  const lastStableOffset = reader.int64();
  const abortedCount = reader.int32();
  const aborted: AbortedTransaction[] = [];
  for (let i = 0; i < abortedCount; i++) {
    const producerId = reader.int64().toString();
    aborted.push({ producerId, firstOffset: reader.int64().toString() });
  }
  const size = reader.int32();
  const start = body.length - reader.rest().length;
  return { errorCode, lastStableOffset, aborted, records: body.subarray(start, start + Math.max(0, size)) };
}

/** Counts committed records in `spans`, fetching from the first span's start to the last span's end. */
export async function countCommittedInRanges(req: RangeCountRequest): Promise<RangeCount> {
  registerLz4Codec();
  if (req.spans.length === 0) return { counts: [], readTo: 0n, fetches: 0, bytes: 0 };
  const from = req.spans[0]!.first;
  let end = from;
  for (const s of req.spans) if (s.last > end) end = s.last;
  const counter = new CommittedRecordCounter(req.spans, from);
  let fetches = 0;
  let bytes = 0;
  while (counter.nextOffset <= end) {
    const fetchOffset = counter.nextOffset;
    const request = fetchRequestV4({
      replicaId: -1,
      maxWaitTime: 0,
      minBytes: 0,
      maxBytes: req.maxBytes,
      isolationLevel: READ_COMMITTED,
      topics: [
        {
          topic: req.topic,
          partitions: [{ partition: req.partition, fetchOffset: fetchOffset.toString(), maxBytes: req.maxBytes }],
        },
      ],
    });
    const reader = await sendRequest(
      req.host,
      req.port,
      { key: request.apiKey, version: request.apiVersion },
      (await request.encode()).buffer,
      { timeoutMs: req.timeoutMs, clientId: req.clientId, ...(req.security ? { security: req.security } : {}) },
    );
    const body = reader.rest();
    const answer = readFetchV4(new WireReader(body), body);
    fetches += 1;
    if (answer.errorCode === OFFSET_OUT_OF_RANGE)
      throw new OffsetOutOfRangeError(`${req.topic}/${req.partition}: offset ${fetchOffset} is outside the log`);
    if (answer.errorCode !== 0)
      throw new Error(
        `fetch of ${req.topic}/${req.partition} at ${fetchOffset} failed with Kafka error code ${answer.errorCode}`,
      );
    bytes += answer.records.length;
    await counter.addRecordSet(answer.records, 0, answer.records.length, answer.aborted, decompress);
    // Nothing new: the offset is at the last stable offset (an open transaction, or the log end).
    if (counter.nextOffset <= fetchOffset) break;
  }
  const readTo = counter.nextOffset > end ? end + 1n : counter.nextOffset;
  return { counts: counter.counts, readTo, fetches, bytes };
}
