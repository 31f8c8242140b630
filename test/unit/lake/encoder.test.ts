import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { ensureDir } from '../../../src/lake/durableFs.js';
import { ENCODER_NAMES, type EncoderName } from '../../../src/lake/encoder.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { dtOfMs, partitionDir, rawFileName, tmpPathFor } from '../../../src/lake/layout.js';
import { PackedColumnBuffer, unpackColumns, type PackedBatch } from '../../../src/lake/packedColumns.js';
import { TABLES, type ColumnBatch, type RowOf, type TableName } from '../../../src/lake/tables.js';
import { openReader, sqlPath, type Reader } from './duckdb.js';
import { DAY1, aggRows, batchOf, clickstreamRows, iotRows, manyClickstreamRows, rejectedRows } from './fixtures.js';

let reader: Reader;
let dir: string;

beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-encoder-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const quote = (name: string): string => `"${name}"`;

/** Every row of `file` in file order, timestamps as epoch ms and BIGINT as numbers. */
async function readBack(file: string, table: TableName, rowNumbers?: number[]): Promise<Record<string, unknown>[]> {
  const specs = TABLES[table];
  const select = specs
    .map((c) => (c.type === 'TIMESTAMP_MILLIS' ? `epoch_ms(${quote(c.name)}) AS ${quote(c.name)}` : quote(c.name)))
    .join(', ');
  const where = rowNumbers === undefined ? '' : `WHERE file_row_number IN (${rowNumbers.join(', ')})`;
  const rows = await reader.rows(
    `SELECT ${select} FROM read_parquet(${sqlPath(file)}, file_row_number = true) ${where} ORDER BY file_row_number`,
  );
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of specs) {
      const v = row[c.name];
      out[c.name] = (c.type === 'TIMESTAMP_MILLIS' || c.type === 'INT64') && typeof v === 'string' ? Number(v) : v;
    }
    return out;
  });
}

async function columnTypes(file: string): Promise<Record<string, string>> {
  const rows = await reader.rows(`DESCRIBE SELECT * FROM read_parquet(${sqlPath(file)})`);
  return Object.fromEntries(rows.map((r) => [r.column_name as string, r.column_type as string]));
}

async function repetitions(file: string): Promise<Record<string, string>> {
  const rows = await reader.rows(
    `SELECT name, repetition_type FROM parquet_schema(${sqlPath(file)}) WHERE num_children IS NULL`,
  );
  return Object.fromEntries(rows.map((r) => [r.name as string, r.repetition_type as string]));
}

async function encode(
  encoder: EncoderName,
  table: TableName,
  batch: ColumnBatch,
  rowGroupRows = 50_000,
): Promise<{ file: string; bytes: number }> {
  const file = path.join(dir, `${table}-${encoder}.parquet.tmp`);
  const { bytes } = await getEncoder(encoder).encodeToFile(file, table, batch, { rowGroupRows });
  return { file, bytes };
}

