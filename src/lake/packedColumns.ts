import { TABLES, type ColumnBatch, type ColumnValue, type TableName } from './tables.js';

/**
 * Rows of one table held column-wise in a few flat typed arrays instead of JS arrays of strings
 * (issue 13): a UTF-8 column is one byte buffer plus end offsets, a numeric column (INT32, INT64,
 * DOUBLE, TIMESTAMP_MILLIS: safe integers or doubles) one Float64Array, nulls one byte per row.
 * Buffered rows then cost no garbage-collected objects on the consuming thread, the fast decoder
 * copies a field's bytes straight from the Kafka record (no string made), and the batch crosses to
 * an encoder thread as a handful of memcpys instead of a structured clone of every string.
 * The encoder side turns it back into a ColumnBatch (`unpackColumns`), the encoders' input.
 */

export interface PackedUtf8Column {
  kind: 'utf8';
  /** UTF-8 bytes of every value, back to back (a null adds none). */
  bytes: Uint8Array;
  /** `ends[i]` is where value i ends in `bytes`; value i starts at `ends[i - 1]` (0 for i = 0). */
  ends: Int32Array;
  /** Every byte in `bytes` is below 0x80, so Latin-1 decoding equals UTF-8 decoding (faster). */
  ascii: boolean;
  /** `nulls[i] === 1`: row i is null. Absent when the column holds no null. */
  nulls?: Uint8Array;
}

export interface PackedNumberColumn {
  kind: 'f64';
  values: Float64Array;
  nulls?: Uint8Array;
}

export type PackedColumn = PackedUtf8Column | PackedNumberColumn;

/** A drained buffer: `columns` in the table's column order, every array exactly `rowCount` long. */
export interface PackedBatch {
  packed: true;
  rowCount: number;
  columns: PackedColumn[];
  /** The payload bytes (UTF-8 bytes + 8 per number or null), as `approxBytes` counted them. */
  approxBytes: number;
}

export function isPackedBatch(batch: ColumnBatch | PackedBatch): batch is PackedBatch {
  return (batch as PackedBatch).packed === true;
}

const INITIAL_ROWS = 256;
const INITIAL_BYTES = 4096;

class Utf8Builder {
  bytes = new Uint8Array(INITIAL_BYTES);
  ends = new Int32Array(INITIAL_ROWS);
  nulls: Uint8Array | undefined;
  used = 0;
  ascii = true;

  reserveBytes(extra: number): Uint8Array {
    const need = this.used + extra;
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    return this.bytes;
  }
}

class NumberBuilder {
  values = new Float64Array(INITIAL_ROWS);
  nulls: Uint8Array | undefined;
}

const textEncoder = new TextEncoder();

type SliceableBuffer = Buffer & { latin1Slice(start: number, end: number): string; utf8Slice(start: number, end: number): string };

/**
 * Builds a PackedBatch row by row. Either whole rows (`appendRow`, objects keyed like the table, or
 * by `sourceFields`), or field by field in column order (`pushBytes` / `pushString` / `pushNumber` /
 * `pushNull` for every column, then `endRow`), or whole batches (`appendBatch`).
 */
export class PackedColumnBuffer {
  readonly table: TableName;
  private readonly names: readonly string[];
  private readonly isText: readonly boolean[];
  private utf8: Array<Utf8Builder | undefined> = [];
  private numbers: Array<NumberBuilder | undefined> = [];
  private capacity = INITIAL_ROWS;
  private rows = 0;
  private bytes = 0;

  /**
   * @param sourceFields where `appendRow` reads a column from when the objects name it differently
   *   (e.g. `{ ts: 'tsMs' }` for validated events).
   */
  constructor(table: TableName, sourceFields: Partial<Record<string, string>> = {}) {
    this.table = table;
    const specs = TABLES[table];
    this.names = specs.map((spec) => sourceFields[spec.name] ?? spec.name);
    this.isText = specs.map((spec) => spec.type === 'UTF8');
    this.reset();
  }

