/**
 * What a Parquet file's footer tells without reading its data: row count, and the min and max of
 * a timestamp column from the column-chunk statistics (hyparquet, the reader hyparquet-writer is
 * built on). A file written without statistics (parquetjs-lite writes none) falls back to reading
 * that one column.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';

export interface FooterSummary {
  rows: number;
  /** Epoch ms; undefined for an empty file or a file without that column. */
  minMs: number | undefined;
  maxMs: number | undefined;
  /** false: the column had to be read (no statistics in the footer). */
  fromStatistics: boolean;
}

function toMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  return undefined;
}

export async function readFooterSummary(file: string, timeColumn: string): Promise<FooterSummary> {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const rows = Number(metadata.num_rows);
  let minMs: number | undefined;
  let maxMs: number | undefined;
  let complete = rows === 0;
  if (rows > 0) {
    complete = true;
    for (const group of metadata.row_groups) {
      if (Number(group.num_rows) === 0) continue;
      const chunk = group.columns.find((c) => c.meta_data?.path_in_schema.join('.') === timeColumn);
      const stats = chunk?.meta_data?.statistics;
      const lo = toMs(stats?.min_value ?? stats?.min);
      const hi = toMs(stats?.max_value ?? stats?.max);
      if (lo === undefined || hi === undefined) {
        complete = false;
        break;
      }
      minMs = minMs === undefined ? lo : Math.min(minMs, lo);
      maxMs = maxMs === undefined ? hi : Math.max(maxMs, hi);
    }
  }
  if (complete) return { rows, minMs, maxMs, fromStatistics: true };
  minMs = undefined;
  maxMs = undefined;
  const objects = await parquetReadObjects({ file: buffer, metadata, columns: [timeColumn] });
  for (const row of objects) {
    const ms = toMs((row as Record<string, unknown>)[timeColumn]);
    if (ms === undefined) continue;
    minMs = minMs === undefined ? ms : Math.min(minMs, ms);
    maxMs = maxMs === undefined ? ms : Math.max(maxMs, ms);
  }
  return { rows, minMs, maxMs, fromStatistics: false };
}

/** The row count a file's footer gives. */
export async function readRowCount(file: string): Promise<number> {
  return Number((await parquetMetadataAsync(await asyncBufferFromFile(file))).num_rows);
}

/** Values of one text column (e.g. `_rejected.reason`), counted; reads that column only. */
export async function countColumnValues(file: string, column: string): Promise<Map<string, number>> {
  const buffer = await asyncBufferFromFile(file);
  const objects = await parquetReadObjects({ file: buffer, columns: [column] });
  const counts = new Map<string, number>();
  for (const row of objects) {
    const value = String((row as Record<string, unknown>)[column]);
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}
