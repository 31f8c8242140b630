import type { PackedBatch } from './packedColumns.js';
import type { ColumnBatch, TableName } from './tables.js';

export type EncoderName = 'parquetjs-lite' | 'hyparquet-writer';

export const ENCODER_NAMES: readonly EncoderName[] = ['parquetjs-lite', 'hyparquet-writer'];

export interface EncodeOptions {
  /** Rows per Parquet row group (`etl.row_group_rows`). */
  rowGroupRows: number;
}

/**
 * Turns one batch of rows into one complete Parquet file. Called by the encoder pool, once per
 * file of a roll, on a worker thread or in-thread. SNAPPY compression, schema from tables.ts.
 */
export interface ParquetEncoder {
  readonly name: EncoderName;
  /**
   * Writes the whole file at `path` (a .tmp path: no reader ever sees it; missing directories are
   * created), fsyncs the file and its directory, then resolves with its size. An existing file at
   * `path` is replaced.
   * @throws SdpError SDP_ERR_LAKE_WRITE_FAILED (bad batch, encoder or I/O error); no partial
   *   file is left behind then.
   */
  encodeToFile(path: string, table: TableName, batch: ColumnBatch, opts: EncodeOptions): Promise<{ bytes: number }>;
  /** The same from packed columns, where the encoder can take them without unpacking to JS values first. */
  encodePackedToFile?(
    path: string,
    table: TableName,
    batch: PackedBatch,
    opts: EncodeOptions,
  ): Promise<{ bytes: number }>;
}
