/**
 * A lean decoder for the record set of one partition of a Fetch response (magic-2 record batches),
 * giving the same records as kafkajs 2.2.4's `protocol/requests/fetch/v4/decodeMessages.js`
 * (recordBatch/v0/decoder.js, recordBatch/record/v0/decoder.js; MIT licence) at a fraction of the
 * cost.
 *
 * Why: kafkajs decodes every record through its own `Decoder` object, adds offsets and timestamps
 * with a BigInt-backed Long and turns them into strings, and builds a headers object even when
 * there are none: about as much garbage per event as the event's own row, and a quarter of the
 * ETL's main-thread time went to the collector. Here a record is one `LeanRecord` (numeric offset
 * and timestamp, key and value as views of the decompressed buffer, headers kept raw); kafkajs's
 * string fields (`offset`, `timestamp`, `headers`, ...) are getters, so kafkajs code and any
 * consumer that reads them get what kafkajs would have given.
 *
 * Whatever this decoder does not handle exactly is left to kafkajs's own decoder, for the whole
 * record set of the partition: offsets or timestamps beyond 2^53, legacy message sets (magic 0/1),
 * and malformed batches (kafkajs's errors stay kafkajs's). Like kafkajs, it stops at a partial
 * last batch (brokers cut the response at max bytes) and does not check CRCs.
 * patches/fetchFastPaths.ts installs it; test/unit/kafka/patches/fetchRecordDecoder.test.ts compares it
 * with kafkajs's decoder on real encoded batches.
 */

/** kafkajs's batch context: one object per record batch, shared by its records (its shape and strings). */
export interface KafkajsBatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

type KafkajsHeaders = Record<string, Buffer | null | Array<Buffer | null>>;

/** Marks lean records across module instances (tests load this module more than once per process). */
export const LEAN_RECORD = Symbol.for('sdp.kafka.leanRecord');

/** What the records of one record batch share. */
export class LeanRecordBatch {
  constructor(
    readonly context: KafkajsBatchContext,
    /** The (decompressed) bytes the records' keys are read from. */
    readonly source: Buffer,
    readonly firstTimestamp: number,
    /** The batch's max timestamp when the topic stamps log-append time. */
    readonly logAppendTime: number | undefined,
  ) {}
}

/**
 * One decoded record; kafkajs's message fields are getters. Small integers where kafkajs keeps
 * strings, and the key is cut from the batch only when asked for (the ETL never reads it): one
 * object and the value's view per record.
 */
export class LeanRecord {
  constructor(
    /** The record's offset (a safe integer: larger ones are decoded by kafkajs). */
    readonly offsetNumber: number,
    private readonly timestampDelta: number,
    private readonly keyStart: number,
    /** -1 for a null key. */
    private readonly keyLength: number,
    /** null for a tombstone. */
    readonly value: Buffer | null,
    readonly attributes: number,
    private readonly batch: LeanRecordBatch,
    /** Header keys and values, alternating; null when the record has none. */
    readonly rawHeaders: Array<string | Buffer | null> | null,
  ) {}

  get offset(): string {
    return String(this.offsetNumber);
  }

  /** Create time, or the batch's log-append time, epoch ms. */
  get timestampMs(): number {
    const batch = this.batch;
    return batch.logAppendTime ?? batch.firstTimestamp + this.timestampDelta;
  }

  get timestamp(): string {
    return String(this.timestampMs);
  }

