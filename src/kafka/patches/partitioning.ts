/**
 * kafkajs's default partitioning without its per-message costs, with the same result.
 *
 * - `murmur2`: the Java client's hash (so keys land where Java, librdkafka's murmur2_random and
 *   kafkajs put them) in 32-bit integer arithmetic; kafkajs computes it through a BigInt-backed
 *   Long, several allocations per 4 bytes of key.
 * - `createFastDefaultPartitioner`: kafkajs's DefaultPartitioner (explicit partition, else murmur2
 *   of the key, else round robin over available partitions), for `producer({ createPartitioner })`.
 * - `groupMessagesPerPartition`: kafkajs's helper copies the partition's whole array for every
 *   message (`[...current, message]`), quadratic in the batch size; this is linear.
 */
import { randomBytes } from 'node:crypto';
import { preEncodedIn } from '../encodedRecords.js';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 of data[start, start + length). */
function murmur2Bytes(data: Uint8Array, start: number, length: number): number {
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = start + i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = start + (length & ~3);
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

// ASCII keys (user ids, device ids) are hashed from their char codes, without a Buffer.
let asciiScratch = new Uint8Array(256);

/** Kafka's murmur2 of a key (a string is hashed as its UTF-8 bytes), as a signed 32-bit integer. */
export function murmur2(key: string | Uint8Array): number {
  if (typeof key !== 'string') return murmur2Bytes(key, 0, key.length);
  const n = key.length;
  if (asciiScratch.length < n) asciiScratch = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) {
      const utf8 = Buffer.from(key, 'utf8');
      return murmur2Bytes(utf8, 0, utf8.length);
    }
    asciiScratch[i] = c;
  }
  return murmur2Bytes(asciiScratch, 0, n);
}

interface PartitionMetadata {
  partitionId: number;
  leader: number;
}

interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: { key?: unknown; partition?: number | null };
}

const toPositive = (x: number): number => x & 0x7fffffff;

/** The partition kafkajs's DefaultPartitioner (and the Java client) picks for a key. */
export function partitionForKey(key: string | Uint8Array, partitions: number): number {
  return toPositive(murmur2(key)) % partitions;
}

/** The partition of the key whose bytes are bytes[start, end), as `partitionForKey`. */
export function partitionForKeyBytes(bytes: Uint8Array, start: number, end: number, partitions: number): number {
  return toPositive(murmur2Bytes(bytes, start, end - start)) % partitions;
}

/** Same choices as kafkajs's `Partitioners.DefaultPartitioner`. */
export function createFastDefaultPartitioner(): () => (args: PartitionerArgs) => number {
  return () => {
    const counters: Record<string, number> = {};
    return ({ topic, partitionMetadata, message }) => {
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      const key = message.key;
      if (key !== null && key !== undefined) {
        return (
          toPositive(murmur2(typeof key === 'string' || Buffer.isBuffer(key) ? key : String(key))) %
          partitionMetadata.length
        );
      }
      if (!(topic in counters)) counters[topic] = randomBytes(4).readUInt32BE(0);
      const counter = ++counters[topic]!;
      const available = partitionMetadata.filter((p) => p.leader >= 0);
      if (available.length > 0) return available[toPositive(counter) % available.length]!.partitionId;
      return toPositive(counter) % partitionMetadata.length;
    };
  };
}

/** Same result as kafkajs's producer/groupMessagesPerPartition.js, in linear time. */
export function groupMessagesPerPartition<T>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: readonly T[];
  partitioner: (args: { topic: string; partitionMetadata: PartitionMetadata[]; message: T }) => number;
}): Record<number, T[]> {
  const result: Record<number, T[]> = {};
  if (partitionMetadata.length === 0) return result;
  // One partition's records written in advance (encodedRecords.ts): their partition, as the partitioner gives
  // an explicit one.
  const preEncoded = preEncodedIn(messages);
  if (preEncoded) {
    result[preEncoded.partition] = messages as T[];
    return result;
  }
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
}
