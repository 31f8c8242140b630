import { ByteDictionary, type DictionaryEntries } from './byteDictionary.js';
import { TABLES, type ColumnBatch, type ColumnValue, type TableName } from './tables.js';

/**
 * Rows of one table held column-wise in a few flat typed arrays instead of JS arrays of strings
 * (architecture.md, "Back-pressure and shutdown"): a UTF-8 column is one byte buffer plus end offsets, a numeric column
 * (INT32, INT64, DOUBLE, TIMESTAMP_MILLIS: safe integers or doubles) one Float64Array, nulls one byte per row. Buffered
 * rows then cost no garbage-collected objects on the consuming thread, the fast decoder copies a field's bytes straight
 * from the Kafka record (no string made), and the batch crosses to an encoder thread as a handful of memcpys instead of
 * a structured clone of every string. The encoder side turns it back into a ColumnBatch (`unpackColumns`), the
 * encoders' input.
 *
 * The low-cardinality text columns (`DICTIONARY_COLUMNS`) of a buffer built with `dictionary: true`
 * keep each distinct value once (a ByteDictionary) and a 4-byte id per row, which also makes the
 * encoder thread's strings shared (one string per distinct value, as interning did before).
 */

/** Text columns whose values repeat (a few hundred distinct values per partition). */
export const DICTIONARY_COLUMNS: Partial<Record<TableName, readonly string[]>> = {
  clickstream: ['url', 'referrer', 'ua'],
  iot: ['device_id', 'site'],
};

/** A dictionary of a buffer gives up (new values stored inline) once it holds this many values... */
const DICTIONARY_GIVE_UP_SIZE = 1024;
/** ...and more than one value in this many looked up was new: a nearly unique column. */
const DICTIONARY_GIVE_UP_RATIO = 4;

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
  /** Dictionary columns: `ids[i] >= 0` is row i's entry in `dict` (no inline bytes then); -1 inline. */
  ids?: Int32Array;
  dict?: DictionaryEntries;
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
  /** Dictionary columns only: the dictionary in use, or the one given up on (`ids` still name its entries). */
  dict: ByteDictionary | undefined;
  retired: ByteDictionary | undefined;
  ids: Int32Array | undefined;
  /** Values looked up in `dict` while it is in use. */
  looked = 0;

  constructor(dictionary: boolean) {
    if (dictionary) {
      this.dict = new ByteDictionary();
      this.ids = new Int32Array(INITIAL_ROWS);
    }
  }

  /** Row `row` is `src[start, end)`: a dictionary id when it has one, else inline bytes. */
  put(row: number, src: Uint8Array, start: number, end: number, ascii: boolean): void {
    const dict = this.dict;
    if (dict !== undefined) {
      const id = dict.idOf(src, start, end, ascii);
      this.looked++;
      if (dict.size >= DICTIONARY_GIVE_UP_SIZE && dict.size * DICTIONARY_GIVE_UP_RATIO > this.looked) {
        this.retired = dict;
        this.dict = undefined;
      }
      this.ids![row] = id;
      if (id >= 0) {
        this.ends[row] = this.used;
        return;
      }
    } else if (this.ids !== undefined) {
      this.ids[row] = -1;
    }
    const len = end - start;
    const dst = this.reserveBytes(len);
    let at = this.used;
    // Short fields (ids, urls) copy faster in a loop than through a native call.
    if (len <= 64) for (let i = start; i < end; i++) dst[at++] = src[i]!;
    else {
      dst.set(src.subarray(start, end), at);
      at += len;
    }
    this.used = at;
    this.ends[row] = at;
    if (!ascii) this.ascii = false;
  }

  putNull(row: number): void {
    if (!this.nulls) this.nulls = new Uint8Array(this.ends.length);
    this.nulls[row] = 1;
    this.ends[row] = this.used;
    if (this.ids !== undefined) this.ids[row] = -1;
  }

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

type SliceableBuffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
};

/**
 * Builds a PackedBatch row by row. Either whole rows (`appendRow`, objects keyed like the table, or
 * by `sourceFields`), or field by field in column order (`pushBytes` / `pushString` / `pushNumber` /
 * `pushNull` for every column, then `endRow`), or whole batches (`appendBatch`).
 */
export class PackedColumnBuffer {
  readonly table: TableName;
  private readonly names: readonly string[];
  private readonly isText: readonly boolean[];
  private readonly isDictionary: readonly boolean[];
  private utf8: Array<Utf8Builder | undefined> = [];
  private numbers: Array<NumberBuilder | undefined> = [];
  private capacity = INITIAL_ROWS;
  private rows = 0;
  private bytes = 0;

  /**
   * @param options.sourceFields where `appendRow` reads a column from when the objects name it
   *   differently (e.g. `{ ts: 'tsMs' }` for validated events).
   * @param options.dictionary keep the table's `DICTIONARY_COLUMNS` as dictionary ids (buffers that
   *   hold many rows; a batch appended elsewhere at once needs none).
   */
  constructor(
    table: TableName,
    options: { sourceFields?: Partial<Record<string, string>>; dictionary?: boolean } = {},
  ) {
    this.table = table;
    const specs = TABLES[table];
    const sourceFields = options.sourceFields ?? {};
    const dictionaryColumns = options.dictionary ? (DICTIONARY_COLUMNS[table] ?? []) : [];
    this.names = specs.map((spec) => sourceFields[spec.name] ?? spec.name);
    this.isText = specs.map((spec) => spec.type === 'UTF8');
    this.isDictionary = specs.map((spec) => dictionaryColumns.includes(spec.name));
    this.reset();
  }

