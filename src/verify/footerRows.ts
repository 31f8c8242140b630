/**
 * Row counts of Parquet files from their footers alone, a few files at a time. For `verify`.
 *
 * Two positioned reads a file: the last 8 bytes (footer length, `PAR1`), then the footer itself, parsed whole by
 * hyparquet (so an unreadable footer is found) and dropped at once: only the row count is kept. hyparquet's
 * parquetMetadataAsync would read the file's last 512 KB through a stream instead, i.e. most files whole, and a day's
 * lake is ~6,500 files (architecture.md, "Verifying the lake").
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';

const READS_IN_FLIGHT = 8;
const MAGIC = 0x31524150; // "PAR1", little-endian
const TAIL = 8;

/** The row count in one file's footer; throws with the reason when the footer cannot be read. */
export async function footerRowCount(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size < TAIL + 4) throw new Error(`parquet file too short (${size} bytes)`);
    const tail = Buffer.alloc(TAIL);
    await handle.read(tail, 0, TAIL, size - TAIL);
    if (tail.readUInt32LE(4) !== MAGIC) throw new Error('parquet file invalid (footer != PAR1)');
    const length = tail.readUInt32LE(0);
    if (length > size - TAIL - 4) throw new Error(`parquet metadata length ${length} exceeds the file (${size} bytes)`);
    const footer = Buffer.alloc(length + TAIL);
    const { bytesRead } = await handle.read(footer, 0, length + TAIL, size - TAIL - length);
    if (bytesRead !== length + TAIL)
      throw new Error(`parquet footer cut short (${bytesRead} of ${length + TAIL} bytes)`);
    return Number(parquetMetadata(footer).num_rows);
  } finally {
    await handle.close();
  }
}

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
          out.set(path, await footerRowCount(join(lakeRoot, path)));
        } catch (err) {
          out.set(path, { error: err instanceof Error ? err.message : String(err) });
        }
      }),
    );
  }
  return out;
}
