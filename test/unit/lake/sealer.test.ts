/**
 * One sealer pass over a small lake of real Parquet files (architecture.md, "Sealed days"): what it seals, what the
 * manifest says of each file, a late file taken in once, a day compaction would still merge left open, a listed file
 * gone never sealed over.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifest, manifestPath } from '../../../src/lake/dayManifestFile.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { aggTaskFilePath, rawFilePath, rejectedFilePath } from '../../../src/lake/layout.js';
import { sealPass, type SealOptions } from '../../../src/lake/sealer.js';
import type { RowOf, TableName } from '../../../src/lake/tables.js';
import { silentLogger, tempDir } from '../actors/fakes/testKit.js';
import { batchOf, manyClickstreamRows } from './fixtures.js';

const pool = createEncoderPool({ threads: 0 });
afterAll(() => pool.close());

const D = '2026-12-01';
const DAY_START = Date.parse(`${D}T00:00:00Z`);
const HOUR = 3_600_000;
const OPTIONS: SealOptions = {
  sealAfterMs: HOUR,
  targetBytes: 1, // every file is already "large": compaction plans nothing unless a test says otherwise
  rawTopics: { clickstream: 'clickstream', iot: 'iot' },
  nowMs: () => Date.parse('2026-12-03T00:00:00Z'),
};

async function write<T extends TableName>(file: string, table: T, rows: RowOf<T>[]): Promise<string> {
  mkdirSync(path.dirname(file), { recursive: true });
  await pool.encode({ encoder: 'hyparquet-writer', table, path: file, batch: batchOf(table, rows), rowGroupRows: 50 });
  return file;
}

const clicks = (n: number, startMs: number): RowOf<'clickstream'>[] => manyClickstreamRows(n, startMs);
const rejected = (offsets: number[]): RowOf<'_rejected'>[] =>
  offsets.map((offset) => ({
    topic: 'clickstream',
    partition: 0,
    offset,
    reason: 'invalid_json',
    detail: 'x',
    payload: 'not json',
    payload_encoding: 'utf8',
    kafka_ts: DAY_START,
  }));

/** Windows up to `untilMs` (their minute_end), in the dt of their start. */
async function windowsUntil(lake: string, untilMs: number, first: number): Promise<void> {
  const start = untilMs - 60_000;
  const dt = new Date(start).toISOString().slice(0, 10);
  await write(aggTaskFilePath(lake, dt, 0, first, first), 'clickstream_agg', [
    { minute_start: start, minute_end: untilMs, url: '/a', pv: 1 },
  ]);
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('sealPass', () => {
  it('waits for the watermark bound, then seals each table of the day with rows, ranges, checksums', async () => {
    const lake = tempDir('sdp-seal-');
    const f0 = await write(rawFilePath(lake, 'clickstream', D, 0, 0, 9), 'clickstream', clicks(8, DAY_START + HOUR));
    await write(rejectedFilePath(lake, '2026-12-02', 'clickstream', 0, 0, 9), '_rejected', rejected([3, 7]));
    // A later roll's rejected row is not the first file's.
    await write(rejectedFilePath(lake, '2026-12-02', 'clickstream', 0, 10, 10), '_rejected', rejected([10]));
    await write(
      rawFilePath(lake, 'clickstream', '2026-12-02', 0, 11, 11),
      'clickstream',
      clicks(1, DAY_START + 30 * HOUR),
    );

    await windowsUntil(lake, DAY_START + 24 * HOUR + 59 * 60_000, 0); // 00:59 the day after: not yet
    const early = await sealPass(lake, OPTIONS, silentLogger);
    expect(early.decisions.find((d) => d.dt === D)).toMatchObject({ sealable: false, reason: 'watermark_behind' });
    expect(await readManifest(lake, 'clickstream', D)).toBeUndefined();

    await windowsUntil(lake, DAY_START + 25 * HOUR, 1); // 01:00 the day after: sealable
    const pass = await sealPass(lake, OPTIONS, silentLogger);
    expect(pass.watermarkBoundMs).toBe(DAY_START + 25 * HOUR);
    expect(pass.tables.filter((t) => t.dt === D)).toEqual([
      expect.objectContaining({ table: 'clickstream', action: 'sealed', rows: 8, files: 1, lateRows: 0, revision: 1 }),
    ]);
    const sealed = (await readManifest(lake, 'clickstream', D))!.manifest;
    expect(sealed).toMatchObject({
      rows: 8,
      files: 1,
      rejected_rows: 2,
      late_rows: 0,
      watermark_bound: '2026-12-02T01:00:00.000Z',
    });
    expect(sealed.entries).toEqual([
      {
        path: `p0/${path.basename(f0)}`,
        rows: 8,
        bytes: statSync(f0).size,
        partition: 0,
        first: '0',
        last: '9',
        sha256: sha(f0),
        rejected_rows: 2,
      },
    ]);
    // The day after is still open in event time.
    expect(await readManifest(lake, 'clickstream', '2026-12-02')).toBeUndefined();

    // Nothing changed: nothing written, the same bytes.
    const bytes = readFileSync(manifestPath(lake, 'clickstream', D), 'utf8');
    const again = await sealPass(lake, { ...OPTIONS, nowMs: () => Date.parse('2026-12-04T00:00:00Z') }, silentLogger);
    expect(again.tables.find((t) => t.dt === D)?.action).toBe('unchanged');
    expect(readFileSync(manifestPath(lake, 'clickstream', D), 'utf8')).toBe(bytes);
  });

  it('takes a late file in once: replaced, late rows counted, a table new to the day counted whole', async () => {
    const lake = tempDir('sdp-seal-late-');
    await write(rawFilePath(lake, 'clickstream', D, 0, 0, 9), 'clickstream', clicks(10, DAY_START + HOUR));
    await windowsUntil(lake, DAY_START + 26 * HOUR, 0);
    await sealPass(lake, OPTIONS, silentLogger);

    await write(rawFilePath(lake, 'clickstream', D, 1, 40, 42), 'clickstream', clicks(3, DAY_START + 2 * HOUR));
    await write(rawFilePath(lake, 'iot', D, 0, 5, 5), 'iot', [
      { device_id: 'd', site: 's', temp_c: 1, humidity: 2, battery: 3, signal_strength: 4, ts: DAY_START + HOUR },
    ]);
    const dry = await sealPass(lake, { ...OPTIONS, dryRun: true }, silentLogger);
    expect(dry.tables.filter((t) => t.dt === D).map((t) => t.action)).toEqual(['would_replace', 'would_seal']);
    expect((await readManifest(lake, 'clickstream', D))!.manifest.revision).toBe(1);

    const pass = await sealPass(lake, OPTIONS, silentLogger);
    expect(pass.tables.filter((t) => t.dt === D)).toEqual([
      expect.objectContaining({
        table: 'clickstream',
        action: 'replaced',
        rows: 13,
        lateRows: 3,
        lateRowsAdded: 3,
        revision: 2,
      }),
      expect.objectContaining({ table: 'iot', action: 'sealed', rows: 1, lateRows: 1, revision: 1 }),
    ]);
    const next = await sealPass(lake, OPTIONS, silentLogger);
    expect(next.tables.filter((t) => t.dt === D).map((t) => [t.action, t.lateRows])).toEqual([
      ['unchanged', 3],
      ['unchanged', 1],
    ]);
  });

  it('leaves a day compaction would still merge open, and never seals over a listed file that is gone', async () => {
    const lake = tempDir('sdp-seal-open-');
    await write(rawFilePath(lake, 'clickstream', D, 0, 0, 4), 'clickstream', clicks(5, DAY_START));
    await write(rawFilePath(lake, 'clickstream', D, 0, 5, 9), 'clickstream', clicks(5, DAY_START + HOUR));
    await write(
      rawFilePath(lake, 'clickstream', '2026-12-02', 0, 10, 10),
      'clickstream',
      clicks(1, DAY_START + 25 * HOUR),
    );
    await windowsUntil(lake, DAY_START + 26 * HOUR, 0);
    const big = { ...OPTIONS, targetBytes: 128 * 1024 * 1024 };
    const open = await sealPass(lake, big, silentLogger);
    expect(open.decisions.find((d) => d.dt === D)).toMatchObject({ sealable: false, reason: 'not_compacted' });

    await sealPass(lake, OPTIONS, silentLogger);
    const before = readFileSync(manifestPath(lake, 'clickstream', D), 'utf8');
    const gone = rawFilePath(lake, 'clickstream', D, 0, 0, 4);
    unlinkSync(gone);
    const pass = await sealPass(lake, OPTIONS, silentLogger);
    expect(pass.tables.find((t) => t.dt === D)?.action).toBe('lost_rows');
    expect(readFileSync(manifestPath(lake, 'clickstream', D), 'utf8')).toBe(before);
  });

  it("seals a day whose window files only `lake compact` would merge (the stage-2 tasks' r<r> files)", async () => {
    const lake = tempDir('sdp-seal-agg-');
    await write(rawFilePath(lake, 'clickstream', D, 0, 0, 9), 'clickstream', clicks(10, DAY_START));
    await write(
      rawFilePath(lake, 'clickstream', '2026-12-02', 0, 10, 10),
      'clickstream',
      clicks(1, DAY_START + 25 * HOUR),
    );
    // Task 0's windows of D in three small files, then its newest commit the next day.
    for (const first of [0, 1, 2])
      await write(aggTaskFilePath(lake, D, 0, first, first), 'clickstream_agg', [
        { minute_start: DAY_START + first * 60_000, minute_end: DAY_START + (first + 1) * 60_000, url: '/a', pv: 1 },
      ]);
    await windowsUntil(lake, DAY_START + 26 * HOUR, 3);
    const pass = await sealPass(lake, { ...OPTIONS, targetBytes: 128 * 1024 * 1024 }, silentLogger);
    expect(pass.decisions.find((d) => d.dt === D)).toMatchObject({ sealable: true });
  });
});
