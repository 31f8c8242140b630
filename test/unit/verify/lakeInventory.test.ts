import { describe, expect, it } from 'vitest';
import { rawFileName, rejectedFileName } from '../../../src/lake/layout.js';
import { inventoryLake, rollInScope } from '../../../src/verify/lakeInventory.js';

const topics = { clickstream: 'cs', iot: 'io' };
const file = (path: string, mtimeMs = 0) => ({ path, sizeBytes: 1, mtimeMs });
const raw = (table: string, dt: string, p: number, a: number, b: number) =>
  file(`tables/${table}/dt=${dt}/${rawFileName(p, a, b)}`);
const rej = (dt: string, topic: string, p: number, a: number, b: number) =>
  file(`tables/_rejected/dt=${dt}/${rejectedFileName(topic, p, a, b)}`);

describe('inventoryLake', () => {
  it('puts the raw and _rejected files of one range, over several dt, into one roll', () => {
    const inv = inventoryLake(
      [
        raw('clickstream', '2024-05-01', 0, 0, 99),
        raw('clickstream', '2024-05-02', 0, 0, 99),
        rej('2024-05-02', 'cs', 0, 0, 99),
        raw('clickstream', '2024-05-02', 0, 101, 150),
        rej('2024-05-02', 'cs', 1, 0, 3),
        raw('iot', '2024-05-02', 0, 0, 99),
      ],
      topics,
    );
    const p0 = inv.rolls.get('cs')!.get(0)!;
    expect(p0.map((r) => [r.first, r.last, r.rawFiles.length, r.rejectedFiles.length, r.dts])).toEqual([
      [0n, 99n, 2, 1, ['2024-05-01', '2024-05-02']],
      [101n, 150n, 1, 0, ['2024-05-02']],
    ]);
    // A roll of rejected records only is a roll too.
    expect(
      inv.rolls
        .get('cs')!
        .get(1)!
        .map((r) => [r.first, r.last, r.rawFiles.length]),
    ).toEqual([[0n, 3n, 0]]);
    expect(inv.rolls.get('io')!.get(0)).toHaveLength(1);
  });

  it('sorts tmp files, aggregate files and unknown Parquet names apart; other topics are not ours', () => {
    const inv = inventoryLake(
      [
        file('tables/clickstream/dt=2024-05-01/part-0-00000000000000000000-00000000000000000009.parquet.ab12.tmp', 5),
        file('tables/clickstream_agg/dt=2024-05-01/part-00000000000000000007.parquet'),
        // A stage-2 task's (windows across members): repartition partition 2, its input offsets 12..16.
        file('tables/clickstream_agg/dt=2024-05-01/part-2-00000000000000000012-00000000000000000016.parquet'),
        file('tables/clickstream/dt=2024-05-01/copy.parquet'),
        file('tables/clickstream/dt=2024-05-01/notes.txt'),
        rej('2024-05-01', 'someone-else', 0, 0, 9),
      ],
      topics,
    );
    expect(inv.tmpFiles.map((f) => f.mtimeMs)).toEqual([5]);
    expect(inv.aggFiles).toEqual([
      { path: 'tables/clickstream_agg/dt=2024-05-01/part-00000000000000000007.parquet', dt: '2024-05-01', seq: 7n },
      {
        path: 'tables/clickstream_agg/dt=2024-05-01/part-2-00000000000000000012-00000000000000000016.parquet',
        dt: '2024-05-01',
        seq: null,
      },
    ]);
    expect(inv.unknown).toEqual(['tables/clickstream/dt=2024-05-01/copy.parquet']);
    expect(inv.rolls.size).toBe(0);
  });

  it('--since keeps a roll whole when any of its files is on or after the day', () => {
    const inv = inventoryLake(
      [raw('iot', '2024-04-30', 0, 0, 9), raw('iot', '2024-05-01', 0, 0, 9), raw('iot', '2024-04-29', 0, 10, 19)],
      topics,
    );
    const [a, b] = inv.rolls.get('io')!.get(0)!;
    expect(rollInScope(a!, '2024-05-01')).toBe(true);
    expect(rollInScope(b!, '2024-05-01')).toBe(false);
    expect(rollInScope(b!, undefined)).toBe(true);
  });
});
