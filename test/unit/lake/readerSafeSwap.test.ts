import { linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import {
  isUnitName,
  type PartitionSwap,
  SWAP_DIR,
  swapPartitionFiles,
  swapStagingDir,
  unitDir,
  vacuumSwaps,
} from '../../../src/lake/readerSafeSwap.js';

let root: string;
const DT = '2026-01-01';

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-swap-'));
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A unit p3 with files a, b, c, x (contents = names) and a merged tmp file in the dt directory. */
async function setUp(): Promise<PartitionSwap> {
  const liveDir = unitDir(root, 'clickstream', DT, 'p3');
  await fs.mkdir(liveDir, { recursive: true });
  for (const name of ['a.parquet', 'b.parquet', 'c.parquet', 'x.parquet']) {
    await fs.writeFile(path.join(liveDir, name), name);
  }
  const mergedTmp = path.join(path.dirname(liveDir), '.m.parquet.abc.tmp');
  await fs.writeFile(mergedTmp, 'a+b+c');
  return {
    liveDir,
    stagingDir: swapStagingDir(root, 'clickstream', DT, 'p3', 'm.parquet'),
    replaced: ['a.parquet', 'b.parquet', 'c.parquet'],
    mergedTmp,
    mergedName: 'm.parquet',
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isSdpError(err) ? err.code : (err as NodeJS.ErrnoException).code;
  }
}

describe('names', () => {
  it('puts a unit below its dt and its staging beside tables/, named by the merged file', () => {
    expect(unitDir('/lake', 'iot', DT, 'p3')).toBe('/lake/tables/iot/dt=2026-01-01/p3');
    expect(swapStagingDir('/lake', 'iot', DT, 'p3', 'part-3-1-9.parquet')).toBe(
      `/lake/${SWAP_DIR}/iot/dt=2026-01-01/p3.part-3-1-9`,
    );
  });

  it('accepts only unit names readers list as plain directories', () => {
    expect(isUnitName('p3')).toBe(true);
    expect(isUnitName('clickstream-p12')).toBe(true);
    // a Hive key would add a column; a leading dot or underscore is skipped by pyarrow; no path escapes
    for (const bad of ['p=3', '.p3', '_p3', '', '..', 'a/b']) expect(isUnitName(bad)).toBe(false);
    expect(() => unitDir('/lake', 'iot', DT, 'p=3')).toThrow(RangeError);
    expect(() => swapStagingDir('/lake', 'iot', DT, 'p3', '../x.parquet')).toThrow(RangeError);
  });
});

describe('swapPartitionFiles', () => {
  it('replaces the files by the merged one, keeps the others (same inode) and moves the old version out', async () => {
    const swap = await setUp();
    const inodeX = (await fs.stat(path.join(swap.liveDir, 'x.parquet'))).ino;
    expect(await swapPartitionFiles(swap, 1_000_000)).toBe('swapped');
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual(['m.parquet', 'x.parquet']);
    expect(await fs.readFile(path.join(swap.liveDir, 'm.parquet'), 'utf8')).toBe('a+b+c');
    expect((await fs.stat(path.join(swap.liveDir, 'x.parquet'))).ino).toBe(inodeX);
    // the old version, whole, for readers that hold it until the vacuum
    expect((await fs.readdir(swap.stagingDir)).sort()).toEqual(['a.parquet', 'b.parquet', 'c.parquet', 'x.parquet']);
    expect((await fs.stat(swap.stagingDir)).mtimeMs).toBe(1_000_000);
    await expect(fs.access(swap.mergedTmp)).rejects.toThrow();
  });

  it('is idempotent: a second call finds the merged file and only removes a tmp link left over', async () => {
    const swap = await setUp();
    await swapPartitionFiles(swap);
    await fs.link(path.join(swap.liveDir, 'm.parquet'), swap.mergedTmp); // a crash after the exchange
    expect(await swapPartitionFiles(swap)).toBe('already-done');
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual(['m.parquet', 'x.parquet']);
    await expect(fs.access(swap.mergedTmp)).rejects.toThrow();
  });

  it('discards a version an interrupted attempt half built and builds it again', async () => {
    const swap = await setUp();
    await fs.mkdir(swap.stagingDir, { recursive: true });
    await fs.writeFile(path.join(swap.stagingDir, 'x.parquet'), 'stale');
    await fs.writeFile(path.join(swap.stagingDir, 'junk'), 'junk');
    expect(await swapPartitionFiles(swap)).toBe('swapped');
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual(['m.parquet', 'x.parquet']);
    expect(await fs.readFile(path.join(swap.liveDir, 'x.parquet'), 'utf8')).toBe('x.parquet');
  });

  it('refuses, changing nothing, when a replaced file or the merged tmp file is missing', async () => {
    const swap = await setUp();
    expect(await codeOf(swapPartitionFiles({ ...swap, replaced: ['a.parquet', 'gone.parquet'] }))).toBe(
      ErrorCodes.LAKE_FILE_MISSING,
    );
    expect(await codeOf(swapPartitionFiles({ ...swap, mergedTmp: `${swap.mergedTmp}.gone` }))).toBe(
      ErrorCodes.LAKE_FILE_MISSING,
    );
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual(['a.parquet', 'b.parquet', 'c.parquet', 'x.parquet']);
  });

  it('swaps again over a unit already compacted, each swap leaving its own old version', async () => {
    const swap = await setUp();
    await swapPartitionFiles(swap, 1_000);
    await fs.writeFile(path.join(swap.liveDir, 'y.parquet'), 'y');
    const tmp2 = path.join(path.dirname(swap.liveDir), '.n.parquet.abc.tmp');
    await fs.writeFile(tmp2, 'a+b+c+x+y');
    const second: PartitionSwap = {
      liveDir: swap.liveDir,
      stagingDir: swapStagingDir(root, 'clickstream', DT, 'p3', 'n.parquet'),
      replaced: ['m.parquet', 'x.parquet', 'y.parquet'],
      mergedTmp: tmp2,
      mergedName: 'n.parquet',
    };
    expect(await swapPartitionFiles(second, 2_000)).toBe('swapped');
    expect(await fs.readdir(swap.liveDir)).toEqual(['n.parquet']);
    expect((await fs.readdir(second.stagingDir)).sort()).toEqual(['m.parquet', 'x.parquet', 'y.parquet']);
  });
});

describe('vacuumSwaps', () => {
  it("removes the unit's old versions once the grace has passed, and nothing of another unit", async () => {
    const swap = await setUp();
    await swapPartitionFiles(swap, 10_000);
    const parent = path.dirname(swap.stagingDir);
    const other = path.join(parent, 'p4.part-4-1-2');
    await fs.mkdir(other);
    await fs.utimes(other, 1, 1);
    expect(await vacuumSwaps(parent, 'p3', 5_000, 14_999)).toEqual([]);
    expect(await vacuumSwaps(parent, 'p3', 5_000, 15_000)).toEqual([swap.stagingDir]);
    expect(await fs.readdir(parent)).toEqual(['p4.part-4-1-2']);
    expect(await vacuumSwaps(path.join(root, 'none'), 'p3', 0, 1)).toEqual([]);
  });
});

describe('swapPartitionFiles with recheck (the owner inside the ETL, architecture.md "Compaction")', () => {
  it('exchanges when the unit still lists what the version was built from', async () => {
    const swap = await setUp();
    expect(await swapPartitionFiles({ ...swap, recheck: true })).toBe('swapped');
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual(['m.parquet', 'x.parquet']);
  });

  it('discards its version when a file arrived in the unit after the version was built (a zombie behind a new owner)', async () => {
    const swap = await setUp();
    const outcome = await swapPartitionFiles({ ...swap, recheck: true }, Date.now(), {
      built: () => writeFileSync(path.join(swap.liveDir, 'y.parquet'), 'y'),
    });
    expect(outcome).toBe('discarded');
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual([
      'a.parquet',
      'b.parquet',
      'c.parquet',
      'x.parquet',
      'y.parquet',
    ]);
    expect(await fs.stat(swap.stagingDir).catch(() => 'gone')).toBe('gone');
    expect(await fs.stat(swap.mergedTmp).catch(() => 'gone')).toBe('gone');
  });

  it("discards its version when another owner exchanged the unit already, keeping that one's old version", async () => {
    const swap = await setUp();
    const outcome = await swapPartitionFiles({ ...swap, recheck: true }, Date.now(), {
      // The next owner completed the committed swap meanwhile: same staging path, now its old version.
      built: () => {
        renameSync(swap.stagingDir, `${swap.stagingDir}.built`);
        mkdirSync(swap.stagingDir);
        for (const name of ['a.parquet', 'b.parquet', 'c.parquet'])
          renameSync(path.join(swap.liveDir, name), path.join(swap.stagingDir, name));
        linkSync(swap.mergedTmp, path.join(swap.liveDir, 'm.parquet'));
        rmSync(`${swap.stagingDir}.built`, { recursive: true });
      },
    });
    expect(outcome).toBe('discarded');
    expect((await fs.readdir(swap.liveDir)).sort()).toEqual(['m.parquet', 'x.parquet']);
    expect((await fs.readdir(swap.stagingDir)).sort()).toEqual(['a.parquet', 'b.parquet', 'c.parquet']);
  });
});
