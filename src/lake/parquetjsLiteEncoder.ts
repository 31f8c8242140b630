import { Writable } from 'node:stream';
import parquet from 'parquetjs-lite';
import { writeFileDurable } from './durableFs.js';
import type { ParquetEncoder } from './encoder.js';
import { encodeOrCleanUp } from './encodeOrCleanUp.js';
import { TABLES, assertNonEmptyBatch, type TableName } from './tables.js';

/**
 * parquetjs-lite: row-oriented, so columns are turned back into rows here. Traps it has (as
 * measured here): compression is per column only; TIMESTAMP_MILLIS from an integer goes through
 * parseInt and refuses values before 1970, so timestamps are passed as Date objects.
 */

const schemas = new Map<TableName, parquet.ParquetSchema>();

function schemaFor(table: TableName): parquet.ParquetSchema {
  let schema = schemas.get(table);
  if (schema === undefined) {
    const fields: Record<string, parquet.FieldDefinition> = {};
    for (const spec of TABLES[table])
      fields[spec.name] = { type: spec.type, optional: spec.optional, compression: 'SNAPPY' };
    schema = new parquet.ParquetSchema(fields);
    schemas.set(table, schema);
  }
  return schema;
}

/** Collects the file in memory: one write and one fsync on our own handle afterwards. */
class ChunkSink extends Writable {
  readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

export const parquetjsLiteEncoder: ParquetEncoder = {
  name: 'parquetjs-lite',

  encodeToFile(path, table, batch, opts) {
    return encodeOrCleanUp(path, table, 'parquetjs-lite', async () => {
      assertNonEmptyBatch(table, batch);
      const specs = TABLES[table];
      const names = specs.map((spec) => spec.name);
      const isTimestamp = specs.map((spec) => spec.type === 'TIMESTAMP_MILLIS');
      const columns = names.map((name) => batch.columns[name]!);

      const sink = new ChunkSink();
      const writer = await parquet.ParquetWriter.openStream(schemaFor(table), sink, {
        rowGroupSize: opts.rowGroupRows,
      });
      // One row object for the whole file: appendRow copies the values out of it.
      const row: Record<string, unknown> = {};
      const width = names.length;
      for (let i = 0; i < batch.rowCount; i++) {
        for (let c = 0; c < width; c++) {
          const value = columns[c]![i];
          row[names[c]!] = isTimestamp[c] && typeof value === 'number' ? new Date(value) : value;
        }
        await writer.appendRow(row);
      }
      await writer.close();
      const bytes = await writeFileDurable(path, sink.chunks);
      return { bytes };
    });
  },
};
