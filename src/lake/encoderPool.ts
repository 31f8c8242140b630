import { Piscina } from 'piscina';
import { ErrorCodes, SdpError, isSdpError } from '../errors.js';
import { resolveWorkerFile } from '../system/workerFile.js';
import { runEncodeTask, type EncodeRequest, type EncodeResult } from './encodeTask.js';

/**
 * Encodes Parquet files off the consuming thread (`etl.encoder_threads` worker threads). Tasks
 * queue in Piscina when every thread is busy; callers bound how many they submit (one roll at a
 * time per writer), so the queue stays short.
 */
export interface EncoderPool {
  /**
   * Writes and fsyncs `req.path`; resolves once the file is durable.
   * @throws SdpError SDP_ERR_LAKE_WRITE_FAILED (no partial file is left behind).
   */
  encode(req: EncodeRequest): Promise<EncodeResult>;
  /** Waits for queued tasks, then stops the threads. */
  close(): Promise<void>;
}

export interface EncoderPoolOptions {
  /** Worker threads; 0 encodes on the calling thread (tests, tools). */
  threads: number;
  /** Old-generation heap of each thread: without a cap V8 lets an idle thread keep its peak heap. */
  maxHeapMb?: number;
}

/**
 * Young generation of each encoder thread. An encode allocates in large short-lived steps; 4 MB
 * against 16 MB cost no measurable speed and ~20-30 MB less peak RSS (bench:etl).
 */
const ENCODER_YOUNG_GENERATION_MB = 4;

export function createEncoderPool(options: EncoderPoolOptions): EncoderPool {
  if (!Number.isInteger(options.threads) || options.threads < 0) {
    throw new RangeError(`expected encoder threads >= 0, got ${options.threads}`);
  }
  if (options.threads === 0) return createInThreadPool();

  const worker = resolveWorkerFile(import.meta.url, 'encode.worker');
  const piscina = new Piscina<EncodeRequest, EncodeResult>({
    filename: worker.filename,
    execArgv: worker.execArgv,
    minThreads: options.threads,
    // min = max: threads stay up for the life of the pool, no cold start on the next roll.
    maxThreads: options.threads,
    ...(options.maxHeapMb
      ? {
          resourceLimits: {
            maxOldGenerationSizeMb: options.maxHeapMb,
            maxYoungGenerationSizeMb: ENCODER_YOUNG_GENERATION_MB,
          },
        }
      : {}),
  });
  return {
    async encode(req) {
      try {
        return await piscina.run(req);
      } catch (err) {
        throw asWriteError(err, req);
      }
    },
    close: () => piscina.close(),
  };
}

function createInThreadPool(): EncoderPool {
  let closed = false;
  return {
    async encode(req) {
      if (closed) throw new SdpError(ErrorCodes.LAKE_WRITE_FAILED, `encoder pool is closed; cannot write ${req.path}`);
      return runEncodeTask(req);
    },
    async close() {
      closed = true;
    },
  };
}

/** Errors cross the thread boundary as plain Errors (structured clone drops the class and code). */
function asWriteError(err: unknown, req: EncodeRequest): SdpError {
  if (isSdpError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SdpError(
    ErrorCodes.LAKE_WRITE_FAILED,
    message.includes(req.path) ? message : `could not write ${req.table} file ${req.path}: ${message}`,
    [],
    { cause: err },
  );
}
