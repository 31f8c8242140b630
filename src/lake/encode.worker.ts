/**
 * Piscina worker entry of the encoder pool (src/lake/encoderPool.ts). Imported by nothing else:
 * Piscina loads it by file name in each worker thread.
 */
import { runEncodeTask, type EncodeRequest, type EncodeResult } from './encodeTask.js';

export default function encode(req: EncodeRequest): Promise<EncodeResult> {
  return runEncodeTask(req);
}
