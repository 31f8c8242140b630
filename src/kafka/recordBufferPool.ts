/**
 * The buffers a thread's RecordsBuilders write into, kept from one transaction to the next. A fresh
 * buffer of a few MB per partition and transaction made V8 count that much more external memory each
 * time, and start a full (mark-compact) collection every few transactions to see whether it could be
 * freed: three times as many as with the buffers kept (architecture.md, "Data flow").
 */
const DEFAULT_MAX_FREE_BUFFERS = 16;
const DEFAULT_MAX_FREE_BYTES = 32 * 1024 * 1024;

export class RecordBufferPool {
  private readonly free: Buffer[] = [];
  private freeBytes = 0;

  constructor(
    private readonly maxFreeBuffers = DEFAULT_MAX_FREE_BUFFERS,
    private readonly maxFreeBytes = DEFAULT_MAX_FREE_BYTES,
  ) {}

  /** A buffer of at least `bytes`: a kept one when one is large enough, else a new one. Its contents are garbage. */
  take(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const length = this.free[i]!.length;
      if (length >= bytes && (best < 0 || length < this.free[best]!.length)) best = i;
    }
    if (best < 0) return Buffer.allocUnsafeSlow(bytes);
    const buf = this.free[best]!;
    this.free[best] = this.free[this.free.length - 1]!;
    this.free.pop();
    this.freeBytes -= buf.length;
    return buf;
  }

  /** Gives back a buffer nothing reads any more; kept while the pool has room, the smallest ones dropped first. */
  give(buf: Buffer): void {
    this.free.push(buf);
    this.freeBytes += buf.length;
    while (this.free.length > this.maxFreeBuffers || this.freeBytes > this.maxFreeBytes) {
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[smallest]!.length) smallest = i;
      this.freeBytes -= this.free[smallest]!.length;
      this.free[smallest] = this.free[this.free.length - 1]!;
      this.free.pop();
    }
  }

  /** Buffers and bytes kept. */
  get size(): { buffers: number; bytes: number } {
    return { buffers: this.free.length, bytes: this.freeBytes };
  }
}
