/**
 * Writes a transaction's events, as they are made, straight into the records of its Produce requests
 * (encodedRecords.ts): each event's key picks its partition (murmur2, as kafkajs's DefaultPartitioner
 * and the Java client), and its record goes at the end of that partition's buffer, at most
 * `recordsPerRequest` records to a buffer (a request each, so no record batch nears the broker's
 * message.max.bytes). The generators write each event's JSON as bytes into the place `reserve` gives
 * it (generators/recordSink.ts); `append` encodes a string once, into its place: no string kept
 * until the send, no object per event, no copy of it later (architecture.md, "Data flow").
 */
import { EncodedRecords } from './encodedRecords.js';
import type { RecordBufferPool } from './recordBufferPool.js';
import { partitionForKey, partitionForKeyBytes } from './patches/partitioning.js';
import { varIntSize, writeVarInt } from './patches/varint.js';

const MIN_CAPACITY = 4096;
const NOTHING_RESERVED = Buffer.alloc(0);
/** Header bytes of a record at most, besides its key: length, attributes, two deltas, two lengths. */
const MAX_HEADER_BYTES = 5 + 1 + 5 + 5 + 5 + 5;

interface OpenBuffer {
  buf: Buffer;
  length: number;
  count: number;
}

export interface RecordsBuilderOptions {
  partitions: number;
  recordsPerRequest: number;
  /** How many records are coming, and about how many bytes each: sizes the buffers up front. */
  expectedRecords?: number;
  bytesPerRecord?: number;
  /** Where the buffers come from and go back to (`release`); default: new buffers, left to the collector. */
  pool?: RecordBufferPool;
}

export class RecordsBuilder {
  private readonly open: Array<OpenBuffer | undefined>;
  private readonly full: EncodedRecords[][];
  private readonly initialCapacity: number;
  private readonly buffers: Buffer[] = [];
  private records = 0;
  /** The buffer of the last `reserve`'s record (a field, not a getter: read once per event). */
  valueBuffer: Buffer = NOTHING_RESERVED;
  private bytes = 0;

