import { describe, expect, it } from 'vitest';
import { componentFiles, componentInScope, groupPartition } from '../../../src/verify/components.js';
import type { PartitionFile } from '../../../src/verify/lakeInventory.js';

const f = (table: PartitionFile['table'], dt: string, first: number, last: number): PartitionFile => ({
  path: `${table}/${dt}/${first}-${last}`,
  table,
  dt,
  first: BigInt(first),
  last: BigInt(last),
});
const D1 = '2024-05-01';
const D2 = '2024-05-02';
const ranges = (g: ReturnType<typeof groupPartition>) => g.components.map((c) => [c.first, c.last]);

describe('groupPartition', () => {
  it('unmerged rolls: each range over its dts and tables is one component, as rolls were', () => {
    const g = groupPartition('cs', 0, [
      f('clickstream', D1, 0, 9),
      f('clickstream', D2, 0, 9),
      f('_rejected', D2, 0, 9),
      f('clickstream', D2, 10, 19),
      f('_rejected', D1, 25, 30),
    ]);
    expect(ranges(g)).toEqual([
      [0n, 9n],
      [10n, 19n],
      [25n, 30n],
    ]);
    expect(g.components[0]).toMatchObject({
      rawFiles: [`clickstream/${D1}/0-9`, `clickstream/${D2}/0-9`],
      dts: [D1, D2],
    });
    expect(componentFiles(g.components[0]!)).toHaveLength(3);
    expect(g.components[2]!.rawFiles).toEqual([]);
    expect(g.overlaps).toEqual([]);
  });

  it('a merged file in one dt and the unmerged files of the same rolls in another dt are one component, no overlap', () => {
    // D1 compacted rolls 0..9, 10..19 (gap 20..21: an aborted transaction) and 22..30 into 0..30; D2 and _rejected not.
    const g = groupPartition('cs', 0, [
      f('clickstream', D1, 0, 30),
      f('clickstream', D2, 0, 9),
      f('clickstream', D2, 22, 30),
      f('_rejected', D1, 10, 19),
      f('clickstream', D2, 31, 40),
    ]);
    expect(ranges(g)).toEqual([
      [0n, 30n],
      [31n, 40n],
    ]);
    expect(g.components[0]!.rawFiles).toHaveLength(3);
    expect(g.components[0]!.rejectedFiles).toHaveLength(1);
    expect(g.overlaps).toEqual([]);
  });

  it('ranges chained through a file of another dt join one component (transitively)', () => {
    // 0..9 (D1) meets 5..19 (D2, merged) which meets 15..29 (_rejected D1, merged): one component 0..29.
    const g = groupPartition('cs', 0, [
      f('clickstream', D1, 0, 9),
      f('clickstream', D2, 5, 19),
      f('_rejected', D1, 15, 29),
    ]);
    expect(ranges(g)).toEqual([[0n, 29n]]);
    expect(g.overlaps).toEqual([]);
  });

  it('a file copied under a second name in the same dt is an overlap naming both files', () => {
    const g = groupPartition('cs', 0, [f('iot', D1, 0, 9), f('iot', D1, 1, 9), f('iot', D2, 0, 9)]);
    expect(g.overlaps).toHaveLength(1);
    expect(g.overlaps[0]).toMatchObject({ table: 'iot', dt: D1 });
    expect([g.overlaps[0]!.earlier.path, g.overlaps[0]!.later.path]).toEqual([`iot/${D1}/0-9`, `iot/${D1}/1-9`]);
    // Identical ranges in one (table, dt): a file left beside its unit's copy, or a merge that kept a replaced file.
    expect(groupPartition('cs', 0, [f('iot', D1, 0, 9), f('iot', D1, 0, 9)]).overlaps).toHaveLength(1);
    expect(groupPartition('cs', 0, [f('iot', D1, 0, 30), f('iot', D1, 10, 19)]).overlaps).toHaveLength(1);
    // The same range in raw and _rejected of one dt is one roll, not an overlap.
    expect(groupPartition('cs', 0, [f('iot', D1, 0, 9), f('_rejected', D1, 0, 9)]).overlaps).toEqual([]);
  });

  it('expired ranges join the components they intersect and stand alone otherwise', () => {
    const r = (first: number, last: number) => ({ first: BigInt(first), last: BigInt(last) });
    const g = groupPartition('cs', 0, [f('clickstream', D2, 50, 99), f('clickstream', D2, 150, 250)], [r(0, 199)]);
    expect(ranges(g)).toEqual([[0n, 250n]]);
    expect(g.components[0]!.expired).toEqual([r(0, 199)]);
    const apart = groupPartition('cs', 0, [f('clickstream', D2, 201, 300)], [r(0, 199)]);
    expect(apart.components.map((c) => [c.first, c.last, c.expired.length, c.rawFiles.length])).toEqual([
      [0n, 199n, 1, 0],
      [201n, 300n, 0, 1],
    ]);
  });

  it('touching ranges stay separate components; --since keeps a component whole when any file is on or after it', () => {
    const g = groupPartition('cs', 0, [
      f('iot', '2024-04-30', 0, 9),
      f('iot', D1, 0, 9),
      f('iot', '2024-04-29', 10, 19),
    ]);
    expect(ranges(g)).toEqual([
      [0n, 9n],
      [10n, 19n],
    ]);
    const [a, b] = g.components;
    expect(componentInScope(a!, D1)).toBe(true);
    expect(componentInScope(b!, D1)).toBe(false);
    expect(componentInScope(b!, undefined)).toBe(true);
  });
});
