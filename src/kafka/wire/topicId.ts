/**
 * A topic's id (the UUID Kafka gives each topic at creation; a deleted and recreated topic has a
 * new one), from a bare Metadata v10 request: kafkajs 2.2.4 speaks Metadata up to v6, which has
 * no topic ids. Over TLS and SASL as configured (kafka/security.ts), as every wireProtocol.ts request.
 */
import type { Config } from '../../config/schema.js';
import { connectionSecurity } from '../security.js';
import { sendRequest, type WireReader, WireWriter } from './wireProtocol.js';

const METADATA_V10 = { key: 3, version: 10 };
const ZERO_UUID = '0'.repeat(32);

export function encodeTopicIdRequestBody(topic: string): Buffer {
  return new WireWriter()
    .uvarint(2) // compact array of one topic
    .int32(0)
    .int32(0)
    .int32(0)
    .int32(0) // topic_id: zero UUID (asking by name)
    .compactString(topic)
    .uvarint(0) // topic tags
    .int8(0) // allow_auto_topic_creation
    .int8(0) // include_cluster_authorized_operations
    .int8(0) // include_topic_authorized_operations
    .uvarint(0) // request tags
    .buffer();
}

export interface TopicIdAnswer {
  errorCode: number;
  name: string;
  /** 32 hex digits; null when the broker answered the zero UUID. */
  topicId: string | null;
}

/** Decodes the first topic of a Metadata v10 response body (after the response header). */
export function decodeTopicIdResponse(r: WireReader): TopicIdAnswer | undefined {
  r.int32(); // throttle_time_ms
  const brokers = r.uvarint() - 1;
  for (let i = 0; i < brokers; i++) {
    r.int32(); // node_id
    r.compactString(); // host
    r.int32(); // port
    r.compactString(); // rack (nullable: read as empty)
    r.skipTags();
  }
  r.compactString(); // cluster_id
  r.int32(); // controller_id
  const topics = r.uvarint() - 1;
  if (topics < 1) return undefined;
  const errorCode = r.int16();
  const name = r.compactString();
  const id = [r.int32(), r.int32(), r.int32(), r.int32()].map((x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
  return { errorCode, name, topicId: id === ZERO_UUID ? null : id };
}

/**
 * The topic id of `topic`, asked of each bootstrap broker in turn; null when it cannot be known
 * (no broker answered, the topic does not exist). Over TLS and SASL as configured.
 */
export async function fetchTopicId(config: Config, topic: string): Promise<string | null> {
  const security = connectionSecurity(config);
  for (const server of config.kafka.bootstrap_servers) {
    const at = server.lastIndexOf(':');
    const host = server.slice(0, at);
    const port = Number(server.slice(at + 1));
    try {
      const reader = await sendRequest(host, port, METADATA_V10, encodeTopicIdRequestBody(topic), {
        timeoutMs: config.kafka.request_timeout,
        clientId: `${config.kafka.client_id}-topic-id`,
        flexible: true,
        security,
      });
      const answer = decodeTopicIdResponse(reader);
      if (answer && answer.errorCode === 0 && answer.name === topic) return answer.topicId;
      return null;
    } catch {
      // try the next broker
    }
  }
  return null;
}
