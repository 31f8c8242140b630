import { describe, expect, it } from 'vitest';
import { rawFileName, rejectedFileName } from '../../../src/lake/layout.js';
import { inventoryLake } from '../../../src/verify/lakeInventory.js';

const topics = { clickstream: 'cs', iot: 'io' };
const file = (path: string, mtimeMs = 0) => ({ path, sizeBytes: 1, mtimeMs });
/** A raw file, in unit `unit` of its dt (`''`: directly in dt=D/, as before units). */
const raw = (table: string, dt: string, p: number, a: number, b: number, unit = `p${p}/`) =>
  file(`tables/${table}/dt=${dt}/${unit}${rawFileName(p, a, b)}`);
const rej = (dt: string, topic: string, p: number, a: number, b: number, unit = `p${p}-${topic}/`) =>
  file(`tables/_rejected/dt=${dt}/${unit}${rejectedFileName(topic, p, a, b)}`);

describe('inventoryLake', () => {
  it('lists each partition raw and _rejected files of every dt, sorted by range, in units or not', () => {
    const inv = inventoryLake(
      [
        raw('clickstream', '2024-05-02', 0, 101, 150),
        raw('clickstream', '2024-05-01', 0, 0, 99, ''),
        raw('clickstream', '2024-05-02', 0, 0, 99),
        rej('2024-05-02', 'cs', 0, 0, 99),
        rej('2024-05-02', 'cs', 1, 0, 3, ''),
        raw('iot', '2024-05-02', 0, 0, 99),
      ],
      topics,
    );
    expect(
      inv.files
        .get('cs')!
        .get(0)!
        .map((f) => [f.table, f.dt, f.first, f.last]),
    ).toEqual([
      ['clickstream', '2024-05-01', 0n, 99n],
      ['clickstream', '2024-05-02', 0n, 99n],
      ['_rejected', '2024-05-02', 0n, 99n],
      ['clickstream', '2024-05-02', 101n, 150n],
    ]);
    expect(
      inv.files
        .get('cs')!
        .get(1)!
        .map((f) => [f.table, f.first, f.last]),
    ).toEqual([['_rejected', 0n, 3n]]);
    expect(inv.files.get('io')!.get(0)).toHaveLength(1);
    expect(inv.misplaced).toEqual([]);
    expect(inv.unknown).toEqual([]);
  });

  it('a final file in a unit its name does not belong to is misplaced, and still counted', () => {
    const inv = inventoryLake(
      [
        raw('iot', '2024-05-01', 0, 0, 9, 'p1/'),
        rej('2024-05-01', 'cs', 2, 0, 9, 'p2-io/'),
        file('tables/clickstream_agg/dt=2024-05-01/r0/part-00000000000000000007.parquet'),
        file('tables/clickstream_agg/dt=2024-05-01/agg/part-3-00000000000000000012-00000000000000000016.parquet'),
        file('tables/clickstream_agg/dt=2024-05-01/r3/part-3-00000000000000000017-00000000000000000020.parquet'),
      ],
      topics,
    );
    expect(inv.misplaced.map((m) => [m.table, m.unit, m.owner])).toEqual([
      ['iot', 'p1', 'p0'],
      ['_rejected', 'p2-io', 'p2-cs'],
      ['clickstream_agg', 'r0', 'agg'],
      ['clickstream_agg', 'agg', 'r3'],
    ]);
    expect(
      inv.files
        .get('io')!
        .get(0)!
        .map((f) => f.path),
    ).toEqual(['tables/iot/dt=2024-05-01/p1/part-0-00000000000000000000-00000000000000000009.parquet']);
    expect(inv.aggFiles.map((f) => f.seq)).toEqual([7n, null, null]);
  });

  it('sorts tmp files, aggregate files and unknown Parquet names apart; other topics are not ours', () => {
    const inv = inventoryLake(
      [
        file('tables/clickstream/dt=2024-05-01/.part-0-00000000000000000000-00000000000000000009.parquet.ab12.tmp', 5),
        file('tables/clickstream_agg/dt=2024-05-01/part-00000000000000000007.parquet'),
        file('tables/clickstream_agg/dt=2024-05-01/agg/part-00000000000000000008.parquet'),
        // A stage-2 task's (windows across members): repartition partition 2, its input offsets 12..16.
        file('tables/clickstream_agg/dt=2024-05-01/part-2-00000000000000000012-00000000000000000016.parquet'),
        file('tables/clickstream_agg/dt=2024-05-01/r2/part-2-00000000000000000017-00000000000000000019.parquet'),
        file('tables/clickstream/dt=2024-05-01/copy.parquet'),
        file('tables/clickstream/dt=2024-05-01/p0/deeper/part-0-00000000000000000000-00000000000000000009.parquet'),
        file('tables/clickstream/dt=2024-05-01/notes.txt'),
        rej('2024-05-01', 'someone-else', 0, 0, 9),
      ],
      topics,
    );
    expect(inv.tmpFiles.map((f) => f.mtimeMs)).toEqual([5]);
    expect(inv.aggFiles).toEqual([
      { path: 'tables/clickstream_agg/dt=2024-05-01/part-00000000000000000007.parquet', dt: '2024-05-01', seq: 7n },
      { path: 'tables/clickstream_agg/dt=2024-05-01/agg/part-00000000000000000008.parquet', dt: '2024-05-01', seq: 8n },
      {
        path: 'tables/clickstream_agg/dt=2024-05-01/part-2-00000000000000000012-00000000000000000016.parquet',
        dt: '2024-05-01',
        seq: null,
      },
      {
        path: 'tables/clickstream_agg/dt=2024-05-01/r2/part-2-00000000000000000017-00000000000000000019.parquet',
        dt: '2024-05-01',
        seq: null,
      },
    ]);
    expect(inv.unknown).toEqual([
      'tables/clickstream/dt=2024-05-01/copy.parquet',
      'tables/clickstream/dt=2024-05-01/p0/deeper/part-0-00000000000000000000-00000000000000000009.parquet',
    ]);
    expect(inv.misplaced).toEqual([]);
    expect(inv.files.size).toBe(0);
  });
});
