/**
 * How far clickstream_agg reaches for one stage-2 task's urls (architecture.md, "Windows across members"): real
 * Parquet files written by the platform's encoder, in the task layout and the process aggregator's.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aggEmittedUntilMs } from '../../../src/lake/aggEmittedUntil.js';
import { createEncoderPool } from '../../../src/lake/encoderPool.js';
import { aggFilePath, aggTaskFilePath } from '../../../src/lake/layout.js';
import { repartitionOfUrl } from '../../../src/windows/repartitionRecords.js';
import { tempDir } from '../actors/fakes/testKit.js';
import { batchOf } from './fixtures.js';

const pool = createEncoderPool({ threads: 0 });
afterAll(() => pool.close());

const R = 4;
const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 5, 23, 50);
const URLS = Array.from({ length: 40 }, (_, i) => `https://shop.example.com/p/${i}`);
const urlsOf = (r: number): string[] => URLS.filter((u) => repartitionOfUrl(u, R) === r);

async function writeAgg(file: string, windows: Array<[number, string]>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const rows = windows.map(([startMs, url]) => ({ minute_start: startMs, minute_end: startMs + MIN, url, pv: 1 }));
  await pool.encode({
    encoder: 'hyparquet-writer',
    table: 'clickstream_agg',
    path: file,
    batch: batchOf('clickstream_agg', rows),
    rowGroupRows: 2,
  });
}

describe('aggEmittedUntilMs', () => {
  it("ignores other tasks' files: a task that never committed has emitted nothing", async () => {
    const lake = tempDir('sdp-agg-until-');
    const [a, b] = urlsOf(3);
    await writeAgg(aggTaskFilePath(lake, '2026-12-05', 3, 0n, 3n), [
      [T0, a!],
      [T0 + 5 * MIN, b!],
    ]);
    // Task 0's urls have no window in the lake: its own first windows are not "already emitted".
    expect(await aggEmittedUntilMs(lake, 0, R)).toBeUndefined();
    expect(await aggEmittedUntilMs(lake, 3, R)).toBe(T0 + 6 * MIN);
  });

  it("reads the task's urls out of files that hold every url (the process aggregator's), newest dt first", async () => {
    const lake = tempDir('sdp-agg-until-');
    const [a0] = urlsOf(0);
    const [a1] = urlsOf(1);
    await writeAgg(aggFilePath(lake, '2026-12-05', 7n), [
      [T0, a0!],
      [T0 + 2 * MIN, a1!],
    ]);
    // Past midnight only task 1's urls had windows: task 0's frontier is still the day before's.
    await writeAgg(aggFilePath(lake, '2026-12-06', 8n), [[T0 + 20 * MIN, a1!]]);
    expect(await aggEmittedUntilMs(lake, 0, R)).toBe(T0 + MIN);
    expect(await aggEmittedUntilMs(lake, 1, R)).toBe(T0 + 21 * MIN);
    expect(await aggEmittedUntilMs(lake, 2, R)).toBeUndefined();
  });

  it('skips tmp files: an uncommitted window is not emitted', async () => {
    const lake = tempDir('sdp-agg-until-');
    const [a] = urlsOf(2);
    await writeAgg(`${aggTaskFilePath(lake, '2026-12-05', 2, 0n, 1n)}.aa.tmp`, [[T0, a!]]);
    expect(await aggEmittedUntilMs(lake, 2, R)).toBeUndefined();
  });
});
