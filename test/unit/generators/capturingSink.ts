import type { RecordSink } from '../../../src/generators/recordSink.js';

/** A RecordSink that keeps each record's key and value as text, to compare with what `next` makes. */
export class CapturingSink implements RecordSink {
  valueBuffer = Buffer.alloc(0);
  readonly records: Array<{ key: string; value: string }> = [];
  private pending: { key: string; at: number; bytes: number } | undefined;

  reserve(key: Uint8Array, keyStart: number, keyEnd: number, valueBytes: number): number {
    this.flush();
    // A buffer with bytes either side of the value's, to see that the writer stays within it.
    this.valueBuffer = Buffer.alloc(valueBytes + 16, 0xee);
    this.pending = { key: Buffer.from(key.subarray(keyStart, keyEnd)).toString('latin1'), at: 8, bytes: valueBytes };
    return 8;
  }

  /** The records appended so far; the last one's value read once it is written. */
  take(): Array<{ key: string; value: string }> {
    this.flush();
    return this.records.splice(0);
  }

  private flush(): void {
    const p = this.pending;
    if (p === undefined) return;
    const buf = this.valueBuffer;
    const outside = [...buf.subarray(0, p.at), ...buf.subarray(p.at + p.bytes)].some((b) => b !== 0xee);
    this.records.push({
      key: p.key,
      value: outside ? '(wrote outside its value)' : buf.toString('utf8', p.at, p.at + p.bytes),
    });
    this.pending = undefined;
  }
}
