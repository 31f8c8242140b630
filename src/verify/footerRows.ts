/**
 * Row counts of Parquet files from their footers alone (hyparquet reads the file's tail: the
 * metadata, never a data page), a few files at a time. For `verify`.
 */
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';

const READS_IN_FLIGHT = 8;

/** path (relative to the lake root) → rows, or the reason the footer could not be read. */
export async function readFooterRows(
  lakeRoot: string,
  paths: readonly string[],
): Promise<Map<string, number | { error: string }>> {
  const out = new Map<string, number | { error: string }>();
  for (let i = 0; i < paths.length; i += READS_IN_FLIGHT) {
    await Promise.all(
      paths.slice(i, i + READS_IN_FLIGHT).map(async (path) => {
        try {
          const metadata = await parquetMetadataAsync(await asyncBufferFromFile(join(lakeRoot, path)));
          out.set(path, Number(metadata.num_rows));
        } catch (err) {
          out.set(path, { error: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
  }
  return out;
}
