/**
 * Where a producer thread puts its serialized events: UTF-8 bytes written into large chunks, each
 * event a view of its bytes, instead of JSON strings kept until their batch is sent. The Produce
 * encoder then copies bytes instead of measuring every string's UTF-8 length and encoding it a
 * second time, and the strings die young instead of being copied by every scavenge until the batch
 * is on the wire (the profile of a thread at an unlimited rate: Buffer.byteLength 10 % and the
 * garbage collector 18 % of its time; architecture.md, "Data flow").
 */
const DEFAULT_CHUNK_BYTES = 1 << 20;

export class ValueArena {
  private chunk: Buffer;
  private offset = 0;

  constructor(private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /** The UTF-8 bytes of `value`: a view into the current chunk, valid for as long as it is held. */
  put(value: string): Buffer {
    // At most 3 bytes per UTF-16 unit: a value never spills over a chunk's end.
    const worst = value.length * 3;
    if (this.chunk.length - this.offset < worst) {
      this.chunk = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, worst));
      this.offset = 0;
    }
    const start = this.offset;
    this.offset = start + this.chunk.write(value, start, 'utf8');
    return this.chunk.subarray(start, this.offset);
  }
}
