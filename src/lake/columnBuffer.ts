import { TABLES, type ColumnBatch, type ColumnValue, type RowOf, type TableName } from './tables.js';

/**
 * Buffers rows of one table column-wise until a roll drains them. Column arrays of primitives
 * cost far less memory than one object per row, and they are what the encoders consume.
 */
export class ColumnBuffer<T extends TableName> {
  readonly table: T;
  private readonly names: readonly string[];
  private columns: ColumnValue[][];
  private rows = 0;
  private bytes = 0;

  constructor(table: T) {
    this.table = table;
    this.names = TABLES[table].map((spec) => spec.name);
    this.columns = this.names.map(() => []);
  }

  append(row: RowOf<T>): void {
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
    for (let i = 0; i < this.names.length; i++) columns[this.names[i]!] = this.columns[i]!;
    const batch: ColumnBatch = { rowCount: this.rows, columns };
    this.columns = this.names.map(() => []);
    this.rows = 0;
    this.bytes = 0;
    return batch;
  }
}
