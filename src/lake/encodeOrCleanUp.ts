import { ErrorCodes, SdpError, isSdpError } from '../errors.js';
import { removeIfExists } from './durableFs.js';
import type { EncoderName } from './encoder.js';
import type { TableName } from './tables.js';

/**
 * Shared error handling of both encoders: removes the partial file and wraps what the library threw
 * (parquetjs-lite throws plain strings) in an SdpError that names the file and table.
 */
export async function encodeOrCleanUp<T>(
  path: string,
  table: TableName,
  encoder: EncoderName,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    await removeIfExists(path).catch(() => undefined);
    if (isSdpError(err)) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new SdpError(
      ErrorCodes.LAKE_WRITE_FAILED,
      `${encoder} could not write ${table} file ${path}: ${reason}`,
      [],
      { cause: err },
    );
  }
}
