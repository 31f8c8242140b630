/**
 * Asks ONE broker for its view of topic metadata with a bare Metadata request (API key 3,
 * version 4), on a fresh connection (TLS and SASL as configured, see wireProtocol.ts). kafkajs sends metadata requests
 * to a random broker, so it cannot tell whether every broker has applied a change yet; after creating topics we must
 * know, or the next client to ask a lagging broker hears "unknown topic".
 */
import type { ConnectionSecurity } from '../security.js';
import { encodeRequest, sendRequest, WireReader, WireWriter } from './wireProtocol.js';

const METADATA_API_KEY = 3;
const METADATA_API_VERSION = 4;

export interface ProbedPartition {
  partition: number;
  errorCode: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface ProbedTopic {
  topic: string;
  /** 0 when the broker knows the topic; 3 (UNKNOWN_TOPIC_OR_PARTITION) when it does not (yet). */
  errorCode: number;
  partitions: ProbedPartition[];
}

export interface BrokerMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  controllerId: number;
  topics: ProbedTopic[];
}

const METADATA = { key: METADATA_API_KEY, version: METADATA_API_VERSION };

function metadataRequestBody(topics: readonly string[]): Buffer {
  // allow_auto_topic_creation = false
  return new WireWriter()
    .array(topics, (w, topic) => w.string(topic))
    .int8(0)
    .buffer();
}

/** The request frame: size, header v1 (api key, version, correlation id, client id), body v4. */
export function encodeMetadataRequest(correlationId: number, clientId: string, topics: readonly string[]): Buffer {
  return encodeRequest(METADATA, correlationId, clientId, metadataRequestBody(topics));
}

function decodeMetadataBody(r: WireReader): BrokerMetadata {
  r.int32(); // throttle_time_ms
  const brokers = r.array(() => {
    const nodeId = r.int32();
    const host = r.string();
    const port = r.int32();
    r.nullableString(); // rack
    return { nodeId, host, port };
  });
  r.nullableString(); // cluster_id
  const controllerId = r.int32();
  const topics = r.array((): ProbedTopic => {
    const errorCode = r.int16();
    const topic = r.string();
    r.int8(); // is_internal
    const partitions = r.array((): ProbedPartition => {
      const partitionErrorCode = r.int16();
      const partition = r.int32();
      const leader = r.int32();
      const replicas = r.array(() => r.int32());
      const isr = r.array(() => r.int32());
      return { partition, errorCode: partitionErrorCode, leader, replicas, isr };
    });
    return { topic, errorCode, partitions };
  });
  return { brokers, controllerId, topics };
}

/** Decodes a Metadata v4 response (after the size prefix). */
export function decodeMetadataResponse(frame: Buffer): { correlationId: number; metadata: BrokerMetadata } {
  const r = new WireReader(frame);
  const correlationId = r.int32();
  return { correlationId, metadata: decodeMetadataBody(r) };
}

/** One Metadata request to `host:port` over a fresh connection; rejects on any error or after `timeoutMs`. */
export async function probeBrokerMetadata(
  host: string,
  port: number,
  topics: readonly string[],
  timeoutMs: number,
  clientId = 'sdp-probe',
  security?: ConnectionSecurity,
): Promise<BrokerMetadata> {
  const reader = await sendRequest(host, port, METADATA, metadataRequestBody(topics), {
    timeoutMs,
    clientId,
    ...(security ? { security } : {}),
  });
  return decodeMetadataBody(reader);
}