  private reset(): void {
    this.capacity = INITIAL_ROWS;
    this.utf8 = this.isText.map((t, c) => (t ? new Utf8Builder(this.isDictionary[c]!) : undefined));
    this.numbers = this.isText.map((t) => (t ? undefined : new NumberBuilder()));
    this.rows = 0;
    this.bytes = 0;
  }

  /** Empty again, keeping the arrays (the drained views still read them). */
  private rewind(): void {
    for (const b of this.utf8) {
      if (!b) continue;
      b.used = 0;
      b.ascii = true;
      // The views hold the old null flags: new ones start clean.
      b.nulls = undefined;
      if (b.ids !== undefined) {
        b.dict = new ByteDictionary();
        b.retired = undefined;
        b.looked = 0;
      }
    }
    for (const b of this.numbers) if (b) b.nulls = undefined;
    this.rows = 0;
    this.bytes = 0;
  }

  get rowCount(): number {
    return this.rows;
  }

  /**
   * UTF-8 payload bytes plus 8 per number or null (dictionary values counted whole): what `etl.max_file_bytes` counts.
   */
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
      if (b.ids) {
        const ids = new Int32Array(capacity);
        ids.set(b.ids.subarray(0, this.rows));
        b.ids = ids;
      }
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
    this.utf8[col]!.put(this.rows, src, start, end, ascii);
    this.bytes += end - start;
  }

  pushString(col: number, value: string): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    const b = this.utf8[col]!;
    // Encoded into the spare room of the inline bytes (at most 3 UTF-8 bytes per UTF-16 code unit), then put from
    // there.
    const dst = b.reserveBytes(value.length * 3);
    const from = b.used;
    const { written } = textEncoder.encodeInto(value, dst.subarray(from));
    b.put(this.rows, dst, from, from + written!, written === value.length);
    this.bytes += written!;
  }

  pushNumber(col: number, value: number): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    this.numbers[col]!.values[this.rows] = value;
    this.bytes += 8;
  }

  pushNull(col: number): void {
    if (this.rows >= this.capacity) this.ensureRows(this.rows + 1);
    const text = this.utf8[col];
    if (text !== undefined) text.putNull(this.rows);
    else {
      const b = this.numbers[col]!;
      if (!b.nulls) b.nulls = new Uint8Array(this.capacity);
      b.nulls[this.rows] = 1;
    }
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
        if (typeof value !== 'string')
          throw new TypeError(`${this.table}.${names[i]}: expected a string, got ${typeof value}`);
        this.pushString(i, value);
      } else {
        if (typeof value !== 'number')
          throw new TypeError(`${this.table}.${names[i]}: expected a number, got ${typeof value}`);
        this.pushNumber(i, value);
      }
    }
    this.rows++;
  }

  /** Appends every row of `batch` (same table). */
  appendBatch(batch: PackedBatch): void {
    const n = batch.rowCount;
    if (n === 0) return;
    if (batch.columns.length !== this.names.length)
      throw new Error(`packed batch has ${batch.columns.length} columns, ${this.table} has ${this.names.length}`);
    this.ensureRows(this.rows + n);
    const first = this.rows;
    for (let c = 0; c < batch.columns.length; c++) {
      const src = batch.columns[c]!;
      if (src.kind === 'utf8') {
        const b = this.utf8[c];
        if (!b) throw new Error(`packed batch column ${c} is text, ${this.table}'s is not`);
        if (b.ids !== undefined || src.ids !== undefined) {
          appendValues(b, first, src, n);
          continue;
        }
        const base = b.used;
        const dst = b.reserveBytes(src.bytes.length);
        dst.set(src.bytes, base);
        b.used = base + src.bytes.length;
        const ends = src.ends;
        for (let i = 0; i < n; i++) b.ends[first + i] = base + ends[i]!;
        if (!src.ascii) b.ascii = false;
        if (src.nulls) {
          if (!b.nulls) b.nulls = new Uint8Array(this.capacity);
          b.nulls.set(src.nulls, first);
        }
      } else {
        const b = this.numbers[c];
        if (!b) throw new Error(`packed batch column ${c} is numeric, ${this.table}'s is not`);
        b.values.set(src.values, first);
        if (src.nulls) {
          if (!b.nulls) b.nulls = new Uint8Array(this.capacity);
          b.nulls.set(src.nulls, first);
        }
      }
    }
    this.rows += n;
    this.bytes += batch.approxBytes;
  }

  /**
   * Hands the rows over and starts empty. `copy` (default): exactly-sized arrays of their own, so a
   * clone to an encoder thread carries no slack, and this buffer starts small again. false: views
   * into this buffer's arrays, which it keeps and writes over from the next row on: for a batch that
   * is appended elsewhere before this buffer is used again (no allocation per batch).
   */
  drain(copy = true): PackedBatch {
    const n = this.rows;
    const columns: PackedColumn[] = this.isText.map((text, c) => {
      if (text) {
        const b = this.utf8[c]!;
        const col: PackedUtf8Column = {
          kind: 'utf8',
          bytes: cut(b.bytes, b.used, copy),
          ends: cut(b.ends, n, copy),
          ascii: b.ascii,
        };
        if (b.nulls) col.nulls = cut(b.nulls, n, copy);
        if (b.ids) {
          col.ids = cut(b.ids, n, copy);
          col.dict = (b.dict ?? b.retired)!.snapshot();
        }
        return col;
      }
      const b = this.numbers[c]!;
      const col: PackedNumberColumn = { kind: 'f64', values: cut(b.values, n, copy) };
      if (b.nulls) col.nulls = cut(b.nulls, n, copy);
      return col;
    });
    const batch: PackedBatch = { packed: true, rowCount: n, columns, approxBytes: this.bytes };
    if (copy) this.reset();
    else this.rewind();
    return batch;
  }
}

