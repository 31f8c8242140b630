import { ByteWriter, parquetWrite, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import { writeFileDurable } from './durableFs.js';
import type { EncodeOptions, ParquetEncoder } from './encoder.js';
import { encodeOrCleanUp } from './encodeOrCleanUp.js';
import { unpackColumnsAsBytes, type ByteColumnValue } from './packedColumns.js';
import { TABLES, assertNonEmptyBatch, type ColumnSpec, type ColumnValue, type TableName } from './tables.js';

/**
 * hyparquet-writer: columnar, so the batch's arrays go in as they are (no per-row work here).
 * SNAPPY is its default codec (built-in compressor); dictionary encoding is chosen per column
 * chunk when it pays. Timestamps carry converted type TIMESTAMP_MILLIS, which DuckDB, Spark and
 * pyarrow read as a timestamp, exactly like parquetjs-lite's files, so both encoders' files mix.
 */

const schemas = new Map<TableName, SchemaElement[]>();

function schemaElement(spec: ColumnSpec): SchemaElement {
  const repetition_type = spec.optional ? 'OPTIONAL' : 'REQUIRED';
  switch (spec.type) {
    case 'UTF8':
      return { name: spec.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
    case 'TIMESTAMP_MILLIS':
      return { name: spec.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type };
    case 'INT32':
    case 'INT64':
    case 'DOUBLE':
      return { name: spec.name, type: spec.type, repetition_type };
  }
}

/** The Parquet schema of `table` as this encoder writes it; the merge (lake/mergeParquet.ts) writes the same. */
export function hyparquetSchema(table: TableName): SchemaElement[] {
  let schema = schemas.get(table);
  if (schema === undefined) {
    const specs = TABLES[table];
    schema = [{ name: 'root', num_children: specs.length }, ...specs.map(schemaElement)];
    schemas.set(table, schema);
  }
  return schema;
}

/** Plain INT64 must be bigint for hyparquet-writer; BigInt() also rejects null and fractions. */
function toInt64(values: readonly ColumnValue[] | readonly ByteColumnValue[], optional: boolean): ColumnSource['data'] {
  if (!optional) return BigInt64Array.from(values as number[], (v) => BigInt(v));
  return values.map((v) => (v === null ? null : BigInt(v as number)));
}

function assertNoNulls(name: string, values: readonly unknown[]): void {
  // hyparquet-writer also refuses it, but with a message that names no column.
  if (values.includes(null)) throw new Error(`null in required column ${name}`);
}

/** Text as JS strings (encoded by hyparquet-writer) or as UTF-8 bytes (written as they are). */
type Columns = Record<string, ColumnValue[]> | Record<string, ByteColumnValue[]>;

async function writeFile(
  path: string,
  table: TableName,
  batch: { rowCount: number; columns: Columns },
  opts: EncodeOptions,
): Promise<{ bytes: number }> {
  assertNonEmptyBatch(table, batch);
  const columnData: ColumnSource[] = TABLES[table].map((spec: ColumnSpec) => {
    const values = batch.columns[spec.name]!;
    if (!spec.optional) assertNoNulls(spec.name, values);
    const data = spec.type === 'INT64' ? toInt64(values, spec.optional) : (values as ColumnSource['data']);
    return { name: spec.name, data };
  });
  const writer = new ByteWriter();
  await parquetWrite({
    writer,
    columnData,
    schema: hyparquetSchema(table),
    codec: 'SNAPPY',
    rowGroupSize: opts.rowGroupRows,
  });
  const bytes = await writeFileDurable(path, [writer.getBytes()]);
  return { bytes };
}

export const hyparquetEncoder: ParquetEncoder = {
  name: 'hyparquet-writer',

  encodeToFile(path, table, batch, opts) {
    return encodeOrCleanUp(path, table, 'hyparquet-writer', () => writeFile(path, table, batch, opts));
  },

  // Text goes in as views of the packed UTF-8 bytes: no string per value, and no TextEncoder copy
  // of each one inside hyparquet-writer (the encoder thread's largest allocation, bench:etl).
  encodePackedToFile(path, table, batch, opts) {
    return encodeOrCleanUp(path, table, 'hyparquet-writer', async () =>
      writeFile(path, table, unpackColumnsAsBytes(table, batch), opts),
    );
  },
};
