import { performance } from 'node:perf_hooks';
import { getEncoder, type EncoderName } from './encoder.js';
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
  batch: ColumnBatch;
  rowGroupRows: number;
}

export interface EncodeResult {
  path: string;
  bytes: number;
  rowCount: number;
  /** Wall time of the encode and durable write, measured where it ran. */
  encodeMs: number;
}

/** Runs one request on the current thread; the worker entry and the in-thread pool both use it. */
export async function runEncodeTask(req: EncodeRequest): Promise<EncodeResult> {
  const startMs = performance.now();
  const { bytes } = await getEncoder(req.encoder).encodeToFile(req.path, req.table, req.batch, { rowGroupRows: req.rowGroupRows });
  return { path: req.path, bytes, rowCount: req.batch.rowCount, encodeMs: performance.now() - startMs };
}
