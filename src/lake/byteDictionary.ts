/**
 * Distinct byte strings of one column, each stored once and named by a small id: the
 * low-cardinality columns (urls, referrers, user agents, devices, sites) repeat a few hundred
 * values across every buffered row, so a buffer keeps a 4-byte id per row instead of the bytes.
 * Looked up by the bytes themselves (hash, then compare), so no string is made to find a value.
 */

const EMPTY = 0;

export interface DictionaryEntries {
  /** The entries' bytes back to back; entry i ends at `ends[i]` and starts at `ends[i - 1]` (0). */
  bytes: Uint8Array;
  ends: Int32Array;
  /** Every byte is below 0x80. */
  ascii: boolean;
}

export class ByteDictionary {
  private bytes = new Uint8Array(1024);
  private ends = new Int32Array(64);
  private used = 0;
  private count = 0;
  private ascii = true;
  /** Open addressing: id + 1 per slot, 0 for an empty slot; twice `maxEntries` slots at most. */
  private slots = new Int32Array(128);

  constructor(readonly maxEntries = 4096) {}

  get size(): number {
    return this.count;
  }

  /** The id of `src[start, end)`, added if new; -1 when it is new and the dictionary is full. */
  idOf(src: Uint8Array, start: number, end: number, ascii: boolean): number {
    const len = end - start;
    const mask = this.slots.length - 1;
    let slot = hashBytes(src, start, end) & mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === EMPTY) break;
      const id = entry - 1;
      const from = id === 0 ? 0 : this.ends[id - 1]!;
      if (this.ends[id]! - from === len && sameBytes(this.bytes, from, src, start, len)) return id;
      slot = (slot + 1) & mask;
    }
    if (this.count >= this.maxEntries) return -1;
    const id = this.add(src, start, end, ascii);
    // Keep the table at most half full: probes stay short.
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.slots[slot] = id + 1;
    return id;
  }

  private add(src: Uint8Array, start: number, end: number, ascii: boolean): number {
    const len = end - start;
    if (this.used + len > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.used + len, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(src.subarray(start, end), this.used);
    this.used += len;
    if (this.count === this.ends.length) {
      const grown = new Int32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count] = this.used;
    if (!ascii) this.ascii = false;
    return this.count++;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    let from = 0;
    for (let id = 0; id < this.count; id++) {
      const to = this.ends[id]!;
      let slot = hashBytes(this.bytes, from, to) & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = id + 1;
      from = to;
    }
    this.slots = slots;
  }

  /** Where entry `id` sits in `entriesBytes()`. */
  startOf(id: number): number {
    return id === 0 ? 0 : this.ends[id - 1]!;
  }

  endOf(id: number): number {
    return this.ends[id]!;
  }

  /** The live byte store (valid until the next `idOf`). */
  entriesBytes(): Uint8Array {
    return this.bytes;
  }

  /** A copy of every entry, exactly sized. */
  snapshot(): DictionaryEntries {
    return { bytes: this.bytes.slice(0, this.used), ends: this.ends.slice(0, this.count), ascii: this.ascii };
  }
}

/** FNV-1a over every byte (a sampled hash would make values that differ only in the middle collide). */
function hashBytes(src: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
