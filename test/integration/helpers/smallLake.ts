import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ColumnBuffer } from '../../../src/lake/columnBuffer.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { aggFilePath, dtOfMs, rawFilePath } from '../../../src/lake/layout.js';
import type { RowOf, TableName } from '../../../src/lake/tables.js';

/**
 * Writes a small lake with the project's own Parquet encoder and the lake layout, as the ETL
 * names its files (test helper, not a test file): one file per (table, dt), rows as given.
 */
export async function writeLakeTable<T extends 'clickstream' | 'iot' | 'clickstream_agg'>(
  root: string,
  table: T,
  rows: RowOf<T>[],
): Promise<string[]> {
  const byDt = new Map<string, RowOf<T>[]>();
  for (const row of rows) {
    const tsMs =
      'minute_start' in row ? (row as RowOf<'clickstream_agg'>).minute_start : (row as RowOf<'clickstream'>).ts;
    const dt = dtOfMs(tsMs);
    byDt.set(dt, [...(byDt.get(dt) ?? []), row]);
  }
  const written: string[] = [];
  let sequence = 0;
  for (const [dt, dtRows] of byDt) {
    const buffer = new ColumnBuffer<TableName>(table);
    for (const row of dtRows) buffer.append(row);
    const path =
      table === 'clickstream_agg'
        ? aggFilePath(root, dt, ++sequence)
        : rawFilePath(root, table as 'clickstream' | 'iot', dt, 0, sequence, sequence + dtRows.length - 1);
    sequence += dtRows.length;
    await getEncoder('hyparquet-writer').encodeToFile(path, table, buffer.drain(), { rowGroupRows: 1000 });
    written.push(path);
  }
  return written;
}

/** A file the lake must never show to a reader: garbage under a final or a tmp name. */
export function writeGarbage(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, 'not parquet at all');
}
