import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { createEncoderPool, type EncoderPool } from '../../../src/lake/encoderPool.js';
import { PackedColumnBuffer } from '../../../src/lake/packedColumns.js';
import { openReader, sqlPath, type Reader } from './duckdb.js';
import { DAY1, batchOf, iotRows, manyClickstreamRows, rejectedRows } from './fixtures.js';

/**
 * Real worker threads. From TypeScript sources the workers run the compiled twin in dist/
 * (see src/system/workerFile.ts): run `npx tsc -p .` before these tests.
 */

let reader: Reader;
let dir: string;

beforeAll(async () => {
  reader = await openReader();
});
afterAll(() => reader.close());
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-encoderpool-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function count(file: string): Promise<number> {
  const [row] = await reader.rows(`SELECT count(*) AS n FROM read_parquet(${sqlPath(file)})`);
  return Number(row!.n);
}

describe('createEncoderPool with worker threads', () => {
  let pool: EncoderPool;
  beforeAll(() => {
    pool = createEncoderPool({ threads: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('encodes files concurrently with both encoders; DuckDB reads them', async () => {
    const clickFile = path.join(dir, 'click.parquet.tmp');
    const iotFile = path.join(dir, 'iot.parquet.tmp');
    const [click, iot] = await Promise.all([
      pool.encode({
        encoder: 'parquetjs-lite',
        table: 'clickstream',
        path: clickFile,
        batch: batchOf('clickstream', manyClickstreamRows(5_000, DAY1)),
        rowGroupRows: 2_000,
      }),
      pool.encode({
        encoder: 'hyparquet-writer',
        table: 'iot',
        path: iotFile,
        batch: batchOf('iot', iotRows),
        rowGroupRows: 2_000,
      }),
    ]);
    expect(click).toMatchObject({ path: clickFile, rowCount: 5_000, bytes: (await fs.stat(clickFile)).size });
    expect(iot).toMatchObject({ path: iotFile, rowCount: iotRows.length, bytes: (await fs.stat(iotFile)).size });
    expect(click.encodeMs).toBeGreaterThan(0);
    expect(await count(clickFile)).toBe(5_000);
    expect(await count(iotFile)).toBe(iotRows.length);
    const [minTemp] = await reader.rows(
      `SELECT min(temp_c) AS t, min(signal_strength) AS s FROM read_parquet(${sqlPath(iotFile)})`,
    );
    expect(minTemp).toEqual({ t: -Number.MAX_VALUE, s: -2_147_483_648 });
  });

  it('encodes on a worker thread, never the calling one, and writes a packed batch DuckDB reads back as it went in', async () => {
    const rows = manyClickstreamRows(3_000, DAY1);
    rows[7] = { ...rows[7]!, url: '/café?q=日本語', referrer: null, ua: '👍🏽' };
    const buffer = new PackedColumnBuffer('clickstream');
    for (const row of rows) buffer.appendRow(row);
    const file = path.join(dir, 'packed.parquet.tmp');
    const result = await pool.encode({
      encoder: 'hyparquet-writer',
      table: 'clickstream',
      path: file,
      batch: buffer.drain(),
      rowGroupRows: 1_000,
    });
    expect(result.rowCount).toBe(3_000);
    expect(typeof result.threadId).toBe('number');
    expect(result.threadId).not.toBe(threadId);
    const back = await reader.rows(
      `SELECT event_id, url, referrer, ua, epoch_ms(ts) AS ts FROM read_parquet(${sqlPath(file)}) ORDER BY event_id`,
    );
    expect(back.map((r) => ({ ...r, ts: Number(r.ts) }))).toEqual(
      rows.map((r) => ({ event_id: r.event_id, url: r.url, referrer: r.referrer, ua: r.ua, ts: r.ts })),
    );
  });

  it('keeps the calling thread free while a file is encoded', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await pool.encode({
        encoder: 'hyparquet-writer',
        table: 'clickstream',
        path: path.join(dir, 'big.parquet.tmp'),
        batch: batchOf('clickstream', manyClickstreamRows(100_000, DAY1)),
        rowGroupRows: 50_000,
      });
    } finally {
      clearInterval(timer);
    }
    // In-thread, this synchronous encode lets the timer fire only during the final file write (~6 ticks measured).
    expect(ticks).toBeGreaterThanOrEqual(30);
  }, 60_000);

  it('reports a worker failure as SDP_ERR_LAKE_WRITE_FAILED naming the file, and leaves no file', async () => {
    const file = path.join(dir, 'bad.parquet.tmp');
    const batch = batchOf('iot', iotRows);
    batch.columns.site![1] = null;
    const err = await pool
      .encode({ encoder: 'hyparquet-writer', table: 'iot', path: file, batch, rowGroupRows: 10 })
      .catch((e: unknown) => e);
    expect(isSdpError(err, ErrorCodes.LAKE_WRITE_FAILED)).toBe(true);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('site');
    await expect(fs.access(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('createEncoderPool: a roll as large as max_file_bytes', () => {
  it('encodes 64 rejected events of 1 MB (the largest payload _rejected keeps) on a thread with the default 64 MB heap', async () => {
    // Encoder threads are the default: a flood of oversized events must not exhaust a thread's heap
    // (the roll would fail on every retry). Checked with 200 such payloads on a 16 MB heap too.
    const ROWS = 64;
    const payload = 'x'.repeat(1024 * 1024);
    const buffer = new PackedColumnBuffer('_rejected');
    for (let i = 0; i < ROWS; i++) buffer.appendRow({ ...rejectedRows[0]!, offset: i, payload: `${i}${payload}` });
    const pool = createEncoderPool({ threads: 1, maxHeapMb: 64 });
    try {
      const file = path.join(dir, 'rejected.parquet.tmp');
      const result = await pool.encode({
        encoder: 'hyparquet-writer',
        table: '_rejected',
        path: file,
        batch: buffer.drain(),
        rowGroupRows: 50_000,
      });
      expect(result.rowCount).toBe(ROWS);
      expect(result.threadId).not.toBe(threadId);
      const [row] = await reader.rows(
        `SELECT count(*) AS n, min(length(payload)) AS len FROM read_parquet(${sqlPath(file)})`,
      );
      expect({ n: Number(row!.n), len: Number(row!.len) }).toEqual({ n: ROWS, len: payload.length + 1 });
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe('createEncoderPool in-thread (threads = 0)', () => {
  it('encodes on the calling thread and refuses work after close', async () => {
    const pool = createEncoderPool({ threads: 0 });
    const file = path.join(dir, 'iot.parquet.tmp');
    const result = await pool.encode({
      encoder: 'parquetjs-lite',
      table: 'iot',
      path: file,
      batch: batchOf('iot', iotRows),
      rowGroupRows: 10,
    });
    expect(result).toMatchObject({ path: file, rowCount: iotRows.length, threadId });
    expect(await count(file)).toBe(iotRows.length);
    await pool.close();
    await expect(
      pool.encode({
        encoder: 'parquetjs-lite',
        table: 'iot',
        path: file,
        batch: batchOf('iot', iotRows),
        rowGroupRows: 10,
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.LAKE_WRITE_FAILED,
    });
  });

  it('refuses a negative thread count', () => {
    expect(() => createEncoderPool({ threads: -1 })).toThrow(RangeError);
  });
});