  constructor(private readonly options: RecordsBuilderOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1)
      throw new RangeError(`partitions must be a positive integer, got ${options.partitions}`);
    if (!Number.isInteger(options.recordsPerRequest) || options.recordsPerRequest < 1)
      throw new RangeError(`recordsPerRequest must be a positive integer, got ${options.recordsPerRequest}`);
    this.open = new Array<OpenBuffer | undefined>(options.partitions).fill(undefined);
    this.full = Array.from({ length: options.partitions }, () => []);
    const perPartition = Math.min(
      options.recordsPerRequest,
      Math.ceil((options.expectedRecords ?? 0) / options.partitions) * 1.1 + 8,
    );
    this.initialCapacity = Math.max(MIN_CAPACITY, Math.ceil(perPartition * (options.bytesPerRecord ?? 512)));
  }

  /** Records appended so far. */
  get count(): number {
    return this.records;
  }

  /** UTF-8 bytes of the values appended so far. */
  get valueBytes(): number {
    return this.bytes;
  }

  /** Appends a record with this key and value, in the partition of its key. */
  append(key: string, value: string | Buffer): void {
    const partition = partitionForKey(key, this.options.partitions);
    const keyLength = asciiLength(key);
    const guess = typeof value === 'string' ? value.length : value.length;
    const open = this.room(
      partition,
      MAX_HEADER_BYTES +
        (keyLength >= 0 ? keyLength : key.length * 3) +
        (typeof value === 'string' ? guess * 3 : guess),
    );
    const buf = open.buf;
    const start = open.length;
    // A string's UTF-8 length is known once written: the header assumes one byte per character (the
    // generators' JSON is ASCII) and is written again, the value moved, when that was wrong.
    let valueStart = writeHeader(buf, start, open.count, key, keyLength, guess);
    let written: number;
    if (typeof value === 'string') written = buf.write(value, valueStart, 'utf8');
    else written = value.copy(buf, valueStart);
    if (written !== guess) {
      const moved = headerSize(open.count, key, keyLength, written);
      if (moved !== valueStart - start) buf.copyWithin(start + moved, valueStart, valueStart + written);
      valueStart = writeHeader(buf, start, open.count, key, keyLength, written);
    }
    this.close(partition, open, valueStart + written, written);
  }

  /**
   * Appends a record whose key is the bytes key[keyStart, keyEnd), in the partition of its key, its value of exactly
   * `valueBytes` bytes left for the caller to write at the offset returned, in `valueBuffer`, before the next append
   * (RecordSink: the generators write their JSON there, generators/recordSink.ts).
   */
  reserve(key: Uint8Array, keyStart: number, keyEnd: number, valueBytes: number): number {
    const partition = partitionForKeyBytes(key, keyStart, keyEnd, this.options.partitions);
    const keyLength = keyEnd - keyStart;
    const open = this.room(partition, MAX_HEADER_BYTES + keyLength + valueBytes);
    const buf = open.buf;
    let p = writeVarInt(buf, open.length, bodySize(open.count, keyLength, valueBytes));
    buf[p++] = 0; // attributes
    buf[p++] = 0; // timestamp delta, as in writeHeader
    p = writeVarInt(buf, p, open.count);
    p = writeVarInt(buf, p, keyLength);
    for (let i = keyStart; i < keyEnd; i++) buf[p++] = key[i]!;
    const valueStart = writeVarInt(buf, p, valueBytes);
    this.valueBuffer = buf;
    this.close(partition, open, valueStart + valueBytes, valueBytes);
    return valueStart;
  }

  /** The open buffer of `partition`, with room for `bytes` more at its end. */
  private room(partition: number, bytes: number): OpenBuffer {
    let open = this.open[partition];
    if (open === undefined) {
      open = { buf: this.take(this.initialCapacity), length: 0, count: 0 };
      this.open[partition] = open;
    }
    if (open.buf.length - open.length < bytes) this.grow(open, bytes);
    return open;
  }

  /** Ends the record whose value ends at `valueEnd` (no headers); a full buffer becomes a request's records. */
  private close(partition: number, open: OpenBuffer, valueEnd: number, valueBytes: number): void {
    open.buf[valueEnd] = 0; // no headers
    open.length = valueEnd + 1;
    open.count++;
    this.records++;
    this.bytes += valueBytes;
    if (open.count === this.options.recordsPerRequest) {
      this.full[partition]!.push(new EncodedRecords(partition, open.count, open.buf.subarray(0, open.length)));
      this.open[partition] = undefined;
    }
  }

  /**
   * Gives every buffer back to the pool: once the records are sent (or will not be), never before, since the
   * EncodedRecords of `finish` are views of them.
   */
  release(): void {
    const pool = this.options.pool;
    if (pool) for (const buf of this.buffers) pool.give(buf);
    this.buffers.length = 0;
  }

  private take(bytes: number): Buffer {
    const buf = this.options.pool ? this.options.pool.take(bytes) : Buffer.allocUnsafeSlow(bytes);
    this.buffers.push(buf);
    return buf;
  }

  private grow(open: OpenBuffer, needed: number): void {
    const next = this.take(Math.max(open.buf.length * 2, open.length + needed));
    open.buf.copy(next, 0, 0, open.length);
    const index = this.buffers.indexOf(open.buf);
    if (index >= 0) {
      this.buffers.splice(index, 1);
      this.options.pool?.give(open.buf);
    }
    open.buf = next;
  }

  /**
   * Each partition's records, in the order they were appended (one EncodedRecords per request), for
   * the partitions that have any. The builder is spent.
   */
  finish(): EncodedRecords[][] {
    const out: EncodedRecords[][] = [];
    for (let p = 0; p < this.options.partitions; p++) {
      const open = this.open[p];
      if (open !== undefined && open.count > 0)
        this.full[p]!.push(new EncodedRecords(p, open.count, open.buf.subarray(0, open.length)));
      this.open[p] = undefined;
      if (this.full[p]!.length > 0) out.push(this.full[p]!);
    }
    return out;
  }
}

/** The length of an ASCII string's bytes, -1 when it has other characters. */
function asciiLength(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return -1;
  return text.length;
}

function keyBytes(key: string, keyLength: number): number {
  return keyLength >= 0 ? keyLength : Buffer.byteLength(key, 'utf8');
}

function headerSize(offsetDelta: number, key: string, keyLength: number, valueLength: number): number {
  const k = keyBytes(key, keyLength);
  const body = bodySize(offsetDelta, k, valueLength);
  return varIntSize(body) + body - valueLength - 1;
}

/** A record's bytes after its length: attributes, deltas, key, value, header count. */
function bodySize(offsetDelta: number, keyBytes: number, valueLength: number): number {
  return 1 + 1 + varIntSize(offsetDelta) + varIntSize(keyBytes) + keyBytes + varIntSize(valueLength) + valueLength + 1;
}

/** Writes a record's length, attributes, deltas, key and value length at `at`; returns where the value goes. */
function writeHeader(
  buf: Buffer,
  at: number,
  offsetDelta: number,
  key: string,
  keyLength: number,
  valueLength: number,
): number {
  const k = keyBytes(key, keyLength);
  let p = writeVarInt(buf, at, bodySize(offsetDelta, k, valueLength));
  buf[p++] = 0; // attributes
  buf[p++] = 0; // timestamp delta: every record takes the batch's timestamp, as kafkajs gives messages without one
  p = writeVarInt(buf, p, offsetDelta);
  p = writeVarInt(buf, p, k);
  if (keyLength >= 0) for (let i = 0; i < keyLength; i++) buf[p++] = key.charCodeAt(i);
  else p += buf.write(key, p, 'utf8');
  return writeVarInt(buf, p, valueLength);
}
