/**
 * A faster encoder for kafkajs's v2 record batches (Produce v3+), byte for byte the same as
 * kafkajs's own.
 *
 * Why: kafkajs 2.2.4 encodes every record into its own `Encoder` (a zeroed 512-byte buffer, varints
 * through a BigInt-backed Long, a copy per field) and then concatenates them: about 9 µs per
 * 350-byte event here, more than generating and serializing the event together. This writes all the
 * records of a batch into one buffer sized in advance (about 1 µs per event).
 *
 * How: kafkajs's Produce v3 request module binds `Record` and `RecordBatch` when it is first loaded
 * (lazily, on the first produce). `installFastRecordBatch()` swaps both modules in Node's require
 * cache before that: `Record` then only passes the message through, and `RecordBatch` encodes the
 * whole batch. If the request module was already loaded, or kafkajs's files moved (another
 * version), nothing is swapped and kafkajs's own encoder stays in use. Records it does not handle
 * (headers, keys or values that are neither string, Buffer nor null, huge timestamp deltas) go
 * through kafkajs's own `Record`. Kept honest by test/unit/kafka/fastRecordBatch.test.ts, which
 * compares the bytes with kafkajs's encoder.
 *
 * Per thread: Piscina workers have their own module cache, so each producer thread installs it.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const PATHS = {
  record: 'kafkajs/src/protocol/recordBatch/record/v0/index.js',
  recordBatch: 'kafkajs/src/protocol/recordBatch/v0/index.js',
  produceV3: 'kafkajs/src/protocol/requests/produce/v3/request.js',
  encoder: 'kafkajs/src/protocol/encoder.js',
  crc32C: 'kafkajs/src/protocol/recordBatch/crc32C/index.js',
  compression: 'kafkajs/src/protocol/message/compression/index.js',
  long: 'kafkajs/src/utils/long.js',
} as const;

/** The slice of kafkajs's Encoder used here. */
interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  writeInt8(v: number): KafkaEncoder;
  writeInt16(v: number): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeUInt32(v: number): KafkaEncoder;
  writeInt64(v: unknown): KafkaEncoder;
  writeBuffer(v: Buffer): KafkaEncoder;
  writeBytes(v: Buffer): KafkaEncoder;
  writeEncoder(v: KafkaEncoder): KafkaEncoder;
}
type EncoderClass = new (initialSize?: number) => KafkaEncoder;

/** A message as kafkajs's produce request hands it to `Record` (offsetDelta and timestampDelta added). */
export interface RecordInput {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown> | undefined;
  offsetDelta?: number;
  timestampDelta?: number;
}

export interface RecordBatchInput {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  maxTimestamp?: unknown;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  /** RecordInputs (from the swapped `Record`) or kafkajs Encoders (from its own). */
  records?: unknown[];
}

interface Kafkajs {
  Encoder: EncoderClass;
  Long: { fromInt(v: number): unknown; fromValue(v: unknown): unknown };
  crc32C: (buffer: Buffer) => number;
  lookupCodec: (type: number) => { compress(encoder: KafkaEncoder): Promise<Buffer> } | null;
  noCompression: number;
  codecMask: number;
  originalRecord: (message: RecordInput) => KafkaEncoder;
  originalRecordBatch: (input: RecordBatchInput) => Promise<KafkaEncoder>;
}

let kafkajs: Kafkajs | undefined;

function loadKafkajs(): Kafkajs {
  if (kafkajs) return kafkajs;
  const compression = require(PATHS.compression) as { Types: { None: number }; lookupCodec: Kafkajs['lookupCodec']; COMPRESSION_CODEC_MASK: number };
  const recordBatchModule = require(PATHS.recordBatch) as { RecordBatch: Kafkajs['originalRecordBatch'] };
  kafkajs = {
    Encoder: require(PATHS.encoder) as EncoderClass,
    Long: require(PATHS.long) as Kafkajs['Long'],
    crc32C: require(PATHS.crc32C) as Kafkajs['crc32C'],
    lookupCodec: compression.lookupCodec,
    noCompression: compression.Types.None,
    codecMask: compression.COMPRESSION_CODEC_MASK,
    originalRecord: require(PATHS.record) as Kafkajs['originalRecord'],
    originalRecordBatch: recordBatchModule.RecordBatch,
  };
  return kafkajs;
}