/** Appends `n` values of `src` one by one at rows `first`.. of `b` (a dictionary on either side). */
function appendValues(b: Utf8Builder, first: number, src: PackedUtf8Column, n: number): void {
  const { bytes, ends, nulls, ids, dict } = src;
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = ends[i]!;
    if (nulls !== undefined && nulls[i] === 1) b.putNull(first + i);
    else if (ids !== undefined && ids[i]! >= 0) {
      const id = ids[i]!;
      b.put(first + i, dict!.bytes, id === 0 ? 0 : dict!.ends[id - 1]!, dict!.ends[id]!, dict!.ascii);
    } else b.put(first + i, bytes, start, end, src.ascii);
    start = end;
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

/** Text values of one byte buffer: a maker per buffer, so per-buffer set-up is done once. */
type TextMaker<T> = (bytes: Uint8Array, ascii: boolean) => (start: number, end: number) => T;

const asStrings: TextMaker<string> = (bytes, ascii) => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as SliceableBuffer;
  return ascii ? (start, end) => buf.latin1Slice(start, end) : (start, end) => buf.utf8Slice(start, end);
};

const asViews: TextMaker<Uint8Array> = (bytes) => (start, end) => bytes.subarray(start, end);

function unpackWith<T>(
  table: TableName,
  batch: PackedBatch,
  makeText: TextMaker<T>,
): { rowCount: number; columns: Record<string, Array<T | number | null>> } {
  const specs = TABLES[table];
  if (batch.columns.length !== specs.length)
    throw new Error(`packed batch has ${batch.columns.length} columns, ${table} has ${specs.length}`);
  const n = batch.rowCount;
  const columns: Record<string, Array<T | number | null>> = {};
  for (let c = 0; c < specs.length; c++) {
    const src = batch.columns[c]!;
    const out = new Array<T | number | null>(n);
    const nulls = src.nulls;
    if (src.kind === 'utf8') {
      const { ends, ids, dict } = src;
      const text = makeText(src.bytes, src.ascii);
      // One value per distinct dictionary entry, shared by its rows.
      const entries: T[] = [];
      if (dict) {
        const entry = makeText(dict.bytes, dict.ascii);
        for (let i = 0; i < dict.ends.length; i++) entries.push(entry(i === 0 ? 0 : dict.ends[i - 1]!, dict.ends[i]!));
      }
      let start = 0;
      for (let i = 0; i < n; i++) {
        const end = ends[i]!;
        if (nulls !== undefined && nulls[i] === 1) out[i] = null;
        else if (ids !== undefined && ids[i]! >= 0) out[i] = entries[ids[i]!]!;
        else out[i] = text(start, end);
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

/** A text column's value as UTF-8 bytes, a number, or null. */
export type ByteColumnValue = Uint8Array | number | null;

export interface ByteColumnBatch {
  rowCount: number;
  columns: Record<string, ByteColumnValue[]>;
}

/**
 * A packed batch's columns as hyparquet-writer takes them, without a string per value: a text
 * column's values are views of its UTF-8 bytes (one shared view per dictionary entry), numbers and
 * nulls as in `unpackColumns`. The bytes are what `TextEncoder` would make of the strings (the fast
 * path copies ASCII only; everything else is encoded from a JS string by `Buffer`), so the values
 * written are the same. For ASCII text the file is byte for byte the one `unpackColumns` gives
 * (test/unit/lake/encoder.test.ts); for other text hyparquet-writer may pick plain or dictionary
 * encoding differently near its threshold, as it sizes strings in UTF-16 units and bytes exactly.
 */
export function unpackColumnsAsBytes(table: TableName, batch: PackedBatch): ByteColumnBatch {
  return unpackWith(table, batch, asViews);
}

/** The table's ColumnBatch (JS arrays) of a packed batch: what the Parquet encoders take. */
export function unpackColumns(table: TableName, batch: PackedBatch): ColumnBatch {
  return unpackWith(table, batch, asStrings);
}
