/**
 * Counts committed data records per offset range in the record set of a read_committed Fetch
 * response, from the record-batch headers alone where it can (`verify`, architecture.md,
 * "Verifying the lake"). Pure.
 *
 * Which records count is the Java client's rule (patches/abortedTransactions.ts): walking the
 * batches in offset order, every aborted transaction of the response whose first offset is at or
 * below a batch's last offset marks its producer aborted, the producer's ABORT marker clears it,
 * and a transactional data batch of an aborted producer counts for nothing; control batches never
 * count. A data batch whose record count equals `lastOffsetDelta + 1` holds every offset from its
 * base to its last (no compaction removed any), so its records per range are a subtraction; only
 * a batch with holes that a range boundary cuts is decompressed to read its records' offsets.
 * Nothing is materialised per record.
 */
import type { AbortedTransaction } from '../patches/abortedTransactions.js';
import type { OffsetSpan } from './offsetSpan.js';

/** Decompresses a batch's records by its attributes; null when the batch is not compressed. */
export type Decompress = (attributes: number, records: Buffer) => Buffer | null | Promise<Buffer | null>;

/** Base offset (8) and length (4) before the batch body. */
const BATCH_PREFIX = 12;
/** Body bytes before the record count (epoch, magic, crc, attributes, last delta, timestamps, producer, sequence). */
const BODY_HEADER = 45;
const MAGIC_BYTE = 2;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;
const ABORT_MARKER = 0;

/**
 * Per-range counts over a stream of record sets (one per Fetch response) of one partition, in
 * offset order. `spans` are sorted by first offset; they may overlap (an overlap finding's ranges
 * are each counted whole).
 */
export class CommittedRecordCounter {
  readonly counts: number[];
  /** The offset after the last batch seen: where the next fetch starts. */
  nextOffset: bigint;
  private low = 0;

  constructor(
    private readonly spans: readonly OffsetSpan[],
    from: bigint,
  ) {
    this.counts = spans.map(() => 0);
    this.nextOffset = from;
  }

  /**
   * Walks the batches of `buf[start, end)` (a partial last batch, cut by the broker at max bytes,
   * is left for the next fetch). Aborted transactions are those the same response listed.
   * Returns the number of batches read.
   */
  async addRecordSet(
    buf: Buffer,
    start: number,
    end: number,
    abortedTransactions: readonly AbortedTransaction[],
    decompress: Decompress,
  ): Promise<number> {
    const pending = abortedTransactions
      .map((t) => ({ producerId: BigInt(t.producerId), firstOffset: BigInt(t.firstOffset) }))
      .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
    let nextAborted = 0;
    const abortedProducers = new Set<bigint>();
    let batches = 0;
    let at = start;
    while (end - at >= BATCH_PREFIX + BODY_HEADER + 4) {
      const base = buf.readBigInt64BE(at);
      const length = buf.readInt32BE(at + 8);
      const body = at + BATCH_PREFIX;
      if (body + length > end) break;
      at = body + length;
      if (buf.readInt8(body + 4) !== MAGIC_BYTE)
        throw new Error(`record batch at offset ${base} has magic ${buf.readInt8(body + 4)}; only magic 2 is read`);
      batches += 1;
      const attributes = buf.readInt16BE(body + 9);
      const lastOffsetDelta = buf.readInt32BE(body + 11);
      const producerId = buf.readBigInt64BE(body + 31);
      const count = buf.readInt32BE(body + BODY_HEADER);
      const last = base + BigInt(lastOffsetDelta);
      if (last + 1n > this.nextOffset) this.nextOffset = last + 1n;
      const control = (attributes & CONTROL) !== 0;
      if (producerId !== -1n) {
        while (nextAborted < pending.length && pending[nextAborted]!.firstOffset <= last)
          abortedProducers.add(pending[nextAborted++]!.producerId);
        if (control) {
          if (controlType(buf, body + BODY_HEADER + 4, at) === ABORT_MARKER) abortedProducers.delete(producerId);
          continue;
        }
        if ((attributes & TRANSACTIONAL) !== 0 && abortedProducers.has(producerId)) continue;
      } else if (control) {
        continue;
      }
      if (count <= 0) continue;
      if (count === lastOffsetDelta + 1) {
        this.addContiguous(base, last);
      } else {
        const records = buf.subarray(body + BODY_HEADER + 4, at);
        const plain = (await decompress(attributes, records)) ?? records;
        this.addEach(base, recordOffsetDeltas(plain, count), last);
      }
    }
    return batches;
  }

  /** Every offset of [base, last] is a record. */
  private addContiguous(base: bigint, last: bigint): void {
    const spans = this.spans;
    while (this.low < spans.length && spans[this.low]!.last < base) this.low += 1;
    for (let i = this.low; i < spans.length && spans[i]!.first <= last; i++) {
      const s = spans[i]!;
      if (s.last < base) continue;
      const from = s.first > base ? s.first : base;
      const to = s.last < last ? s.last : last;
      this.counts[i]! += Number(to - from + 1n);
    }
  }

  private addEach(base: bigint, deltas: readonly number[], last: bigint): void {
    const spans = this.spans;
    while (this.low < spans.length && spans[this.low]!.last < base) this.low += 1;
    for (let i = this.low; i < spans.length && spans[i]!.first <= last; i++) {
      const s = spans[i]!;
      for (const delta of deltas) {
        const offset = base + BigInt(delta);
        if (offset >= s.first && offset <= s.last) this.counts[i]! += 1;
      }
    }
  }
}

// The read position of the varint readers below.
let pos = 0;

function varInt(buf: Buffer): number {
  let byte: number;
  let result = 0;
  let shift = 0;
  do {
    byte = buf[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte >= 0x80);
  return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
}

/** The offset deltas of `count` records (length, attributes, timestamp delta, offset delta, …). */
export function recordOffsetDeltas(records: Buffer, count: number): number[] {
  const deltas: number[] = [];
  pos = 0;
  for (let i = 0; i < count && pos < records.length; i++) {
    const length = varInt(records);
    const next = pos + length;
    pos += 1; // attributes
    varInt(records); // timestamp delta
    deltas.push(varInt(records));
    pos = next;
  }
  return deltas;
}

/** A control record's key is (version int16, type int16); -1 when unreadable. */
function controlType(buf: Buffer, start: number, end: number): number {
  pos = start;
  varInt(buf); // length
  pos += 1; // attributes
  varInt(buf); // timestamp delta
  varInt(buf); // offset delta
  const keyLength = varInt(buf);
  if (keyLength < 4 || pos + keyLength > end) return -1;
  return buf.readInt16BE(pos + 2);
}
