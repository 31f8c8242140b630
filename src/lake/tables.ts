/**
 * The lake's table schemas as data (architecture.md, "Data contracts", plus `_rejected`). Both Parquet encoders
 * derive their file schema from these lists, so the column order here is the order in every file.
 * A column that is not `optional` is REQUIRED in Parquet.
 */

export type ColumnType = 'UTF8' | 'INT32' | 'INT64' | 'DOUBLE' | 'TIMESTAMP_MILLIS';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly optional: boolean;
}

export const TABLES = {
  clickstream: [
    { name: 'event_id', type: 'UTF8', optional: false },
    { name: 'user_id', type: 'UTF8', optional: false },
    { name: 'url', type: 'UTF8', optional: false },
    { name: 'referrer', type: 'UTF8', optional: true },
    { name: 'ua', type: 'UTF8', optional: false },
    { name: 'ts', type: 'TIMESTAMP_MILLIS', optional: false },
  ],
  iot: [
    { name: 'device_id', type: 'UTF8', optional: false },
    { name: 'site', type: 'UTF8', optional: false },
    { name: 'temp_c', type: 'DOUBLE', optional: false },
    { name: 'humidity', type: 'DOUBLE', optional: false },
    { name: 'battery', type: 'DOUBLE', optional: false },
    { name: 'signal_strength', type: 'INT32', optional: false },
    { name: 'ts', type: 'TIMESTAMP_MILLIS', optional: false },
  ],
  clickstream_agg: [
    { name: 'minute_start', type: 'TIMESTAMP_MILLIS', optional: false },
    { name: 'minute_end', type: 'TIMESTAMP_MILLIS', optional: false },
    { name: 'url', type: 'UTF8', optional: false },
    { name: 'pv', type: 'INT64', optional: false },
  ],
  _rejected: [
    { name: 'topic', type: 'UTF8', optional: false },
    { name: 'partition', type: 'INT32', optional: false },
    { name: 'offset', type: 'INT64', optional: false },
    { name: 'reason', type: 'UTF8', optional: false },
    { name: 'detail', type: 'UTF8', optional: false },
    { name: 'payload', type: 'UTF8', optional: false },
    /** 'utf8' when the raw payload was valid UTF-8, else 'base64' (then `payload` is base64 text). */
    { name: 'payload_encoding', type: 'UTF8', optional: false },
    { name: 'kafka_ts', type: 'TIMESTAMP_MILLIS', optional: true },
  ],
} as const satisfies Record<string, readonly ColumnSpec[]>;

export type TableName = keyof typeof TABLES;

export const TABLE_NAMES: readonly TableName[] = Object.keys(TABLES) as TableName[];

/** How `_rejected.payload` is written. */
export type PayloadEncoding = 'utf8' | 'base64';

/** The JS value of a column: timestamps are epoch ms, INT64 a safe integer number. */
type ValueOf<T extends ColumnType> = T extends 'UTF8' ? string : number;

/** One row of `table` keyed by column name; optional columns also take null. */
export type RowOf<T extends TableName> = {
  [C in (typeof TABLES)[T][number] as C['name']]: C['optional'] extends true
    ? ValueOf<C['type']> | null
    : ValueOf<C['type']>;
};

export type ColumnValue = string | number | null;

/**
 * Rows of one table held column-wise: `columns[name][i]` is row i's value. The encoders' input; the
 * lake writers hand over packed columns instead (lake/packedColumns.ts), turned into this on the
 * encoder's thread.
 */
export interface ColumnBatch {
  rowCount: number;
  columns: Record<string, ColumnValue[]>;
}

export function columnsOf(table: TableName): readonly ColumnSpec[] {
  return TABLES[table];
}

/** Throws unless `batch` has exactly the columns of `table`, each `rowCount` long. O(columns). */
export function assertBatchShape(
  table: TableName,
  batch: { rowCount: number; columns: Record<string, readonly unknown[]> },
): void {
  const specs = TABLES[table];
  const names = Object.keys(batch.columns);
  if (names.length !== specs.length) {
    throw new Error(
      `batch for ${table} has columns [${names.join(', ')}], expected [${specs.map((s) => s.name).join(', ')}]`,
    );
  }
  for (const spec of specs) {
    const values = batch.columns[spec.name];
    if (values === undefined) throw new Error(`batch for ${table} misses column ${spec.name}`);
    if (values.length !== batch.rowCount) {
      throw new Error(
        `batch for ${table}: column ${spec.name} has ${values.length} values, expected rowCount ${batch.rowCount}`,
      );
    }
  }
}

/** `assertBatchShape`, and at least one row: an empty Parquet file in the lake would be a bug. */
export function assertNonEmptyBatch(
  table: TableName,
  batch: { rowCount: number; columns: Record<string, readonly unknown[]> },
): void {
  assertBatchShape(table, batch);
  if (batch.rowCount <= 0) throw new Error(`batch for ${table} is empty: no file is written for zero rows`);
}