const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;
const MAX_FAST_TIMESTAMP_DELTA = 2 ** 30;

function zigZag(value: number): number {
  return ((value << 1) ^ (value >> 31)) >>> 0;
}

function varIntSize(value: number): number {
  let z = zigZag(value);
  let bytes = 1;
  while (z >= 0x80) {
    bytes++;
    z >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Buffer, offset: number, value: number): number {
  let z = zigZag(value);
  while (z >= 0x80) {
    buf[offset++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[offset++] = z;
  return offset;
}

/** Byte length of a key or value, -1 for null; undefined when this encoder does not handle it. */
function fieldLength(field: unknown): number | undefined {
  if (field === null || field === undefined) return -1;
  if (typeof field === 'string') return Buffer.byteLength(field, 'utf8');
  if (Buffer.isBuffer(field)) return field.length;
  return undefined;
}

function writeField(buf: Buffer, offset: number, field: unknown, length: number): number {
  offset = writeVarInt(buf, offset, length);
  if (length <= 0) return offset;
  if (typeof field === 'string') buf.write(field, offset, length, 'utf8');
  else (field as Buffer).copy(buf, offset);
  return offset + length;
}

function hasHeaders(headers: RecordInput['headers']): boolean {
  if (headers === undefined || headers === null) return false;
  for (const _ in headers) return true;
  return false;
}

function isEncoder(record: unknown): record is KafkaEncoder {
  return typeof record === 'object' && record !== null && Buffer.isBuffer((record as { buf?: unknown }).buf);
}

// Scratch space reused from batch to batch: the lengths computed in the sizing pass.
let keyLengths = new Int32Array(1024);
let valueLengths = new Int32Array(1024);

/**
 * The records of one batch, concatenated as kafkajs's `Record` encodes them (the part that is
 * compressed). Exported for tests.
 */
export function encodeRecords(records: readonly unknown[]): Buffer {
  const k = loadKafkajs();
  const n = records.length;
  if (keyLengths.length < n) {
    keyLengths = new Int32Array(n * 2);
    valueLengths = new Int32Array(n * 2);
  }
  // kafkajs encodings of the records this encoder does not handle, by index.
  let fallbacks: Map<number, Buffer> | undefined;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const record = records[i];
    if (isEncoder(record)) {
      (fallbacks ??= new Map()).set(i, record.buffer);
      total += record.offset;
      continue;
    }
    const r = record as RecordInput;
    const keyLength = fieldLength(r.key);
    const valueLength = fieldLength(r.value);
    const offsetDelta = r.offsetDelta ?? 0;
    const timestampDelta = r.timestampDelta ?? 0;
    if (
      keyLength === undefined ||
      valueLength === undefined ||
      hasHeaders(r.headers) ||
      !Number.isInteger(timestampDelta) ||
      Math.abs(timestampDelta) > MAX_FAST_TIMESTAMP_DELTA ||
      !Number.isInteger(offsetDelta)
    ) {
      const encoded = k.originalRecord(r).buffer;
      (fallbacks ??= new Map()).set(i, encoded);
      total += encoded.length;
      continue;
    }
    keyLengths[i] = keyLength;
    valueLengths[i] = valueLength;
    const body =
      1 + // attributes
      varIntSize(timestampDelta) +
      varIntSize(offsetDelta) +
      varIntSize(keyLength) +
      Math.max(0, keyLength) +
      varIntSize(valueLength) +
      Math.max(0, valueLength) +
      1; // header count 0
    total += varIntSize(body) + body;
  }

  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const fallback = fallbacks?.get(i);
    if (fallback !== undefined) {
      offset += fallback.copy(buf, offset);
      continue;
    }
    const r = records[i] as RecordInput;
    const keyLength = keyLengths[i]!;
    const valueLength = valueLengths[i]!;
    const offsetDelta = r.offsetDelta ?? 0;
    const timestampDelta = r.timestampDelta ?? 0;
    const body = 1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + varIntSize(keyLength) + Math.max(0, keyLength) + varIntSize(valueLength) + Math.max(0, valueLength) + 1;
    offset = writeVarInt(buf, offset, body);
    buf[offset++] = 0;
    offset = writeVarInt(buf, offset, timestampDelta);
    offset = writeVarInt(buf, offset, offsetDelta);
    offset = writeField(buf, offset, r.key, keyLength);
    offset = writeField(buf, offset, r.value, valueLength);
    buf[offset++] = 0;
  }
  if (offset !== total) throw new Error(`record batch encoding wrote ${offset} bytes, expected ${total}`);
  return buf;
}

function encoderOf(buffer: Buffer): KafkaEncoder {
  const k = loadKafkajs();
  const encoder = new k.Encoder(0);
  encoder.buf = buffer;
  encoder.offset = buffer.length;
  return encoder;
}

/** Drop-in for kafkajs's `RecordBatch` (recordBatch/v0): same arguments, same bytes. */
export async function fastRecordBatch(input: RecordBatchInput): Promise<KafkaEncoder> {
  const k = loadKafkajs();
  const compression = input.compression ?? k.noCompression;
  const records = input.records ?? [];
  const attributes = (compression & k.codecMask) | (input.transactional ? TRANSACTIONAL_MASK : 0);
  const batchBody = new k.Encoder()
    .writeInt16(attributes)
    .writeInt32(input.lastOffsetDelta ?? 0)
    .writeInt64(input.firstTimestamp ?? Date.now())
    .writeInt64(input.maxTimestamp ?? Date.now())
    .writeInt64(input.producerId ?? k.Long.fromValue(-1))
    .writeInt16(input.producerEpoch ?? 0)
    .writeInt32(input.firstSequence ?? 0);
  const encodedRecords = encodeRecords(records);
  if (compression === k.noCompression) {
    batchBody.writeInt32(records.length).writeBuffer(encodedRecords);
  } else {
    const codec = k.lookupCodec(compression);
    if (!codec) throw new Error(`no codec registered for compression type ${compression}`);
    batchBody.writeInt32(records.length).writeBuffer(await codec.compress(encoderOf(encodedRecords)));
  }
  const batch = new k.Encoder(batchBody.offset + 16).writeInt32(input.partitionLeaderEpoch ?? 0).writeInt8(MAGIC_BYTE).writeUInt32(k.crc32C(batchBody.buffer)).writeEncoder(batchBody);
  return new k.Encoder(batch.offset + 16).writeInt64(input.firstOffset ?? k.Long.fromInt(0)).writeBytes(batch.buffer);
}

/** kafkajs's own encoder, for tests that compare bytes. */
export function kafkajsRecordBatch(input: RecordBatchInput): Promise<KafkaEncoder> {
  const k = loadKafkajs();
  return k.originalRecordBatch({ ...input, records: (input.records ?? []).map((r) => (isEncoder(r) ? r : k.originalRecord(r as RecordInput))) });
}

export type FastRecordBatchStatus = 'installed' | 'already-installed' | 'too-late' | 'unavailable';

let status: FastRecordBatchStatus | undefined;

/**
 * Makes this thread's kafkajs producers use `fastRecordBatch`. Call before the first produce.
 * Returns 'too-late' when kafkajs already loaded its Produce request (its own encoder stays),
 * 'unavailable' when kafkajs's files are not where 2.2.x keeps them.
 */
export function installFastRecordBatch(): FastRecordBatchStatus {
  if (status === 'installed') return 'already-installed';
  let produceV3Path: string;
  let recordPath: string;
  try {
    loadKafkajs();
    produceV3Path = require.resolve(PATHS.produceV3);
    recordPath = require.resolve(PATHS.record);
  } catch {
    return (status = 'unavailable');
  }
  if (require.cache[produceV3Path] !== undefined) return (status = 'too-late');
  const recordModule = require.cache[recordPath];
  const recordBatchModule = require(PATHS.recordBatch) as { RecordBatch: unknown };
  if (recordModule === undefined) return (status = 'unavailable');
  // The request module calls Record(message) for each message and hands the results to RecordBatch.
  recordModule.exports = (message: RecordInput): RecordInput => message;
  recordBatchModule.RecordBatch = fastRecordBatch;
  return (status = 'installed');
}