  private reset(): void {
    this.capacity = INITIAL_ROWS;
    this.utf8 = this.isText.map((t) => (t ? new Utf8Builder() : undefined));
    this.numbers = this.isText.map((t) => (t ? undefined : new NumberBuilder()));
    this.rows = 0;
    this.bytes = 0;
  }

  get rowCount(): number {
    return this.rows;
  }

  /** UTF-8 payload bytes plus 8 per number or null: what `etl.max_file_bytes` counts. */
  get approxBytes(): number {
    return this.bytes;
  }

  private ensureRows(rows: number): void {
    if (rows <= this.capacity) return;
    let capacity = this.capacity;
    while (capacity < rows) capacity *= 2;
    for (const b of this.utf8) {
      if (!b) continue;
      const ends = new Int32Array(capacity);
      ends.set(b.ends.subarray(0, this.rows));
      b.ends = ends;
      if (b.nulls) b.nulls = growBytes(b.nulls, capacity, this.rows);
    }
    for (const b of this.numbers) {
      if (!b) continue;
      const values = new Float64Array(capacity);
      values.set(b.values.subarray(0, this.rows));
      b.values = values;
      if (b.nulls) b.nulls = growBytes(b.nulls, capacity, this.rows);
    }
    this.capacity = capacity;
  }

  /** Column `col` of the current row: bytes `src[start, end)`, which must be ASCII when `ascii`. */
  pushBytes(col: number, src: Uint8Array, start: number, end: number, ascii: boolean): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    const b = this.utf8[col]!;
    const len = end - start;
    const dst = b.reserveBytes(len);
    let at = b.used;
    // Short fields (ids, urls) copy faster in a loop than through a native call.
    if (len <= 64) for (let i = start; i < end; i++) dst[at++] = src[i]!;
    else {
      dst.set(src.subarray(start, end), at);
      at += len;
    }
    b.used = at;
    b.ends[this.rows] = at;
    if (!ascii) b.ascii = false;
    this.bytes += len;
  }

  pushString(col: number, value: string): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    const b = this.utf8[col]!;
    // At most 3 UTF-8 bytes per UTF-16 code unit.
    const dst = b.reserveBytes(value.length * 3);
    const { written } = textEncoder.encodeInto(value, dst.subarray(b.used));
    b.used += written!;
    b.ends[this.rows] = b.used;
    if (written !== value.length) b.ascii = false;
    this.bytes += written!;
  }

  pushNumber(col: number, value: number): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    this.numbers[col]!.values[this.rows] = value;
    this.bytes += 8;
  }

  pushNull(col: number): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    const b = this.utf8[col] ?? this.numbers[col]!;
    if (!b.nulls) b.nulls = new Uint8Array(this.capacity);
    b.nulls[this.rows] = 1;
    if (b instanceof Utf8Builder) b.ends[this.rows] = b.used;
    this.bytes += 8;
  }

  /** Closes the row whose every column was pushed. */
  endRow(): void {
    this.rows++;
  }

  /** Appends one row object (missing fields are null). */
  appendRow(row: object): void {
    const record = row as Record<string, ColumnValue | undefined>;
    const { names, isText } = this;
    for (let i = 0; i < names.length; i++) {
      const value = record[names[i]!];
      if (value === null || value === undefined) this.pushNull(i);
      else if (isText[i]) {
        if (typeof value !== 'string') throw new TypeError(`${this.table}.${names[i]}: expected a string, got ${typeof value}`);
        this.pushString(i, value);
      } else {
        if (typeof value !== 'number') throw new TypeError(`${this.table}.${names[i]}: expected a number, got ${typeof value}`);
        this.pushNumber(i, value);
      }
    }
    this.rows++;
  }

  /** Appends every row of `batch` (same table). */
  appendBatch(batch: PackedBatch): void {
    const n = batch.rowCount;
    if (n === 0) return;
    if (batch.columns.length !== this.names.length) throw new Error(`packed batch has ${batch.columns.length} columns, ${this.table} has ${this.names.length}`);
    this.ensureRows(this.rows + n);
    for (let c = 0; c < batch.columns.length; c++) {
      const src = batch.columns[c]!;
      if (src.kind === 'utf8') {
        const b = this.utf8[c];
        if (!b) throw new Error(`packed batch column ${c} is text, ${this.table}'s is not`);
        const base = b.used;
        const dst = b.reserveBytes(src.bytes.length);
        dst.set(src.bytes, base);
        b.used = base + src.bytes.length;
        for (let i = 0; i < n; i++) b.ends[this.rows + i] = base + src.ends[i]!;
        if (!src.ascii) b.ascii = false;
        if (src.nulls) {
          if (!b.nulls) b.nulls = new Uint8Array(this.capacity);
          b.nulls.set(src.nulls, this.rows);
        }
      } else {
        const b = this.numbers[c];
        if (!b) throw new Error(`packed batch column ${c} is numeric, ${this.table}'s is not`);
        b.values.set(src.values, this.rows);
        if (src.nulls) {
          if (!b.nulls) b.nulls = new Uint8Array(this.capacity);
          b.nulls.set(src.nulls, this.rows);
        }
      }
    }
    this.rows += n;
    this.bytes += batch.approxBytes;
  }

  /**
   * Hands the rows over and starts empty. `copy` (default): exactly-sized arrays of their own, so a
   * clone to an encoder thread carries no slack; false: views into this buffer's arrays (cheaper,
   * for a batch that is appended elsewhere at once).
   */
  drain(copy = true): PackedBatch {
    const n = this.rows;
    const columns: PackedColumn[] = this.isText.map((text, c) => {
      if (text) {
        const b = this.utf8[c]!;
        const col: PackedUtf8Column = { kind: 'utf8', bytes: cut(b.bytes, b.used, copy), ends: cut(b.ends, n, copy), ascii: b.ascii };
        if (b.nulls) col.nulls = cut(b.nulls, n, copy);
        return col;
      }
      const b = this.numbers[c]!;
      const col: PackedNumberColumn = { kind: 'f64', values: cut(b.values, n, copy) };
      if (b.nulls) col.nulls = cut(b.nulls, n, copy);
      return col;
    });
    const batch: PackedBatch = { packed: true, rowCount: n, columns, approxBytes: this.bytes };
    this.reset();
    return batch;
  }
}

