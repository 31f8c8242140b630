import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError, type SdpError } from '../../../src/errors.js';
import type { EncoderName } from '../../../src/lake/encoder.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { hyparquetSchema } from '../../../src/lake/hyparquetEncoder.js';
import { mergeParquetFiles } from '../../../src/lake/mergeParquet.js';
import { readFooterSummary } from '../../../src/lake/parquetFooter.js';
import { TABLES, type RowOf, type TableName } from '../../../src/lake/tables.js';
import { openReader, sqlPath, type Reader } from './duckdb.js';
import { DAY1, aggRows, batchOf, clickstreamRows, iotRows, manyClickstreamRows, rejectedRows } from './fixtures.js';

let reader: Reader;
let dir: string;

beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-merge-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const quote = (name: string): string => `"${name}"`;

/** The column `data stats` reads a file's time range from. */
const TIME_COLUMN: Record<TableName, string> = {
  clickstream: 'ts',
  iot: 'ts',
  clickstream_agg: 'minute_start',
  _rejected: 'kafka_ts',
};

/** Every row of `file` in file order as DuckDB reads it, every column, timestamps as epoch ms. */
async function readBack(file: string, table: TableName): Promise<Record<string, unknown>[]> {
  const select = TABLES[table]
    .map((c) => (c.type === 'TIMESTAMP_MILLIS' ? `epoch_ms(${quote(c.name)}) AS ${quote(c.name)}` : quote(c.name)))
    .join(', ');
  return reader.rows(
    `SELECT ${select} FROM read_parquet(${sqlPath(file)}, file_row_number = true) ORDER BY file_row_number`,
  );
}

