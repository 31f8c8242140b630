import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangePaths } from '../../../src/lake/renameExchange.js';
import { changedUnits, readUnitVersions, readWithStableUnits } from '../../../src/lake/unitVersions.js';

let table: string;

beforeEach(async () => {
  table = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-unit-versions-'));
  for (const unit of ['dt=2026-01-01/p0', 'dt=2026-01-01/p1', 'dt=2026-01-02/p0']) {
    await fs.mkdir(path.join(table, unit), { recursive: true });
  }
  await fs.writeFile(path.join(table, 'dt=2026-01-01', '.part-0-1-2.parquet.abc.tmp'), '');
  await fs.mkdir(path.join(table, 'not-a-dt'));
});

afterEach(async () => {
  await fs.rm(table, { recursive: true, force: true });
});

describe('readUnitVersions / changedUnits', () => {
  it('reads one inode per unit directory of every dt, nothing else', async () => {
    const versions = await readUnitVersions(table);
    expect([...versions.keys()].sort()).toEqual(['dt=2026-01-01/p0', 'dt=2026-01-01/p1', 'dt=2026-01-02/p0']);
    expect(await readUnitVersions(path.join(table, 'missing'))).toEqual(new Map());
  });

  it('a swap changes its unit; a new file, a new unit or a new dt does not; a vanished unit does', async () => {
    const before = await readUnitVersions(table);
    await fs.writeFile(path.join(table, 'dt=2026-01-01/p1/part-1-0-9.parquet'), 'rows');
    await fs.mkdir(path.join(table, 'dt=2026-01-02/p1'));
    await fs.mkdir(path.join(table, 'dt=2026-01-03/p0'), { recursive: true });
    expect(changedUnits(before, await readUnitVersions(table))).toEqual([]);

    const staging = path.join(table, '..', `${path.basename(table)}-staging`);
    await fs.mkdir(staging);
    exchangePaths(path.join(table, 'dt=2026-01-01/p0'), staging);
    await fs.rm(path.join(table, 'dt=2026-01-02'), { recursive: true });
    expect(changedUnits(before, await readUnitVersions(table))).toEqual(['dt=2026-01-01/p0', 'dt=2026-01-02/p0']);
    await fs.rm(staging, { recursive: true });
  });
});

describe('readWithStableUnits', () => {
  it('returns the first result during which no unit changed, running again after a swap', async () => {
    const staging = path.join(table, '..', `${path.basename(table)}-staging2`);
    await fs.mkdir(staging);
    let runs = 0;
    const result = await readWithStableUnits([table], async () => {
      runs += 1;
      if (runs === 1) exchangePaths(path.join(table, 'dt=2026-01-01/p1'), staging);
      return runs;
    });
    expect(result).toEqual({ value: 2, attempts: 2 });
    await fs.rm(staging, { recursive: true });
  });

  it("throws the reader's own error when nothing changed, and gives up when units change every time", async () => {
    await expect(readWithStableUnits([table], async () => Promise.reject(new Error('bad SQL')))).rejects.toThrow(
      'bad SQL',
    );
    const staging = path.join(table, '..', `${path.basename(table)}-staging3`);
    await fs.mkdir(staging);
    const unit = path.join(table, 'dt=2026-01-02/p0');
    await expect(readWithStableUnits([table], async () => exchangePaths(unit, staging), 3)).rejects.toThrow(
      /kept changing during 3 reads: .*dt=2026-01-02\/p0/,
    );
    await fs.rm(staging, { recursive: true });
  });
});