  get key(): Buffer | null {
    return this.keyLength < 0 ? null : this.batch.source.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  get batchContext(): KafkajsBatchContext {
    return this.batch.context;
  }

  get magicByte(): number {
    return this.batch.context.magicByte;
  }

  get isControlRecord(): boolean {
    return this.batch.context.isControlBatch;
  }

  /** As kafkajs builds them (a repeated key collects its values in an array); a new object per call. */
  get headers(): KafkajsHeaders {
    const headers: KafkajsHeaders = {};
    const raw = this.rawHeaders;
    if (raw) {
      for (let i = 0; i < raw.length; i += 2) {
        const key = String(raw[i]);
        const value = raw[i + 1] as Buffer | null;
        const known = headers[key];
        headers[key] = known === undefined ? value : Array.isArray(known) ? known.concat([value]) : [known, value];
      }
    }
    return headers;
  }
}

/** A lean record built from its parts (self-checks and tests). */
export function leanRecordOf(
  offset: number,
  timestampMs: number,
  key: Buffer | null,
  value: Buffer | null,
  context: KafkajsBatchContext,
): LeanRecord {
  const source = key ?? Buffer.alloc(0);
  return new LeanRecord(
    offset,
    0,
    0,
    key ? key.length : -1,
    value,
    0,
    new LeanRecordBatch(context, source, timestampMs, undefined),
    null,
  );
}
(LeanRecord.prototype as unknown as Record<symbol, boolean>)[LEAN_RECORD] = true;

/** Whether `messages` came from this decoder (any instance of it). */
export function areLeanRecords(messages: readonly unknown[]): boolean {
  const first = messages[0] as Record<symbol, unknown> | undefined;
  return first !== undefined && first !== null && first[LEAN_RECORD] === true;
}

/** The codec of a batch's attributes (kafkajs's registry); a sync `decompressSync` is preferred. */
export interface RecordCodec {
  decompress(buffer: Buffer): Promise<Buffer>;
  decompressSync?(buffer: Buffer): Buffer;
}
export type CodecLookup = (attributes: number) => RecordCodec | null;

const MAGIC_BYTE = 2;
const MAGIC_OFFSET = 16;
/** kafkajs reads a record batch only while this many bytes remain (decodeMessages.js). */
const RECORD_BATCH_OVERHEAD = 49;
/** Base offset (8) and length (4) before the batch body. */
const BATCH_PREFIX = 12;
/**
 * Body bytes before the record count: epoch 4, magic 1, crc 4, attributes 2, last delta 4, timestamps 16, producer 8+2,
 * sequence 4.
 */
const BODY_HEADER = 45;
const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;
const MAX_SAFE_HIGH = 2 ** 21; // high int32 word of the smallest int64 that is not a safe integer

/** Thrown inside the decoder when kafkajs's own decoder must decide. */
class LeaveToKafkajs extends Error {}
const LEAVE = new LeaveToKafkajs('leave to kafkajs');

let fallbacks = 0;

/** How many record sets this thread left to kafkajs's decoder (tests expect none for ordinary data). */
export function leanDecoderFallbacks(): number {
  return fallbacks;
}

/** int64 at `at` as a number; LEAVE when it is not a safe integer. */
function int64Number(buf: Buffer, at: number): number {
  const high = buf.readInt32BE(at);
  if (high >= MAX_SAFE_HIGH || high < -MAX_SAFE_HIGH) throw LEAVE;
  return high * 4294967296 + buf.readUInt32BE(at + 4);
}

function int64String(buf: Buffer, at: number): string {
  const high = buf.readInt32BE(at);
  if (high >= MAX_SAFE_HIGH || high < -MAX_SAFE_HIGH) return buf.readBigInt64BE(at).toString();
  return String(high * 4294967296 + buf.readUInt32BE(at + 4));
}

// The read position of the record parser: module state, so varints return plain numbers.
let pos = 0;

/** kafkajs's readVarInt, bit for bit (zigzag int32). */
function varInt(buf: Buffer): number {
  let byte: number;
  let result = 0;
  let shift = 0;
  do {
    byte = buf[pos++]!;
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varlong as a number; LEAVE beyond 2^53 or 10 bytes. */
function varLong(buf: Buffer): number {
  let byte: number;
  let result = 0;
  let scale = 1;
  let shift = 0;
  do {
    if (shift > 63) throw LEAVE;
    byte = buf[pos++]!;
    result += (byte & 0x7f) * scale;
    scale *= 128;
    shift += 7;
  } while (byte >= 0x80);
  if (result > Number.MAX_SAFE_INTEGER) throw LEAVE;
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

function varBytes(buf: Buffer, limit: number): Buffer | null {
  const length = varInt(buf);
  if (length === -1) return null;
  if (length < 0 || pos + length > limit) throw LEAVE;
  const bytes = buf.subarray(pos, pos + length);
  pos += length;
  return bytes;
}

/** Decodes `count` length-prefixed records from `buf` at `start`, appending to `out`. */
function decodeRecords(
  buf: Buffer,
  start: number,
  limit: number,
  count: number,
  batch: LeanRecordBatch,
  baseOffset: number,
  out: LeanRecord[],
): void {
  const { firstTimestamp, logAppendTime } = batch;
  pos = start;
  for (let i = 0; i < count; i++) {
    const length = varInt(buf);
    const end = pos + length;
    if (length < 0 || end > limit) throw LEAVE;
    const attributes = buf.readInt8(pos++);
    const timestampDelta = varLong(buf);
    const offset = baseOffset + varInt(buf);
    if (
      !Number.isSafeInteger(offset) ||
      (logAppendTime === undefined && !Number.isSafeInteger(firstTimestamp + timestampDelta))
    )
      throw LEAVE;
    const keyLength = varInt(buf);
    const keyStart = pos;
    if (keyLength < -1 || pos + keyLength > end) throw LEAVE;
    if (keyLength > 0) pos += keyLength;
    const value = varBytes(buf, end);
    let headers: Array<string | Buffer | null> | null = null;
    const headerCount = varInt(buf);
    if (headerCount > 0) {
      headers = new Array<string | Buffer | null>(headerCount * 2);
      for (let h = 0; h < headerCount; h++) {
        const headerKey = varBytes(buf, end);
        headers[2 * h] = headerKey === null ? null : headerKey.toString('utf8');
        headers[2 * h + 1] = varBytes(buf, end);
      }
    } else if (headerCount < -1) {
      throw LEAVE;
    }
    out.push(new LeanRecord(offset, timestampDelta, keyStart, keyLength, value, attributes, batch, headers));
    pos = end; // as kafkajs: the record's declared length decides where the next one starts
  }
}

/**
 * The records of the record batches in `buf[start, end)`, or undefined when kafkajs's decoder
 * must decode them. Stops, as kafkajs does, at a last batch the response cut short.
 */
export async function decodeRecordBatches(
  buf: Buffer,
  start: number,
  end: number,
  lookupCodec: CodecLookup,
): Promise<LeanRecord[] | undefined> {
  const records: LeanRecord[] = [];
  let at = start;
  try {
    while (end - at >= RECORD_BATCH_OVERHEAD) {
      const baseOffset = int64Number(buf, at);
      const length = buf.readInt32BE(at + 8);
      const body = at + BATCH_PREFIX;
      if (length < BODY_HEADER + 4) throw LEAVE;
      if (body + length > end) break; // a partial last batch
      at = body + length;
      if (buf.readInt8(body + 4) !== MAGIC_BYTE) throw LEAVE;
      const attributes = buf.readInt16BE(body + 9);
      const lastOffsetDelta = buf.readInt32BE(body + 11);
      const firstTimestamp = int64Number(buf, body + 15);
      const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME;
      const maxTimestamp = int64String(buf, body + 23);
      const context: KafkajsBatchContext = {
        firstOffset: String(baseOffset),
        firstTimestamp: String(firstTimestamp),
        partitionLeaderEpoch: buf.readInt32BE(body),
        inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
        isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
        lastOffsetDelta,
        producerId: int64String(buf, body + 31),
        producerEpoch: buf.readInt16BE(body + 39),
        firstSequence: buf.readInt32BE(body + 41),
        maxTimestamp,
        timestampType,
        magicByte: MAGIC_BYTE,
      };
      const logAppendTime = timestampType === LOG_APPEND_TIME ? int64Number(buf, body + 23) : undefined;
      const count = buf.readInt32BE(body + BODY_HEADER);
      const codec = lookupCodec(attributes);
      if (!codec) {
        if (count !== -1)
          decodeRecords(
            buf,
            body + BODY_HEADER + 4,
            at,
            count,
            new LeanRecordBatch(context, buf, firstTimestamp, logAppendTime),
            baseOffset,
            records,
          );
      } else if (count > 0) {
        const compressed = buf.subarray(body + BODY_HEADER + 4, at);
        const decompressed = codec.decompressSync
          ? codec.decompressSync(compressed)
          : await codec.decompress(compressed);
        decodeRecords(
          decompressed,
          0,
          decompressed.length,
          count,
          new LeanRecordBatch(context, decompressed, firstTimestamp, logAppendTime),
          baseOffset,
          records,
        );
      }
    }
  } catch {
    // Beyond what this decoder handles exactly (LEAVE), or malformed: kafkajs decodes it again
    // and decides, so its errors stay its own.
    fallbacks += 1;
    return undefined;
  }
  return records;
}

/** The slice of kafkajs's protocol `Decoder` that decodeMessages reads. */
export interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
}
/** Marks the installed decoder across module instances (the value is kafkajs's own). */
export const LEAN_DECODE_MESSAGES = Symbol.for('sdp.kafka.leanDecodeMessages');
export type DecodeMessages = (decoder: KafkajsDecoder) => Promise<unknown[]>;

/**
 * A drop-in for kafkajs's `fetch/v4/decodeMessages.js`: reads the record set at the decoder's
 * position (int32 size, then the batches) and leaves the decoder after it.
 */
export function leanDecodeMessages(kafkajsDecodeMessages: DecodeMessages, lookupCodec: CodecLookup): DecodeMessages {
  const decode: DecodeMessages = async (decoder) => {
    const buf = decoder.buffer;
    const start = decoder.offset;
    if (buf.length - start < 4) return kafkajsDecodeMessages(decoder);
    const size = buf.readInt32BE(start);
    const setStart = start + 4;
    const setEnd = setStart + size;
    // Empty or cut sets, legacy message sets and sets too short for kafkajs's magic check are its own.
    if (size <= MAGIC_OFFSET || setEnd > buf.length || buf.readInt8(setStart + MAGIC_OFFSET) !== MAGIC_BYTE)
      return kafkajsDecodeMessages(decoder);
    const records = await decodeRecordBatches(buf, setStart, setEnd, lookupCodec);
    if (records === undefined) return kafkajsDecodeMessages(decoder);
    decoder.offset = setEnd;
    return records;
  };
  (decode as unknown as Record<symbol, unknown>)[LEAN_DECODE_MESSAGES] = kafkajsDecodeMessages;
  return decode;
}
