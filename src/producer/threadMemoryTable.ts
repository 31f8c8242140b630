import type { HeapUsage } from '../status/memoryBreakdown.js';

/**
 * Each producer thread's heap figures in a SharedArrayBuffer (one row per slot): a thread writes
 * its own row every second, the pool reads every row whenever it is asked, without a message to
 * the threads (Piscina cannot address a task to one thread, and a busy thread would answer late).
 * A row older than `maxAgeMs` belongs to a thread that is gone and is not reported.
 */
/** How often a thread writes its row; the pool reports rows younger than MEMORY_MAX_AGE_MS. */
export const MEMORY_REPORT_MS = 1_000;
export const MEMORY_MAX_AGE_MS = 3 * MEMORY_REPORT_MS;
const FIELDS = 5; // written-at ms, heapUsed, heapTotal, external, arrayBuffers

export class ThreadMemoryTable {
  private readonly rows: Float64Array;

  static allocate(slots: number): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * FIELDS * Float64Array.BYTES_PER_ELEMENT);
  }

  constructor(buffer: SharedArrayBuffer) {
    this.rows = new Float64Array(buffer);
  }

  get slots(): number {
    return this.rows.length / FIELDS;
  }

  write(slot: number, usage: HeapUsage, nowMs: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots)
      throw new RangeError(`no memory row for slot ${slot} (${this.slots} slots)`);
    const at = slot * FIELDS;
    // Written-at last: a reader that sees a fresh time sees this write's figures (Float64 stores
    // are not torn on the platforms Node supports; a row read mid-write mixes two close samples).
    this.rows[at + 1] = usage.heapUsed;
    this.rows[at + 2] = usage.heapTotal;
    this.rows[at + 3] = usage.external;
    this.rows[at + 4] = usage.arrayBuffers;
    this.rows[at] = nowMs;
  }

  /** The rows written within `maxAgeMs` of `nowMs`. */
  read(nowMs: number, maxAgeMs: number): Array<{ slot: number; usage: HeapUsage; atMs: number }> {
    const out: Array<{ slot: number; usage: HeapUsage; atMs: number }> = [];
    for (let slot = 0; slot < this.slots; slot++) {
      const at = slot * FIELDS;
      const atMs = this.rows[at]!;
      if (atMs === 0 || nowMs - atMs > maxAgeMs) continue;
      out.push({
        slot,
        atMs,
        usage: {
          heapUsed: this.rows[at + 1]!,
          heapTotal: this.rows[at + 2]!,
          external: this.rows[at + 3]!,
          arrayBuffers: this.rows[at + 4]!,
        },
      });
    }
    return out;
  }
}