function cut<A extends Uint8Array | Int32Array | Float64Array>(array: A, length: number, copy: boolean): A {
  return (copy ? array.slice(0, length) : array.subarray(0, length)) as A;
}

function growBytes(old: Uint8Array, capacity: number, used: number): Uint8Array {
  const grown = new Uint8Array(capacity);
  grown.set(old.subarray(0, used));
  return grown;
}

/** The table's ColumnBatch (JS arrays) of a packed batch: what the Parquet encoders take. */
export function unpackColumns(table: TableName, batch: PackedBatch): ColumnBatch {
  const specs = TABLES[table];
  if (batch.columns.length !== specs.length) throw new Error(`packed batch has ${batch.columns.length} columns, ${table} has ${specs.length}`);
  const n = batch.rowCount;
  const columns: Record<string, ColumnValue[]> = {};
  for (let c = 0; c < specs.length; c++) {
    const src = batch.columns[c]!;
    const out: ColumnValue[] = new Array<ColumnValue>(n);
    const nulls = src.nulls;
    if (src.kind === 'utf8') {
      const buf = Buffer.from(src.bytes.buffer, src.bytes.byteOffset, src.bytes.byteLength) as SliceableBuffer;
      const ends = src.ends;
      const ascii = src.ascii;
      let start = 0;
      for (let i = 0; i < n; i++) {
        const end = ends[i]!;
        out[i] = nulls !== undefined && nulls[i] === 1 ? null : ascii ? buf.latin1Slice(start, end) : buf.utf8Slice(start, end);
        start = end;
      }
    } else {
      const values = src.values;
      for (let i = 0; i < n; i++) out[i] = nulls !== undefined && nulls[i] === 1 ? null : values[i]!;
    }
    columns[specs[c]!.name] = out;
  }
  return { rowCount: n, columns };
}
