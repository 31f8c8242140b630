/**
 * Minimal types for parquetjs-lite 0.8.7 (CommonJS, shipped without types): only the writer path
 * src/lake/parquetjsLiteEncoder.ts uses. Note: it throws plain strings, not Error objects.
 */
declare module 'parquetjs-lite' {
  import type { Writable } from 'node:stream';

  namespace parquet {
    interface FieldDefinition {
      type: 'UTF8' | 'INT32' | 'INT64' | 'DOUBLE' | 'TIMESTAMP_MILLIS' | 'BOOLEAN' | 'FLOAT';
      optional?: boolean;
      /** Per column; a writer-level compression option is silently ignored. */
      compression?: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP';
      statistics?: boolean;
    }

    class ParquetSchema {
      constructor(fields: Record<string, FieldDefinition>);
    }

    interface WriterOptions {
      /** Rows per row group (default 4096). */
      rowGroupSize?: number;
      pageSize?: number;
      useDataPageV2?: boolean;
    }

    class ParquetWriter {
      static openFile(schema: ParquetSchema, path: string, opts?: WriterOptions): Promise<ParquetWriter>;
      static openStream(schema: ParquetSchema, stream: Writable, opts?: WriterOptions): Promise<ParquetWriter>;
      /** Copies the row's values: the same object may be reused for the next row. */
      appendRow(row: Record<string, unknown>): Promise<void>;
      close(): Promise<void>;
      setMetadata(key: string, value: string): void;
    }
  }

  export = parquet;
}