async function describeOf(file: string): Promise<Record<string, unknown>[]> {
  return reader.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(file)})`);
}

/** parquet_schema() without the file name: types, converted and logical types, repetition, per column. */
async function parquetSchemaOf(file: string): Promise<Record<string, unknown>[]> {
  const rows = await reader.rows(`SELECT * EXCLUDE (file_name) FROM parquet_schema(${sqlPath(file)})`);
  return rows;
}

async function rowGroupSizes(file: string): Promise<number[]> {
  const groups = await reader.rows(
    `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlPath(file)}) ORDER BY row_group_id`,
  );
  return groups.map((g) => Number(g.row_group_num_rows));
}

async function sha(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

/** Writes `rows` split into files of `perFile` rows with the project's encoder, in row groups of `groupRows`. */
async function writeInputs<T extends TableName>(
  table: T,
  rows: RowOf<T>[],
  perFile: number,
  groupRows: number,
  encoder: EncoderName = 'hyparquet-writer',
): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i * perFile < rows.length; i++) {
    const file = path.join(dir, 'in', `${table}-${String(i).padStart(3, '0')}.parquet`);
    const slice = rows.slice(i * perFile, (i + 1) * perFile);
    await getEncoder(encoder).encodeToFile(file, table, batchOf(table, slice), { rowGroupRows: groupRows });
    files.push(file);
  }
  return files;
}

async function concatenation(table: TableName, files: string[]): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  for (const file of files) all.push(...(await readBack(file, table)));
  return all;
}

/** Each fixture repeated with distinct timestamps, so files and row groups differ and their order shows. */
function repeated<T extends TableName>(rows: RowOf<T>[], times: number, tsColumns: string[]): RowOf<T>[] {
  const out: RowOf<T>[] = [];
  for (let k = 0; k < times; k++) {
    for (const row of rows) {
      const copy: Record<string, unknown> = { ...row };
      for (const c of tsColumns) if (typeof copy[c] === 'number') copy[c] = (copy[c] as number) + k * 1000;
      out.push(copy as RowOf<T>);
    }
  }
  return out;
}

const CASES = [
  ['clickstream', repeated<'clickstream'>(clickstreamRows, 5, ['ts'])],
  ['iot', repeated<'iot'>(iotRows, 6, ['ts'])],
  ['clickstream_agg', repeated<'clickstream_agg'>(aggRows, 7, ['minute_start', 'minute_end'])],
  ['_rejected', repeated<'_rejected'>(rejectedRows, 7, ['kafka_ts'])],
] as const;

// Merges run on a worker thread by default: it runs dist/lake/merge.worker.js, so build first (`npm run build`).
describe.each([
  ['on a worker thread', true],
  ['in-thread', false],
] as const)('mergeParquetFiles %s', (_where, thread) => {
  it.each(CASES)('merges %s files into their concatenation, same schema, footer statistics', async (table, rows) => {
    // Files of 7 rows in row groups of 3; the output in groups of 5: groups end inside inputs and span them.
    const inputs = await writeInputs(table, rows as RowOf<typeof table>[], 7, 3);
    const before = await Promise.all(inputs.map(sha));
    const out = path.join(dir, 'out', `.merged.parquet.tmp`);

    const result = await mergeParquetFiles(table, inputs, out, { rowGroupRows: 5, thread });

    expect(result).toEqual({ rows: rows.length, bytes: (await fs.stat(out)).size });
    expect(await readBack(out, table)).toEqual(await concatenation(table, inputs));
    expect((await readBack(out, table)).length).toBe(rows.length);
    expect(await describeOf(out)).toEqual(await describeOf(inputs[0]!));
    expect(await parquetSchemaOf(out)).toEqual(await parquetSchemaOf(inputs[0]!));
    const sizes = await rowGroupSizes(out);
    expect(sizes.slice(0, -1).every((n) => n === 5)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(rows.length);

    // hyparquet (the footer reader of `data stats` and verify) sees our schema elements and SNAPPY chunks with
    // statistics, and the time range without reading data.
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(out));
    const inputMetadata = await parquetMetadataAsync(await asyncBufferFromFile(inputs[0]!));
    expect(metadata.schema).toEqual(inputMetadata.schema);
    expect(metadata.schema.slice(1)).toEqual(
      hyparquetSchema(table)
        .slice(1)
        .map((e) => expect.objectContaining(e)),
    );
    for (const group of metadata.row_groups) {
      for (const chunk of group.columns) {
        expect(chunk.meta_data?.codec).toBe('SNAPPY');
        expect(chunk.meta_data?.statistics?.null_count).toBeDefined();
      }
    }
    const merged = await readFooterSummary(out, TIME_COLUMN[table]);
    const parts = await Promise.all(inputs.map((f) => readFooterSummary(f, TIME_COLUMN[table])));
    expect(merged.rows).toBe(rows.length);
    // Every group of 5 has a time (an input's last group of one _rejected row may have none, and no statistics).
    expect(merged.fromStatistics).toBe(true);
    const defined = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
    expect(merged.minMs).toBe(Math.min(...defined(parts.map((p) => p.minMs))));
    expect(merged.maxMs).toBe(Math.max(...defined(parts.map((p) => p.maxMs))));

    expect(await Promise.all(inputs.map(sha))).toEqual(before);
  });

  it('keeps input order, not sorted order, and regroups many files of many row groups', async () => {
    const rows = manyClickstreamRows(2_500, DAY1);
    const inputs = (await writeInputs('clickstream', rows, 250, 100)).reverse();
    const out = path.join(dir, 'merged.parquet.tmp');

    const result = await mergeParquetFiles('clickstream', inputs, out, { rowGroupRows: 1_000, thread });

    expect(result.rows).toBe(2_500);
    expect(await rowGroupSizes(out)).toEqual([1_000, 1_000, 500]);
    const back = await readBack(out, 'clickstream');
    expect(back).toEqual(await concatenation('clickstream', inputs));
    expect(back[0]?.event_id).toBe(rows[2_250]!.event_id);
    const summary = await readFooterSummary(out, 'ts');
    expect(summary).toEqual({ rows: 2_500, minMs: DAY1, maxMs: DAY1 + 2_499_000, fromStatistics: true });
  });

  it('ends a row group early once its rows reach rowGroupBytes', async () => {
    const rows = manyClickstreamRows(1_000, DAY1);
    const inputs = await writeInputs('clickstream', rows, 250, 100);
    const out = path.join(dir, 'merged.parquet.tmp');
    // Every input group (~10 KB uncompressed) passes 1 byte: each becomes an output group of its own.
    await mergeParquetFiles('clickstream', inputs, out, { rowGroupRows: 1_000, rowGroupBytes: 1, thread });
    expect(await rowGroupSizes(out)).toEqual([100, 100, 50, 100, 100, 50, 100, 100, 50, 100, 100, 50]);
    expect(await readBack(out, 'clickstream')).toEqual(await concatenation('clickstream', inputs));
  });

  it('merges parquetjs-lite files (no statistics) into a file with statistics', async () => {
    const rows = repeated<'iot'>(iotRows, 3, ['ts']);
    const inputs = [
      ...(await writeInputs('iot', rows.slice(0, 6), 6, 4, 'parquetjs-lite')),
      ...(await writeInputs('iot', rows.slice(6), 6, 4, 'hyparquet-writer')),
    ];
    const out = path.join(dir, 'merged.parquet.tmp');
    await mergeParquetFiles('iot', inputs, out, { thread });
    expect(await readBack(out, 'iot')).toEqual(await concatenation('iot', inputs));
    expect(await readFooterSummary(out, 'ts')).toMatchObject({ rows: rows.length, fromStatistics: true });
    expect(await describeOf(out)).toEqual(await describeOf(inputs[0]!));
  });

  it('refuses a missing input with SDP_ERR_LAKE_FILE_MISSING and leaves no output', async () => {
    const inputs = await writeInputs('iot', iotRows, 2, 10);
    const before = await Promise.all(inputs.map(sha));
    const out = path.join(dir, 'merged.parquet.tmp');
    const err = await mergeParquetFiles('iot', [...inputs, path.join(dir, 'gone.parquet')], out, { thread }).catch(
      (e) => e,
    );
    expect(isSdpError(err, ErrorCodes.LAKE_FILE_MISSING)).toBe(true);
    expect((err as Error).message).toContain('gone.parquet');
    await expect(fs.access(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await Promise.all(inputs.map(sha))).toEqual(before);
  });

  it.each([
    ['truncated', (bytes: Buffer) => bytes.subarray(0, bytes.length - 20)],
    ['not Parquet', () => Buffer.from('this is not a parquet file, but long enough to have a footer')],
    [
      'damaged pages',
      (bytes: Buffer) => Buffer.concat([bytes.subarray(0, 4), Buffer.alloc(64, 0xff), bytes.subarray(68)]),
    ],
  ])('refuses a %s input with SDP_ERR_LAKE_FILE_INVALID and leaves no output', async (_name, damage) => {
    // The bad file comes after good ones whose row groups were already written out (groups of 2).
    const inputs = await writeInputs('clickstream', manyClickstreamRows(60, DAY1), 20, 10);
    await fs.writeFile(inputs[2]!, damage(await fs.readFile(inputs[2]!)));
    const before = await Promise.all(inputs.map(sha));
    const out = path.join(dir, 'merged.parquet.tmp');
    const err = await mergeParquetFiles('clickstream', inputs, out, { rowGroupRows: 2, thread }).catch((e) => e);
    expect(isSdpError(err, ErrorCodes.LAKE_FILE_INVALID)).toBe(true);
    expect((err as Error).message).toContain(inputs[2]);
    await expect(fs.access(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await fs.readdir(dir)).toEqual(['in']);
    expect(await Promise.all(inputs.map(sha))).toEqual(before);
  });

  it("refuses another table's file, or one whose columns differ in type, with SDP_ERR_LAKE_FILE_INVALID", async () => {
    const click = await writeInputs('clickstream', clickstreamRows, 10, 10);
    const iot = await writeInputs('iot', iotRows, 10, 10);
    const out = path.join(dir, 'merged.parquet.tmp');
    const err = await mergeParquetFiles('clickstream', [...click, ...iot], out, { thread }).catch((e) => e);
    expect(isSdpError(err, ErrorCodes.LAKE_FILE_INVALID)).toBe(true);
    await expect(fs.access(out)).rejects.toMatchObject({ code: 'ENOENT' });

    // The same names, but `ts` a plain INT64 (no TIMESTAMP_MILLIS): its values would be rewritten as timestamps.
    const schema = hyparquetSchema('clickstream').map((e) =>
      e.name === 'ts' ? { ...e, converted_type: undefined } : e,
    );
    const columnData = TABLES.clickstream.map((c) => ({
      name: c.name,
      data: c.name === 'ts' ? [1n] : [c.name === 'referrer' ? null : 'x'],
    }));
    const plain = path.join(dir, 'in', 'plain-ts.parquet');
    await fs.writeFile(plain, new Uint8Array(parquetWriteBuffer({ columnData, schema })));
    const typed = await mergeParquetFiles('clickstream', [...click, plain], out, { thread }).catch((e) => e);
    expect(isSdpError(typed, ErrorCodes.LAKE_FILE_INVALID)).toBe(true);
    expect((typed as SdpError).details.join('\n')).toContain('ts INT64 REQUIRED');
    await expect(fs.access(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses no inputs, and an output that is an input, with SDP_ERR_LAKE_WRITE_FAILED', async () => {
    const inputs = await writeInputs('iot', iotRows, 10, 10);
    const before = await sha(inputs[0]!);
    await expect(mergeParquetFiles('iot', [], path.join(dir, 'x.tmp'), { thread })).rejects.toMatchObject({
      code: ErrorCodes.LAKE_WRITE_FAILED,
    });
    await expect(mergeParquetFiles('iot', inputs, inputs[0]!, { thread })).rejects.toMatchObject({
      code: ErrorCodes.LAKE_WRITE_FAILED,
    });
    expect(await sha(inputs[0]!)).toBe(before);
    await expect(fs.access(path.join(dir, 'x.tmp'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('mergeParquetFiles on a worker thread', () => {
  it('reports a thread that dies (out of heap) as SDP_ERR_LAKE_WRITE_FAILED and leaves no output', async () => {
    const inputs = await writeInputs('clickstream', manyClickstreamRows(20_000, DAY1), 10_000, 10_000);
    const out = path.join(dir, 'merged.parquet.tmp');
    const err = await mergeParquetFiles('clickstream', inputs, out, { maxHeapMb: 2 }).catch((e) => e);
    expect(isSdpError(err, ErrorCodes.LAKE_WRITE_FAILED)).toBe(true);
    await expect(fs.access(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
