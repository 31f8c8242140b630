import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  planPartitionMerges,
  prepareOwnerMerge,
  publishOwnerMerge,
  vacuumOwnUnits,
} from '../../../src/etl/ownerCompaction.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { rawFilePath } from '../../../src/lake/layout.js';
import { swapStagingDir } from '../../../src/lake/readerSafeSwap.js';
import { batchOf, iotRows } from '../lake/fixtures.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const DT = '2024-03-01';

async function lakeWithSmallFiles(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'sdp-owner-compaction-'));
  roots.push(root);
  for (let first = 0; first < 40; first += 10) {
    const file = rawFilePath(root, 'iot', DT, 2, first, first + 9);
    mkdirSync(dirname(file), { recursive: true });
    await getEncoder('hyparquet-writer').encodeToFile(file, 'iot', batchOf('iot', iotRows), { rowGroupRows: 1000 });
  }
  return root;
}

const owner = (lakeRoot: string) => ({ lakeRoot, topic: 'iot', partition: 2, table: 'iot' as const });

describe('the owner compaction I/O', () => {
  it('commits nothing and leaves no tmp file when an input left the unit before the commit', async () => {
    const root = await lakeWithSmallFiles();
    const [merge] = await planPartitionMerges(owner(root), 1 << 30);
    expect(merge!.inputs).toHaveLength(3);
    const tmp = await prepareOwnerMerge(root, merge!, 'a1b2c3');
    expect(existsSync(tmp)).toBe(true);
    unlinkSync(join(dirname(tmp), 'p2', merge!.inputs[1]!));
    let committed = 0;
    const outcome = await publishOwnerMerge(root, merge!, tmp, async () => void (committed += 1));
    expect([outcome, committed, existsSync(tmp)]).toEqual(['discarded', 0, false]);
  });

  it('vacuums old versions of its own units only, after the grace', async () => {
    const root = await lakeWithSmallFiles();
    const mine = swapStagingDir(root, 'iot', DT, 'p2', 'part-2-00000000000000000000-00000000000000000019.parquet');
    const other = swapStagingDir(root, 'iot', DT, 'p12', 'part-12-00000000000000000000-00000000000000000019.parquet');
    const fresh = swapStagingDir(root, 'iot', DT, 'p2', 'part-2-00000000000000000020-00000000000000000029.parquet');
    for (const dir of [mine, other, fresh]) mkdirSync(dir, { recursive: true });
    const old = (Date.now() - 3_600_000) / 1000;
    utimesSync(mine, old, old);
    utimesSync(other, old, old);
    expect(await vacuumOwnUnits(owner(root), 900_000, Date.now())).toBe(1);
    expect(readdirSync(dirname(mine)).sort()).toEqual([fresh, other].map((d) => d.split('/').at(-1)).sort());
  });
});
