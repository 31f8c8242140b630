import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  truncateSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { commitMergeOf } from '../../../src/checkpoint/ownerCompactionRule.js';
import {
  completeCommittedMerge,
  planPartitionMerges,
  prepareOwnerMerge,
  publishOwnerMerge,
  vacuumOwnUnits,
} from '../../../src/etl/ownerCompaction.js';
import { vacuumAggUnits } from '../../../src/etl/aggregatorCompaction.js';
import { vacuumStage2Unit } from '../../../src/etl/stage2TaskCompaction.js';
import { getEncoder } from '../../../src/lake/encodeTask.js';
import { rawFilePath } from '../../../src/lake/layout.js';
import { readRowCount } from '../../../src/lake/parquetFooter.js';
import type { PlannedMerge } from '../../../src/lake/compactionPlan.js';
import { swapStagingDir } from '../../../src/lake/readerSafeSwap.js';
import { setCrashForTest, setFaultForTest } from '../../../src/system/faults.js';
import { batchOf, iotRows } from '../lake/fixtures.js';

const roots: string[] = [];
afterEach(() => {
  setFaultForTest(undefined);
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

  it('the owner of the orphan clickstream_agg units (aggregator, task 0) vacuums their old versions too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sdp-owner-compaction-'));
    roots.push(root);
    const merged = 'part-00000000000000000001-00000000000000000009.parquet';
    const version = (dt: string, unit: string) => swapStagingDir(root, 'clickstream_agg', dt, unit, merged);
    const old = (Date.now() - 3_600_000) / 1000;
    const left = () => [DT, '2024-03-02'].flatMap((dt) => readdirSync(dirname(version(dt, 'agg'))).sort());
    const prepare = (units: ReadonlyArray<readonly [string, string]>) => {
      for (const [dt, unit] of units) {
        mkdirSync(version(dt, unit), { recursive: true });
        utimesSync(version(dt, unit), old, old);
      }
    };
    const versions = [
      [DT, 'agg'],
      [DT, 'r0'],
      [DT, 'r1'],
      ['2024-03-02', 'r3'],
      ['2024-03-02', 'r12'],
    ] as const;
    const name = (unit: string) => `${unit}.${merged.slice(0, -'.parquet'.length)}`;

    // Members mode with R = 3: task 0 takes its own r0 and the orphans agg, r3, r12; r1 is task 1's.
    prepare(versions);
    expect(await vacuumStage2Unit(root, 0, 3, 900_000, Date.now())).toBe(4);
    expect(left()).toEqual([name('r1')]);
    // Task 1, and task 0 before it knows R, vacuum their own unit only.
    prepare(versions);
    expect(await vacuumStage2Unit(root, 1, 3, 900_000, Date.now())).toBe(1);
    expect(await vacuumStage2Unit(root, 0, undefined, 900_000, Date.now())).toBe(1);
    expect(left()).toEqual([name('agg'), name('r12'), name('r3')]);
    // Process mode: the aggregator takes its agg and every r<r> (no task runs).
    prepare(versions);
    expect(await vacuumAggUnits(root, 900_000, Date.now())).toBe(5);
    expect(left()).toEqual([]);
  });
});

describe("a takeover's completion of the merge the last commit named", () => {
  /** A logger that keeps what it logs at info and above. */
  function recordingLogger() {
    const lines: Array<{ level: number; msg: string; outcome?: string; reason?: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { logger, lines };
  }

  /** The merge committed, its exchange failed (its tmp file deleted), the next round's write under the same name. */
  async function committedThenRewritten(root: string): Promise<{ merge: PlannedMerge; tmp: string }> {
    const [merge] = await planPartitionMerges(owner(root), 1 << 30);
    const first = await prepareOwnerMerge(root, merge!, 'a1b2c3');
    setCrashForTest((p) => {
      throw new Error(`failed at ${p}`);
    });
    setFaultForTest('compaction-after-version-built');
    await expect(publishOwnerMerge(root, merge!, first, async () => undefined)).rejects.toThrow(/failed at/);
    setFaultForTest(undefined);
    expect(existsSync(first)).toBe(false);
    const tmp = await prepareOwnerMerge(root, merge!, 'a1b2c3');
    expect(tmp).toBe(first); // the same path the commit names
    return { merge: merge!, tmp };
  }

  const committedMerge = (root: string, merge: PlannedMerge, tmp: string) => {
    const { first, last } = commitMergeOf(merge);
    const unitDir = `tables/iot/dt=${DT}/p2`;
    return { first, last, tmpPath: tmp.slice(root.length + 1), unitDir, mergedName: merge.merged };
  };

  async function unitRows(root: string): Promise<number> {
    const unit = join(root, 'tables', 'iot', `dt=${DT}`, 'p2');
    let rows = 0;
    for (const name of readdirSync(unit)) rows += await readRowCount(join(unit, name));
    return rows;
  }

  it('discards a merged tmp file cut short (a crash while the next round wrote it): the inputs stay', async () => {
    const root = await lakeWithSmallFiles();
    const { merge, tmp } = await committedThenRewritten(root);
    truncateSync(tmp, 100);
    const unit = join(root, 'tables', 'iot', `dt=${DT}`, 'p2');
    const before = readdirSync(unit).sort();
    const { logger, lines } = recordingLogger();
    const outcome = await completeCommittedMerge(root, committedMerge(root, merge, tmp), logger, { partition: 2 });
    expect(outcome).toBe('discarded');
    expect(readdirSync(unit).sort()).toEqual(before);
    expect(await unitRows(root)).toBe(4 * iotRows.length);
    expect(existsSync(tmp)).toBe(false);
    const swapDt = join(root, '_swap', 'iot', `dt=${DT}`);
    expect(existsSync(swapDt) ? readdirSync(swapDt) : []).toEqual([]); // no version built
    const warned = lines.filter((l) => l.level === 40);
    expect(warned).toHaveLength(1);
    expect(warned[0]!.reason).toMatch(/no readable footer/);
  });

  it('discards a readable merged tmp file whose rows are not its inputs', async () => {
    const root = await lakeWithSmallFiles();
    const { merge, tmp } = await committedThenRewritten(root);
    const unit = join(root, 'tables', 'iot', `dt=${DT}`, 'p2');
    copyFileSync(join(unit, merge.inputs[0]!), tmp);
    const { logger, lines } = recordingLogger();
    const outcome = await completeCommittedMerge(root, committedMerge(root, merge, tmp), logger, { partition: 2 });
    expect(outcome).toBe('discarded');
    expect(await unitRows(root)).toBe(4 * iotRows.length);
    expect(lines.find((l) => l.level === 40)?.reason).toBe(
      `the merged tmp file holds ${iotRows.length} rows, its 3 inputs ${3 * iotRows.length}`,
    );
  });

  it('exchanges a complete merged tmp file', async () => {
    const root = await lakeWithSmallFiles();
    const { merge, tmp } = await committedThenRewritten(root);
    const { logger } = recordingLogger();
    const outcome = await completeCommittedMerge(root, committedMerge(root, merge, tmp), logger, { partition: 2 });
    expect(outcome).toBe('swapped');
    const unit = join(root, 'tables', 'iot', `dt=${DT}`, 'p2');
    expect(readdirSync(unit)).toHaveLength(2);
    expect(readdirSync(unit)).toContain(merge.merged);
    expect(await unitRows(root)).toBe(4 * iotRows.length);
  });
});
