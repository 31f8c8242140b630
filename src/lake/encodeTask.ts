import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { EncoderName, ParquetEncoder } from './encoder.js';
import { hyparquetEncoder } from './hyparquetEncoder.js';
import { parquetjsLiteEncoder } from './parquetjsLiteEncoder.js';
import { isPackedBatch, unpackColumns, type PackedBatch } from './packedColumns.js';
import type { ColumnBatch, TableName } from './tables.js';

/**
 * The messages between the encoder pool and its worker threads. One task is one whole file:
 * a thread round trip costs ~120 µs, encoding a file tens of milliseconds or more.
 */

export interface EncodeRequest {
  encoder: EncoderName;
  table: TableName;
  /** The .tmp path to write; its directory is created if missing. */
  path: string;
  /** Packed (the lake writers: a few typed arrays to copy) or JS arrays (the aggregator's small files). */
  batch: ColumnBatch | PackedBatch;
  rowGroupRows: number;
}

export interface EncodeResult {
  path: string;
  bytes: number;
  rowCount: number;
  /** Wall time of the encode and durable write, measured where it ran. */
  encodeMs: number;
  /** The thread that encoded it (worker_threads.threadId; 0 is the main thread). */
  threadId: number;
}

/** Runs one request on the current thread; the worker entry and the in-thread pool both use it. */
export async function runEncodeTask(req: EncodeRequest): Promise<EncodeResult> {
  const startMs = performance.now();
  const encoder = getEncoder(req.encoder);
  const opts = { rowGroupRows: req.rowGroupRows };
  const batch = req.batch;
  const { bytes } = !isPackedBatch(batch)
    ? await encoder.encodeToFile(req.path, req.table, batch, opts)
    : encoder.encodePackedToFile
      ? await encoder.encodePackedToFile(req.path, req.table, batch, opts)
      : await encoder.encodeToFile(req.path, req.table, unpackColumns(req.table, batch), opts);
  return { path: req.path, bytes, rowCount: batch.rowCount, encodeMs: performance.now() - startMs, threadId };
}

export function getEncoder(name: EncoderName): ParquetEncoder {
  switch (name) {
    case 'parquetjs-lite':
      return parquetjsLiteEncoder;
    case 'hyparquet-writer':
      return hyparquetEncoder;
  }
}