describe.each(ENCODER_NAMES)('%s encoder', (encoder) => {
  it('has its name', () => {
    expect(getEncoder(encoder).name).toBe(encoder);
  });

  it.each([
    ['clickstream', clickstreamRows],
    ['iot', iotRows],
    ['clickstream_agg', aggRows],
    ['_rejected', rejectedRows],
  ] as const)('writes %s rows that DuckDB reads back exactly', async (table, rows) => {
    const { file, bytes } = await encode(encoder, table, batchOf(table, rows as RowOf<typeof table>[]));
    expect(bytes).toBe((await fs.stat(file)).size);
    expect(await readBack(file, table)).toEqual(rows);
  });

  it('gives DuckDB the contract types, REQUIRED columns and SNAPPY pages', async () => {
    const click = await encode(encoder, 'clickstream', batchOf('clickstream', clickstreamRows));
    expect(await columnTypes(click.file)).toEqual({
      event_id: 'VARCHAR',
      user_id: 'VARCHAR',
      url: 'VARCHAR',
      referrer: 'VARCHAR',
      ua: 'VARCHAR',
      ts: 'TIMESTAMP',
    });
    expect(await repetitions(click.file)).toEqual({
      event_id: 'REQUIRED',
      user_id: 'REQUIRED',
      url: 'REQUIRED',
      referrer: 'OPTIONAL',
      ua: 'REQUIRED',
      ts: 'REQUIRED',
    });
    const codecs = await reader.rows(`SELECT DISTINCT compression FROM parquet_metadata(${sqlPath(click.file)})`);
    expect(codecs.map((r) => r.compression)).toEqual(['SNAPPY']);

    const iot = await encode(encoder, 'iot', batchOf('iot', iotRows));
    expect(await columnTypes(iot.file)).toEqual({
      device_id: 'VARCHAR',
      site: 'VARCHAR',
      temp_c: 'DOUBLE',
      humidity: 'DOUBLE',
      battery: 'DOUBLE',
      signal_strength: 'INTEGER',
      ts: 'TIMESTAMP',
    });

    const agg = await encode(encoder, 'clickstream_agg', batchOf('clickstream_agg', aggRows));
    expect(await columnTypes(agg.file)).toEqual({
      minute_start: 'TIMESTAMP',
      minute_end: 'TIMESTAMP',
      url: 'VARCHAR',
      pv: 'BIGINT',
    });

    const rejected = await encode(encoder, '_rejected', batchOf('_rejected', rejectedRows));
    expect(await columnTypes(rejected.file)).toEqual({
      topic: 'VARCHAR',
      partition: 'INTEGER',
      offset: 'BIGINT',
      reason: 'VARCHAR',
      detail: 'VARCHAR',
      payload: 'VARCHAR',
      payload_encoding: 'VARCHAR',
      kafka_ts: 'TIMESTAMP',
    });
    expect((await repetitions(rejected.file)).kafka_ts).toBe('OPTIONAL');
  });

  it('writes a 100k-row batch in row groups of rowGroupRows', async () => {
    const rows = manyClickstreamRows(100_000, DAY1);
    const { file } = await encode(encoder, 'clickstream', batchOf('clickstream', rows), 30_000);
    const groups = await reader.rows(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlPath(file)}) ORDER BY row_group_id`,
    );
    expect(groups.map((g) => Number(g.row_group_num_rows))).toEqual([30_000, 30_000, 30_000, 10_000]);

    const [stats] =
      await reader.rows(`SELECT count(*) AS n, count(referrer) AS with_referrer, count(DISTINCT event_id) AS ids, count(DISTINCT url) AS urls,
        sum(epoch_ms(ts)) AS ts_sum, min(epoch_ms(ts)) AS ts_min, max(epoch_ms(ts)) AS ts_max FROM read_parquet(${sqlPath(file)})`);
    const tsSum = rows.reduce((sum, r) => sum + BigInt(r.ts), 0n);
    expect(stats).toEqual({
      n: '100000',
      with_referrer: '66666',
      ids: '100000',
      urls: '300',
      ts_sum: tsSum.toString(),
      ts_min: String(DAY1),
      ts_max: String(DAY1 + 99_999_000),
    });

    const sample = [0, 1, 29_999, 30_000, 59_999, 60_000, 99_999];
    expect(await readBack(file, 'clickstream', sample)).toEqual(sample.map((i) => rows[i]));
  }, 60_000); // parquetjs-lite needs ~3 s for 100k rows on an idle core, far more on a busy machine

  it('refuses a null in a REQUIRED column with SDP_ERR_LAKE_WRITE_FAILED and leaves no file', async () => {
    const batch = batchOf('clickstream', clickstreamRows);
    batch.columns.url![2] = null;
    const file = path.join(dir, 'bad.parquet.tmp');
    const err = await getEncoder(encoder)
      .encodeToFile(file, 'clickstream', batch, { rowGroupRows: 10 })
      .catch((e: unknown) => e);
    expect(isSdpError(err, ErrorCodes.LAKE_WRITE_FAILED)).toBe(true);
    expect((err as Error).message).toContain(file);
    await expect(fs.access(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses an empty batch and a batch of the wrong shape', async () => {
    const file = path.join(dir, 'empty.parquet.tmp');
    const empty = batchOf('clickstream_agg', []);
    await expect(
      getEncoder(encoder).encodeToFile(file, 'clickstream_agg', empty, { rowGroupRows: 10 }),
    ).rejects.toMatchObject({ code: ErrorCodes.LAKE_WRITE_FAILED });
    const wrong = batchOf('iot', iotRows);
    await expect(
      getEncoder(encoder).encodeToFile(file, 'clickstream', wrong, { rowGroupRows: 10 }),
    ).rejects.toMatchObject({ code: ErrorCodes.LAKE_WRITE_FAILED });
    await expect(fs.access(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a leftover file at the tmp path', async () => {
    const file = path.join(dir, 'again.parquet.tmp');
    await fs.writeFile(file, 'garbage from a crashed attempt, longer than nothing');
    await getEncoder(encoder).encodeToFile(file, 'clickstream_agg', batchOf('clickstream_agg', aggRows), {
      rowGroupRows: 10,
    });
    expect(await readBack(file, 'clickstream_agg')).toEqual(aggRows);
  });

  it('fills a Hive-partitioned table whose dt matches the date of ts', async () => {
    const rows = manyClickstreamRows(3 * 2_000, Date.UTC(2024, 0, 31, 23, 0, 0)).map((r, i) => ({
      ...r,
      ts: r.ts + Math.floor(i / 2_000) * 86_400_000,
    }));
    await writeByDay(encoder, rows);
    await expectDtMatchesTs(6_000, ['2024-01-31', '2024-02-01', '2024-02-02', '2024-02-03']);
  });
});

/** Groups rows by dt as a lake writer does, one final file per day. */
async function writeByDay(
  encoder: EncoderName | ((i: number) => EncoderName),
  rows: RowOf<'clickstream'>[],
): Promise<void> {
  const byDay = new Map<string, RowOf<'clickstream'>[]>();
  for (const row of rows) {
    const dt = dtOfMs(row.ts);
    const list = byDay.get(dt) ?? [];
    list.push(row);
    byDay.set(dt, list);
  }
  let i = 0;
  for (const [dt, dayRows] of byDay) {
    const dayDir = partitionDir(dir, 'clickstream', dt);
    await ensureDir(dayDir);
    const final = path.join(dayDir, rawFileName(0, String(i * 10_000), String(i * 10_000 + dayRows.length - 1)));
    const name = typeof encoder === 'function' ? encoder(i) : encoder;
    await getEncoder(name).encodeToFile(tmpPathFor(final), 'clickstream', batchOf('clickstream', dayRows), {
      rowGroupRows: 1_000,
    });
    await fs.rename(tmpPathFor(final), final);
    i++;
  }
}

async function expectDtMatchesTs(expectedRows: number, expectedDays: string[]): Promise<void> {
  const glob = sqlPath(path.join(dir, 'tables', 'clickstream', '**', '*.parquet'));
  const [summary] =
    await reader.rows(`SELECT count(*) AS n, count(*) FILTER (WHERE dt <> CAST(ts AS DATE)) AS mismatched, typeof(any_value(dt)) AS dt_type
      FROM read_parquet(${glob}, hive_partitioning = true)`);
  expect(summary).toEqual({ n: String(expectedRows), mismatched: '0', dt_type: 'DATE' });
  const days = await reader.rows(
    `SELECT DISTINCT CAST(dt AS VARCHAR) AS dt FROM read_parquet(${glob}, hive_partitioning = true) ORDER BY dt`,
  );
  expect(days.map((d) => d.dt)).toEqual(expectedDays);
}

describe('files of both encoders', () => {
  it('mix in one table: DuckDB reads them together with the same schema', async () => {
    const rows = manyClickstreamRows(4_000, Date.UTC(2024, 5, 1, 12)).map((r, i) => ({
      ...r,
      ts: r.ts + Math.floor(i / 1_000) * 86_400_000,
    }));
    await writeByDay((i) => ENCODER_NAMES[i % 2]!, rows);
    await expectDtMatchesTs(4_000, ['2024-06-01', '2024-06-02', '2024-06-03', '2024-06-04']);
    const glob = sqlPath(path.join(dir, 'tables', 'clickstream', '**', '*.parquet'));
    const [sums] = await reader.rows(
      `SELECT count(DISTINCT event_id) AS ids, count(referrer) AS refs FROM read_parquet(${glob})`,
    );
    expect(sums).toEqual({ ids: '4000', refs: String(rows.filter((r) => r.referrer !== null).length) });
  });
});

describe('hyparquet-writer from packed columns', () => {
  function packed(table: TableName, rows: readonly object[], dictionary: boolean): PackedBatch {
    const buffer = new PackedColumnBuffer(table, { dictionary });
    for (const row of rows) buffer.appendRow(row as RowOf<typeof table>);
    return buffer.drain();
  }

  it('writes byte for byte the file it writes from the same rows as JS strings', async () => {
    const lone = {
      device_id: 'd\ud800x',
      site: 'é'.repeat(3000),
      temp_c: -0,
      humidity: 0,
      battery: 1,
      signal_strength: -1,
      ts: 5,
    };
    const cases: Array<[TableName, readonly object[]]> = [
      ['clickstream', clickstreamRows],
      ['clickstream', manyClickstreamRows(5_000, DAY1)],
      ['iot', [...iotRows, lone]],
      ['clickstream_agg', aggRows],
      ['_rejected', rejectedRows],
    ];
    const hyparquet = getEncoder('hyparquet-writer');
    for (const [table, rows] of cases) {
      for (const dictionary of [false, true]) {
        const batch = packed(table, rows, dictionary);
        const fromStrings = path.join(dir, `${table}-strings.parquet.tmp`);
        const fromBytes = path.join(dir, `${table}-bytes.parquet.tmp`);
        await hyparquet.encodeToFile(fromStrings, table, unpackColumns(table, batch), { rowGroupRows: 2_000 });
        await hyparquet.encodePackedToFile!(fromBytes, table, batch, { rowGroupRows: 2_000 });
        expect(
          Buffer.compare(await fs.readFile(fromBytes), await fs.readFile(fromStrings)),
          `${table}, dictionary ${dictionary}`,
        ).toBe(0);
      }
    }
    // And the rows read back are the rows written, the lone surrogate as U+FFFD.
    const file = path.join(dir, 'iot.parquet.tmp');
    await hyparquet.encodePackedToFile!(file, 'iot', packed('iot', [lone], true), { rowGroupRows: 10 });
    expect(await readBack(file, 'iot')).toEqual([{ ...lone, device_id: 'd\ufffdx', temp_c: -0 }]);
  });

  it('is what the encoder threads use, and refuses a null in a REQUIRED column like encodeToFile', async () => {
    const file = path.join(dir, 'click.parquet.tmp');
    const buffer = new PackedColumnBuffer('clickstream');
    buffer.appendRow({ ...clickstreamRows[0]!, ua: null as unknown as string });
    const err = await getEncoder('hyparquet-writer').encodePackedToFile!(file, 'clickstream', buffer.drain(), {
      rowGroupRows: 10,
    }).catch((e: unknown) => e);
    expect(
      isSdpError(err) &&
        err.code === ErrorCodes.LAKE_WRITE_FAILED &&
        err.message.includes('null in required column ua'),
    ).toBe(true);
    await expect(fs.stat(file)).rejects.toThrow();
  });
});
