/**
 * Asks ONE broker for its view of topic metadata with a bare Metadata request (API key 3,
 * version 4), on a plaintext connection. kafkajs sends metadata requests to a random broker, so it
 * cannot tell whether every broker has applied a change yet; after creating topics we must know,
 * or the next client to ask a lagging broker hears "unknown topic".
 *
 * Plaintext only: with TLS or SASL configured, callers fall back to kafkajs (see topics.ts).
 */
import { createConnection } from 'node:net';

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

function encodeString(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The request frame: size, header v1 (api key, version, correlation id, client id), body v4. */
export function encodeMetadataRequest(correlationId: number, clientId: string, topics: readonly string[]): Buffer {
  const header = Buffer.alloc(8);
  header.writeInt16BE(METADATA_API_KEY, 0);
  header.writeInt16BE(METADATA_API_VERSION, 2);
  header.writeInt32BE(correlationId, 4);
  const count = Buffer.alloc(4);
  count.writeInt32BE(topics.length);
  const body = Buffer.concat([count, ...topics.map(encodeString), Buffer.from([0])]); // allow_auto_topic_creation = false
  const payload = Buffer.concat([header, encodeString(clientId), body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  int8(): number {
    const v = this.buffer.readInt8(this.offset);
    this.offset += 1;
    return v;
  }
  int16(): number {
    const v = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    const v = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    const v = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
  string(): string {
    return this.nullableString() ?? '';
  }
  array<T>(item: () => T): T[] {
    const length = this.int32();
    const items: T[] = [];
    for (let i = 0; i < length; i++) items.push(item());
    return items;
  }
}

/** Decodes a Metadata v4 response body (after the size prefix). */
export function decodeMetadataResponse(frame: Buffer): { correlationId: number; metadata: BrokerMetadata } {
  const r = new Reader(frame);
  const correlationId = r.int32();
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
  return { correlationId, metadata: { brokers, controllerId, topics } };
}

/** One Metadata request to `host:port` over a fresh connection; rejects on any error or after `timeoutMs`. */
export function probeBrokerMetadata(host: string, port: number, topics: readonly string[], timeoutMs: number, clientId = 'sdp-probe'): Promise<BrokerMetadata> {
  const correlationId = Math.floor(Math.random() * 0x7fffffff);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    let received = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no metadata answer from ${host}:${port} within ${timeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(encodeMetadataRequest(correlationId, clientId, topics)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      socket.destroy();
      try {
        const decoded = decodeMetadataResponse(received.subarray(4, 4 + size));
        if (decoded.correlationId !== correlationId) throw new Error(`metadata answer from ${host}:${port} has correlation id ${decoded.correlationId}, expected ${correlationId}`);
        resolve(decoded.metadata);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
