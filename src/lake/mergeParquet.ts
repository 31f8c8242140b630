import { Worker } from 'node:worker_threads';
import { ErrorCodes, SdpError, type ErrorCode } from '../errors.js';
import { resolveWorkerFile } from '../system/workerFile.js';
import { removeIfExists } from './durableFs.js';
import { mergeInThread, type MergeResult, type RowGroupLimits } from './mergeInThread.js';
import type { TableName } from './tables.js';

/**
 * The merge step of compaction (architecture.md, "Who rewrites a partition's files"): committed files of one table,
 * in offset order, become one file at a tmp path, schema-identical to what hyparquetEncoder writes, rows in input
 * order (lake/mergeInThread.ts). It runs on a worker thread of its own by default: encoding one row group of 50,000
 * clickstream rows takes 0.2-0.4 s in one synchronous call, and a day of one partition (~130 MB) takes 12-17 s of
 * CPU, which on the ETL's consuming thread would stall its fetches as encoding did before it moved to encoder
 * threads (architecture.md, "Back-pressure and shutdown").
 *
 * DuckDB's streaming COPY is 2-3x faster (bench:merge) but not used: it writes every column OPTIONAL and timestamps
 * with a logical type that is not UTC-adjusted (TIMESTAMP_MICROS, or with a cast TIMESTAMP_MILLIS), so the merged file
 * would not be schema-identical to the files it replaces.
 */

export type { MergeResult } from './mergeInThread.js';

export interface MergeOptions {
  /** Rows per output row group (`etl.row_group_rows`); the last group holds the rest. Default 50,000. */
  rowGroupRows?: number;
  /**
   * A row group ends earlier once its rows hold this many uncompressed bytes (per the inputs' footers), so wide rows
   * never gather hundreds of MB. Default 64 MB (`etl.max_file_bytes`' default: no input group is larger).
   */
  rowGroupBytes?: number;
  /** false: merge on the calling thread (tools, tests). Default true: a worker thread for this merge. */
  thread?: boolean;
  /** Old-generation heap of the worker thread. Default 128 MB: a merge holds about two row groups of rows. */
  maxHeapMb?: number;
}

/** What the worker thread is given and answers (lake/merge.worker.ts). */
export interface MergeRequest {
  table: TableName;
  inputs: readonly string[];
  outputTmp: string;
  limits: RowGroupLimits;
}

export type MergeReply =
  | { ok: true; result: MergeResult }
  | { ok: false; code?: ErrorCode; message: string; details: string[] };

const DEFAULT_ROW_GROUP_ROWS = 50_000;
const DEFAULT_ROW_GROUP_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_HEAP_MB = 128;
/**
 * Young generation of the merge thread, as the encoder threads': a day of one clickstream partition peaked at
 * 131-137 MB RSS (the whole process) against 160 with 16 MB and 181 with 32 MB, in 13.0-17.6 s against 12.4-13.8 s
 * (bench:merge, 3 runs each interleaved, load 3.4-6.4).
 */
const YOUNG_GENERATION_MB = 4;

/**
 * Writes the rows of `inputs` (in that order, each file's rows in file order) as one Parquet file at `outputTmp`,
 * fsyncs it and its directory, and resolves with its row count and size. Inputs are only read. On any failure
 * `outputTmp` is removed and nothing else is touched.
 * @throws SdpError SDP_ERR_LAKE_FILE_MISSING (an input does not exist), SDP_ERR_LAKE_FILE_INVALID (an input is not a
 *   Parquet file of `table`'s schema, or its data cannot be decoded), SDP_ERR_LAKE_WRITE_FAILED (no inputs, writing
 *   the output failed, or the worker thread died).
 */
export async function mergeParquetFiles(
  table: TableName,
  inputs: readonly string[],
  outputTmp: string,
  options: MergeOptions = {},
): Promise<MergeResult> {
  const limits: RowGroupLimits = {
    rowGroupRows: options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS,
    rowGroupBytes: options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES,
  };
  if (options.thread === false) return mergeInThread(table, inputs, outputTmp, limits);
  const request: MergeRequest = { table, inputs: [...inputs], outputTmp, limits };
  const reply = await runWorker(request, options.maxHeapMb ?? DEFAULT_MAX_HEAP_MB).catch(async (err: unknown) => {
    // The thread died (out of heap, killed) before it could clean up after itself.
    await removeIfExists(outputTmp).catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new SdpError(ErrorCodes.LAKE_WRITE_FAILED, `merge of ${table} into ${outputTmp} failed: ${reason}`, [], {
      cause: err,
    });
  });
  if (reply.ok) return reply.result;
  throw new SdpError(reply.code ?? ErrorCodes.LAKE_WRITE_FAILED, reply.message, reply.details);
}

function runWorker(request: MergeRequest, maxHeapMb: number): Promise<MergeReply> {
  const file = resolveWorkerFile(import.meta.url, 'merge.worker');
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(file.filename), {
      workerData: request,
      execArgv: file.execArgv,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    let reply: MergeReply | undefined;
    worker.on('message', (message: MergeReply) => {
      reply = message;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (reply !== undefined) resolve(reply);
      else reject(new Error(`merge thread exited with code ${code} without an answer`));
    });
  });
}
