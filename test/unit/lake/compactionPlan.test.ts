import { describe, expect, it } from 'vitest';
import { planCompaction, type UnitFile } from '../../../src/lake/compactionPlan.js';
import { aggFilePath, aggTaskFilePath, rawFilePath, rejectedFilePath } from '../../../src/lake/layout.js';

const TOPICS = { clickstream: 'clicks', iot: 'sensors' };
const KB = 1024;
const raw = (dt: string, p: number, first: number, last: number, size = 100 * KB): UnitFile => ({
  path: rawFilePath('', 'clickstream', dt, p, first, last),
  sizeBytes: size,
});
const name = (f: UnitFile): string => f.path.split('/').at(-1)!;

describe('planCompaction', () => {
  it("merges a unit's files in offset order into runs of about the target, named by the run's offsets", () => {
    // Listed out of order; the newest roll of partition 0 (900..999) is kept out.
    const files = [raw('2026-12-01', 0, 300, 399), raw('2026-12-01', 0, 0, 99), raw('2026-12-01', 0, 100, 299)];
    files.push(raw('2026-12-01', 0, 400, 499), raw('2026-12-01', 0, 500, 899), raw('2026-12-01', 0, 900, 999));
    const merges = planCompaction(files, 250 * KB, TOPICS);
    expect(merges.map((m) => ({ unit: m.unit, inputs: m.inputs.length, merged: m.merged }))).toEqual([
      { unit: 'p0', inputs: 2, merged: 'part-0-00000000000000000000-00000000000000000299.parquet' },
      { unit: 'p0', inputs: 2, merged: 'part-0-00000000000000000300-00000000000000000499.parquet' },
    ]);
    // 500..899 is a run of one: left as it is.
    expect(merges.flatMap((m) => m.inputs)).not.toContain(name(raw('2026-12-01', 0, 500, 899)));
    expect(merges[0]!.inputs).toEqual([name(files[1]!), name(files[2]!)]);
    expect(merges[0]).toMatchObject({ table: 'clickstream', dt: '2026-12-01', inputBytes: 200 * KB });
  });

  it("never merges across units or days, nor a file of its writer's newest commit in any table or day", () => {
    const files = [
      raw('2026-12-01', 0, 0, 9),
      raw('2026-12-01', 0, 10, 19),
      raw('2026-12-02', 0, 20, 29),
      raw('2026-12-02', 0, 30, 39), // newest of partition 0 of clicks …
      { path: rejectedFilePath('', '2026-12-01', 'clicks', 0, 30, 39), sizeBytes: KB }, // … its _rejected file too
      { path: rejectedFilePath('', '2026-12-01', 'clicks', 0, 0, 9), sizeBytes: KB },
      { path: rejectedFilePath('', '2026-12-01', 'clicks', 0, 10, 19), sizeBytes: KB },
      raw('2026-12-01', 1, 0, 9),
      raw('2026-12-01', 1, 10, 19),
    ];
    const merges = planCompaction(files, 1024 * KB, TOPICS);
    expect(merges.map((m) => `${m.table} ${m.dt} ${m.unit} ${m.merged.slice(0, 12)} ${m.inputs.length}`)).toEqual([
      '_rejected 2026-12-01 p0-clicks part-clicks- 2',
      'clickstream 2026-12-01 p0 part-0-00000 2',
    ]);
    // Partition 1 has one roll besides its newest: nothing to merge. Day 2 of partition 0: one file besides the newest.
  });

  it("merges a stage-2 task's window files and the process aggregator's, each in its unit, by their ids", () => {
    const files = [
      ...[0, 1, 2].map((i) => ({ path: aggTaskFilePath('', '2026-12-01', 3, i * 10, i * 10 + 9), sizeBytes: KB })),
      ...[1, 2, 3].map((seq) => ({ path: aggFilePath('', '2026-12-01', seq), sizeBytes: KB })),
    ];
    expect(planCompaction(files, 1024 * KB, TOPICS).map((m) => [m.unit, m.merged, m.inputs])).toEqual([
      [
        'agg',
        'part-00000000000000000001-00000000000000000002.parquet',
        ['part-00000000000000000001.parquet', 'part-00000000000000000002.parquet'],
      ],
      [
        'r3',
        'part-3-00000000000000000000-00000000000000000019.parquet',
        [
          'part-3-00000000000000000000-00000000000000000009.parquet',
          'part-3-00000000000000000010-00000000000000000019.parquet',
        ],
      ],
    ]);
  });

  it("takes the aggregator's merged files as runs of checkpoint ids; its newest checkpoint's files stay in every dt", () => {
    const unit = (dt: string): string => `tables/clickstream_agg/dt=${dt}/agg`;
    const files = [
      { path: `${unit('2026-12-01')}/part-00000000000000000001-00000000000000000004.parquet`, sizeBytes: KB },
      { path: aggFilePath('', '2026-12-01', 6), sizeBytes: KB },
      { path: aggFilePath('', '2026-12-01', 9), sizeBytes: KB },
      { path: aggFilePath('', '2026-12-02', 9), sizeBytes: KB },
      { path: aggFilePath('', '2026-12-02', 7), sizeBytes: KB },
      // Checkpoint 9 is the newest: its files in both dts stay.
    ];
    expect(planCompaction(files, 1024 * KB, TOPICS).map((m) => [m.dt, m.merged, m.inputs.length])).toEqual([
      ['2026-12-01', 'part-00000000000000000001-00000000000000000006.parquet', 2],
    ]);
  });

  it('leaves a file as large as the target alone and honours --table and --dt', () => {
    const files = [0, 1, 2, 3, 4].map((i) => raw('2026-12-01', 0, i * 10, i * 10 + 9, i === 2 ? 300 * KB : 10 * KB));
    files.push(raw('2026-12-03', 0, 50, 59), raw('2026-12-03', 0, 60, 69), raw('2026-12-03', 0, 70, 79));
    const merges = planCompaction(files, 256 * KB, TOPICS);
    expect(merges.map((m) => [m.dt, m.inputs.length])).toEqual([
      ['2026-12-01', 2],
      ['2026-12-01', 2],
      ['2026-12-03', 2],
    ]);
    expect(planCompaction(files, 256 * KB, TOPICS, { dt: '2026-12-03' })).toHaveLength(1);
    expect(planCompaction(files, 256 * KB, TOPICS, { table: 'iot' })).toEqual([]);
  });

  it('ignores files outside units (a lake before its migration) and names no writer gives', () => {
    const flat = raw('2026-12-01', 0, 0, 9).path.replace('/p0/', '/');
    const files = [
      { path: flat, sizeBytes: KB },
      { path: 'tables/clickstream/dt=2026-12-01/p0/notes.parquet', sizeBytes: KB },
      raw('2026-12-01', 0, 10, 19),
      raw('2026-12-01', 0, 20, 29),
      raw('2026-12-01', 0, 30, 39),
    ];
    expect(planCompaction(files, 1024 * KB, TOPICS).map((m) => m.inputs.length)).toEqual([2]);
  });
});
