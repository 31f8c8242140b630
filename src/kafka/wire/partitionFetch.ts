/**
 * Reads records of one partition without a consumer group: one Fetch request (v4, read_uncommitted
 * unless asked for read_committed) to the partition's leader over a fresh plaintext connection
 * (wireProtocol.ts). kafkajs consumers always join a group, and a browser that only looks must not
 * leave groups behind; its own Fetch encoder and record-batch decoder (LZ4 included, once registered)
 * are reused here. read_committed drops the records of aborted transactions by the Java client's rule
 * (patches/abortedTransactions.ts), as the ETL's consumers do.
 */
import { createRequire } from 'node:module';
import type { ConnectionSecurity } from '../security.js';
import { sendRequest } from './wireProtocol.js';
import { registerLz4Codec } from '../lz4Codec.js';
import {
  filterAbortedRecords,
  type AbortedTransaction,
  type FetchedBatchContext,
} from '../patches/abortedTransactions.js';

const require = createRequire(import.meta.url);

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  isControlRecord?: boolean;
  batchContext: FetchedBatchContext;
}
type FetchV4Module = (args: object) => { apiKey: number; apiVersion: number; encode(): Promise<KafkajsEncoder> };
interface FetchV4Response {
  decode(raw: Buffer): Promise<{
    responses: Array<{
      topicName: string;
      partitions: Array<{
        partition: number;
        errorCode: number;
        highWatermark: string;
        lastStableOffset: string;
        abortedTransactions?: AbortedTransaction[] | null;
        messages: KafkajsRecord[];
      }>;
    }>;
  }>;
}

const fetchRequestV4 = require('kafkajs/src/protocol/requests/fetch/v4/request.js') as FetchV4Module;
const fetchResponseV4 = require('kafkajs/src/protocol/requests/fetch/v4/response.js') as FetchV4Response;

/** One record as Kafka stores it: bytes, not yet decoded for display. */
export interface RawRecord {
  offset: string;
  timestampMs: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Array<{ key: string; value: Buffer | null }>;
}

export interface PartitionFetchRequest {
  host: string;
  port: number;
  topic: string;
  partition: number;
  fetchOffset: bigint;
  maxBytes: number;
  timeoutMs: number;
  clientId: string;
  /** TLS and SASL of the cluster (kafka/security.ts); absent: plaintext. */
  security?: ConnectionSecurity;
  /** Default read_uncommitted; read_committed stops at the last stable offset and drops aborted records. */
  isolation?: 'read_uncommitted' | 'read_committed';
}

export interface PartitionFetchResult {
  records: RawRecord[];
  highWatermark: bigint;
  /** Where read_committed stops: no transaction below it is open. */
  lastStableOffset: bigint;
  /**
   * The offset after the last record the answer held, control and aborted ones included (`fetchOffset` if none): where
   * the next fetch starts, so that a fetch of markers or aborted records alone still moves on.
   */
  nextOffset: bigint;
}

/** One Fetch: the records at and after `fetchOffset` the leader returns (control records dropped). */
export async function fetchPartitionRecords(req: PartitionFetchRequest): Promise<PartitionFetchResult> {
  const readCommitted = req.isolation === 'read_committed';
  registerLz4Codec();
  const request = fetchRequestV4({
    replicaId: -1,
    maxWaitTime: 0,
    minBytes: 0,
    maxBytes: req.maxBytes,
    isolationLevel: readCommitted ? 1 : 0,
    topics: [
      {
        topic: req.topic,
        partitions: [{ partition: req.partition, fetchOffset: req.fetchOffset.toString(), maxBytes: req.maxBytes }],
      },
    ],
  });
  const body = (await request.encode()).buffer;
  const reader = await sendRequest(req.host, req.port, { key: request.apiKey, version: request.apiVersion }, body, {
    timeoutMs: req.timeoutMs,
    clientId: req.clientId,
    ...(req.security ? { security: req.security } : {}),
  });
  const decoded = await fetchResponseV4.decode(reader.rest());
  const partition = decoded.responses[0]?.partitions[0];
  if (!partition) throw new Error(`no answer for ${req.topic}/${req.partition}`);
  if (partition.errorCode !== 0)
    throw new Error(`fetch of ${req.topic}/${req.partition} failed with Kafka error code ${partition.errorCode}`);
  let nextOffset = req.fetchOffset;
  for (const m of partition.messages) {
    // The batch's end, not its last record: compaction may have removed the records after it.
    const batch = m.batchContext;
    const end = (batch ? BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta) : BigInt(m.offset)) + 1n;
    if (end > nextOffset) nextOffset = end;
  }
  const visible = readCommitted
    ? filterAbortedRecords({ messages: partition.messages, abortedTransactions: partition.abortedTransactions ?? null })
    : partition.messages;
  const records = visible
    .filter((m) => !m.isControlRecord && BigInt(m.offset) >= req.fetchOffset)
    .map((m) => ({
      offset: m.offset,
      timestampMs: Number(m.timestamp),
      key: m.key,
      value: m.value,
      headers: Object.entries(m.headers ?? {}).flatMap(([key, v]) =>
        (Array.isArray(v) ? v : [v]).map((value) => ({ key, value: value ?? null })),
      ),
    }));
  return {
    records,
    highWatermark: BigInt(partition.highWatermark),
    lastStableOffset: BigInt(partition.lastStableOffset),
    nextOffset,
  };
}
