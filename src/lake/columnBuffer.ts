import { TABLES, type ColumnBatch, type ColumnValue, type RowOf, type TableName } from './tables.js';

/**
 * Buffers rows of one table column-wise until a roll drains them. Column arrays of primitives
 * cost far less memory than one object per row, and they are what the encoders consume.
 */
export class ColumnBuffer<T extends TableName> {
  readonly table: T;
  /** The field read from an appended row, per column. */
  private readonly names: readonly string[];
  private readonly columnNames: readonly string[];
  private columns: ColumnValue[][];
  private rows = 0;
  private bytes = 0;

  /**
   * @param sourceFields where a column's value is read from when the appended objects name it
   *   differently (e.g. `{ ts: 'tsMs' }` for validated events): rows go in as they are, no copy.
   */
  constructor(table: T, sourceFields: Partial<Record<string, string>> = {}) {
    this.table = table;
    this.names = TABLES[table].map((spec) => sourceFields[spec.name] ?? spec.name);
    this.columnNames = TABLES[table].map((spec) => spec.name);
    this.columns = this.names.map(() => []);
  }

  append(row: RowOf<T> | object): void {
    const record = row as unknown as Record<string, ColumnValue | undefined>;
    const { names, columns } = this;
    let bytes = 0;
    for (let i = 0; i < names.length; i++) {
      const value = record[names[i]!] ?? null;
      columns[i]!.push(value);
      bytes += typeof value === 'string' ? value.length : 8;
    }
    this.bytes += bytes;
    this.rows++;
  }

  get rowCount(): number {
    return this.rows;
  }

  /**
   * Estimated payload bytes: string length (UTF-16 code units, equal to UTF-8 bytes for ASCII)
   * plus 8 per number or null. Ignores JS object overhead; good enough for a roll threshold.
   */
  get approxBytes(): number {
    return this.bytes;
  }

  /** Hands the buffered rows over and starts empty; the returned arrays are no longer touched. */
  drain(): ColumnBatch {
    const columns: Record<string, ColumnValue[]> = {};
    for (let i = 0; i < this.columnNames.length; i++) columns[this.columnNames[i]!] = this.columns[i]!;
    const batch: ColumnBatch = { rowCount: this.rows, columns };
    this.columns = this.names.map(() => []);
    this.rows = 0;
    this.bytes = 0;
    return batch;
  }
}
