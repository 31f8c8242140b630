/**
 * Columns of a Parquet file read a row group at a time (hyparquet), with timestamps and INT64 as plain numbers: what
 * a reader holds is one row group's values, never the file's rows (verify's window check, a stage-2 task's emitted
 * frontier).
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetScan } from 'hyparquet';

/** Timestamps as epoch ms numbers: no Date or bigint kept per value. */
const PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => Number(millis),
  timestampFromMicroseconds: (micros: bigint) => Number(micros / 1000n),
  timestampFromNanoseconds: (nanos: bigint) => Number(nanos / 1_000_000n),
};

export const asNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));

/** `columns` of `file`, a row group at a time: `each(values of column 0, values of column 1, …, rows)`. */
export async function scanColumns(
  file: string,
  columns: readonly string[],
  each: (values: ArrayLike<unknown>[], rows: number) => void,
): Promise<void> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const scan = await parquetScan({ file: buffer, metadata, columns: [...columns], parsers: PARSERS });
  for (const { rowStart, rowEnd } of scan.ranges) {
    const values: ArrayLike<unknown>[] = [];
    for (const column of columns) values.push(await scan.readColumn({ column, rowStart, rowEnd }));
    each(values, rowEnd - rowStart);
  }
}
