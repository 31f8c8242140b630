/**
 * One partition's records, written once where the events are made (recordsBuilder.ts) in the layout
 * the Produce encoder gives the records of a batch (patches/recordBatchEncoder.ts: offset deltas
 * 0…count−1, timestamp deltas 0, no headers): the encoder compresses them as they are, with no pass
 * over each message, no object and no copy per record (architecture.md, "Data flow").
 *
 * They travel through kafkajs's `send` as a messages array holding `count` references to one
 * EncodedRecords: kafkajs counts the messages (the idempotent producer's sequence numbers) and asks
 * each for a value; the patched grouping and encoder recognise the array (`preEncodedIn`). Only where
 * those patches are in force: elsewhere `toMessages` gives kafkajs ordinary messages.
 */
import { readVarInt } from './patches/varint.js';

export class EncodedRecords {
  constructor(
    readonly partition: number,
    readonly count: number,
    /** The records, back to back, as in an uncompressed v2 record batch after its header. */
    readonly records: Buffer,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  }

  /** kafkajs refuses a message without a value; never read as one. */
  get value(): Buffer {
    return this.records;
  }

  /** The messages array kafkajs's `send` is given for these records. */
  asMessages(): EncodedRecords[] {
    return new Array<EncodedRecords>(this.count).fill(this);
  }
}

/** The EncodedRecords a messages array stands for (made by `asMessages`), else undefined. */
export function preEncodedIn(messages: readonly unknown[]): EncodedRecords | undefined {
  const first = messages[0];
  if (!(first instanceof EncodedRecords)) return undefined;
  if (first.count !== messages.length || messages[messages.length - 1] !== first) return undefined;
  return first;
}

/** The same records as ordinary messages (views of the buffer), for kafkajs's own encoder. */
export function toMessages(
  encoded: EncodedRecords,
): Array<{ key: Buffer | null; value: Buffer | null; partition: number }> {
  const buf = encoded.records;
  const out: Array<{ key: Buffer | null; value: Buffer | null; partition: number }> = [];
  let offset = 0;
  const field = (): Buffer | null => {
    const length = readVarInt(buf, offset);
    offset = length.next;
    if (length.value < 0) return null;
    const view = buf.subarray(offset, offset + length.value);
    offset += length.value;
    return view;
  };
  for (let i = 0; i < encoded.count; i++) {
    const length = readVarInt(buf, offset);
    const end = length.next + length.value;
    offset = length.next + 1; // attributes
    offset = readVarInt(buf, offset).next; // timestamp delta
    offset = readVarInt(buf, offset).next; // offset delta
    const key = field();
    const value = field();
    out.push({ key, value, partition: encoded.partition });
    offset = end; // no headers
  }
  if (offset !== buf.length) throw new RangeError(`records end at ${offset} of ${buf.length} bytes`);
  return out;
}
