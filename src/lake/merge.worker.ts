/**
 * Worker-thread entry of `mergeParquetFiles` (lake/mergeParquet.ts): one merge per thread, started with its request
 * as workerData; posts the result or the error's code, message and details, then ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSdpError } from '../errors.js';
import { mergeInThread } from './mergeInThread.js';
import type { MergeReply, MergeRequest } from './mergeParquet.js';

const req = workerData as MergeRequest;
let reply: MergeReply;
try {
  reply = { ok: true, result: await mergeInThread(req.table, req.inputs, req.outputTmp, req.limits) };
} catch (err) {
  reply = isSdpError(err)
    ? { ok: false, code: err.code, message: err.message, details: [...err.details] }
    : { ok: false, message: err instanceof Error ? err.message : String(err), details: [] };
}
parentPort?.postMessage(reply);
