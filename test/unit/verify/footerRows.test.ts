import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFooterRows } from '../../../src/verify/footerRows.js';

describe('readFooterRows', () => {
  const root = mkdtempSync(join(tmpdir(), 'sdp-footer-rows-'));
  beforeAll(async () => {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    await db.run(
      `COPY (SELECT range AS id, 'u' || range AS url FROM range(5000)) TO '${join(root, 'good.parquet')}' (FORMAT parquet)`,
    );
    db.closeSync();
    const good = readFileSync(join(root, 'good.parquet'));
    const footerLength = good.readUInt32LE(good.length - 8);
    // Every byte before the footer zeroed: the data pages are unreadable, the footer is not.
    const dataZeroed = Buffer.from(good);
    dataZeroed.fill(0, 4, good.length - 8 - footerLength);
    writeFileSync(join(root, 'data-zeroed.parquet'), dataZeroed);
    writeFileSync(join(root, 'cut.parquet'), good.subarray(0, good.length - 100));
    writeFileSync(join(root, 'tiny.parquet'), Buffer.from('PAR1'));
    const lying = Buffer.from(good);
    lying.writeUInt32LE(good.length, good.length - 8);
    writeFileSync(join(root, 'length-too-long.parquet'), lying);
  }, 30_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('counts rows from the footer alone, and names what is wrong with a file that has none', async () => {
    const rows = await readFooterRows(root, [
      'good.parquet',
      'data-zeroed.parquet',
      'cut.parquet',
      'tiny.parquet',
      'length-too-long.parquet',
      'missing.parquet',
    ]);
    expect(rows.get('good.parquet')).toBe(5000);
    expect(rows.get('data-zeroed.parquet')).toBe(5000);
    expect(rows.get('cut.parquet')).toEqual({ error: 'parquet file invalid (footer != PAR1)' });
    expect(rows.get('tiny.parquet')).toEqual({ error: 'parquet file too short (4 bytes)' });
    expect(rows.get('length-too-long.parquet')).toMatchObject({ error: expect.stringMatching(/exceeds the file/) });
    expect(rows.get('missing.parquet')).toMatchObject({ error: expect.stringMatching(/ENOENT/) });
  });
});
