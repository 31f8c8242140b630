import { describe, expect, it } from 'vitest';
import type { Component } from '../../../src/verify/components.js';
import type { PartitionFile } from '../../../src/verify/lakeInventory.js';
import { judgePartition, planPartition, type PartitionInput } from '../../../src/verify/partitionCheck.js';

/** The files of one roll: `raw` raw files and `rejected` _rejected files, the i-th of each in the i-th dt from `dt`. */
function roll(first: number, last: number, raw = 1, rejected = 0, dt = '2024-05-01'): PartitionFile[] {
  const day = (i: number) => new Date(Date.parse(`${dt}T00:00:00Z`) + i * 86_400_000).toISOString().slice(0, 10);
  const file = (table: PartitionFile['table'], name: string, i: number): PartitionFile => ({
    path: `${name}-${first}-${i}`,
    table,
    dt: day(i),
    first: BigInt(first),
    last: BigInt(last),
  });
  return [
    ...Array.from({ length: raw }, (_, i) => file('clickstream', 'raw', i)),
    ...Array.from({ length: rejected }, (_, i) => file('_rejected', 'rej', i)),
  ];
}

const base = (rolls: PartitionFile[][], more: Partial<PartitionInput> = {}): PartitionInput => ({
  table: 'clickstream',
  topic: 'cs',
  partition: 0,
  files: rolls.flat(),
  checkpoint: undefined,
  logStart: 0n,
  since: undefined,
  ...more,
});

/** Footer rows: every file holds `n` rows. */
const rowsEach = (n: number) => (c: Component) => ({
  raw: c.rawFiles.length * n,
  rejected: c.rejectedFiles.length * n,
});

describe('planPartition', () => {
  it('asks Kafka for every component, every gap and the tail up to the checkpoint, in offset order', () => {
    const plan = planPartition(base([roll(0, 9), roll(11, 20)], { checkpoint: 25n }));
    expect(plan.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([
      ['component', 0n, 9n],
      ['gap', 10n, 10n],
      ['component', 11n, 20n],
      ['tail', 21n, 25n],
    ]);
    expect(plan.overlaps).toBe(0);
  });

  it('two files of one (table, dt) that intersect are an overlap naming both; across dts or tables they are not', () => {
    const plan = planPartition(base([roll(0, 9), roll(5, 14)]));
    expect(plan.overlaps).toBe(1);
    expect(plan.findings[0]).toMatchObject({
      kind: 'overlap',
      table: 'clickstream',
      first: '5',
      last: '9',
      files: ['raw-0-0', 'raw-5-0'],
    });
    expect(plan.findings[0]!.message).toBe(
      'files 0..9 and 5..14 of dt 2024-05-01 overlap: their records are in the lake twice',
    );
    // A _rejected file merged over two rolls whose raw files are not: one component, counted whole.
    const merged = planPartition(base([roll(0, 9), roll(10, 14), roll(0, 14, 0, 1)]));
    expect(merged.overlaps).toBe(0);
    expect(merged.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([['component', 0n, 14n]]);
    // --since: an overlap in a dt before the day is not looked at.
    expect(planPartition(base([roll(0, 9), roll(5, 14)], { since: '2024-05-02' })).overlaps).toBe(0);
  });

  it('below the log start: a roll is unverifiable (tiling only), a gap is checked from the log start on', () => {
    const plan = planPartition(base([roll(0, 9), roll(15, 30)], { logStart: 12n, checkpoint: 30n }));
    expect(plan.unverifiable).toBe(2);
    expect(plan.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([
      ['gap', 12n, 14n],
      ['component', 15n, 30n],
    ]);
  });

  it('--since: rolls before the day, and gaps between two of them, are left out', () => {
    const plan = planPartition(
      base([roll(0, 9, 1, 0, '2024-04-01'), roll(11, 20, 1, 0, '2024-04-01'), roll(22, 30, 1, 0, '2024-05-02')], {
        since: '2024-05-01',
        checkpoint: 30n,
      }),
    );
    expect(plan.segments.map((s) => [s.kind, s.range.first])).toEqual([
      ['gap', 21n],
      ['component', 22n],
    ]);
  });
});

describe('judgePartition', () => {
  it('passes when each roll holds what Kafka holds and gaps hold nothing committed', () => {
    const rolls = [roll(0, 9, 2, 1), roll(12, 20)];
    const plan = planPartition(base(rolls, { checkpoint: 22n }));
    // roll 0..9: 2 raw files of 3 rows + 1 rejected file of 3 rows = 9; gap 10..11 (markers), roll 12..20: 3; tail
    // 21..22: markers.
    const verdict = judgePartition(base(rolls), plan.segments, [9, 0, 3, 0], 23n, rowsEach(3));
    expect(verdict).toEqual({ findings: [], gaps: 0, countMismatches: 0 });
  });

  it('a roll holding one row fewer than Kafka is a count mismatch naming its files and offsets', () => {
    const rolls = [roll(0, 9, 1, 1)];
    const plan = planPartition(base(rolls));
    const verdict = judgePartition(base(rolls), plan.segments, [7], 10n, () => ({ raw: 5, rejected: 1 }));
    expect(verdict.countMismatches).toBe(1);
    expect(verdict.findings[0]).toMatchObject({
      kind: 'count_mismatch',
      first: '0',
      last: '9',
      files: ['raw-0-0', 'rej-0-0'],
    });
    expect(verdict.findings[0]!.message).toBe(
      'Kafka holds 7 committed records in the range, the files hold 6 (5 rows + 1 rejected)',
    );
  });

  it('committed records in a gap or in the tail are gaps; a roll with an unreadable footer is not judged', () => {
    const rolls = [roll(0, 9), roll(20, 29)];
    const plan = planPartition(base(rolls, { checkpoint: 35n }));
    const verdict = judgePartition(base(rolls), plan.segments, [1, 10, 1, 2], 36n, () => undefined);
    expect(verdict.gaps).toBe(2);
    expect(verdict.countMismatches).toBe(0);
    expect(verdict.findings.map((f) => [f.kind, f.first, f.last])).toEqual([
      ['gap', '10', '19'],
      ['gap', '30', '35'],
    ]);
    expect(verdict.findings[1]!.message).toContain('up to the checkpointed offset 35');
  });

  it('a merged file in one dt and the unmerged files of its rolls in another are counted as one range', () => {
    // dt 05-01 compacted rolls 0..9 and 10..19 into 0..19 (12 rows); dt 05-02 still has them (3 + 4 rows).
    const files = [roll(0, 19), roll(0, 9, 2).slice(1), roll(10, 19, 2).slice(1)];
    const rows = new Map([
      ['raw-0-0', 12],
      ['raw-0-1', 3],
      ['raw-10-1', 4],
    ]);
    const rowsOf = (c: Component) => ({ raw: c.rawFiles.reduce((n, f) => n + rows.get(f)!, 0), rejected: 0 });
    const plan = planPartition(base(files, { checkpoint: 19n }));
    expect(plan.overlaps).toBe(0);
    expect(plan.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([['component', 0n, 19n]]);
    expect(judgePartition(base(files), plan.segments, [19], 20n, rowsOf).findings).toEqual([]);
    // The merged file lost a row: a count mismatch over the component, naming every file of it.
    rows.set('raw-0-0', 11);
    const verdict = judgePartition(base(files), plan.segments, [19], 20n, rowsOf);
    expect(verdict.countMismatches).toBe(1);
    expect(verdict.findings[0]).toMatchObject({
      kind: 'count_mismatch',
      first: '0',
      last: '19',
      files: ['raw-0-0', 'raw-0-1', 'raw-10-1'],
    });
  });

  it('a range Kafka did not deliver to its end is reported, not judged', () => {
    const rolls = [roll(0, 9)];
    const plan = planPartition(base(rolls));
    const verdict = judgePartition(base(rolls), plan.segments, [4], 5n, rowsEach(10));
    expect(verdict.findings.map((f) => f.kind)).toEqual(['kafka_range']);
    expect(verdict.countMismatches).toBe(0);
  });
});

describe('planPartition with expired ranges (retention)', () => {
  const r = (first: number, last: number) => ({ first: BigInt(first), last: BigInt(last) });

  it('an expired range is no gap and is not counted: it is reported as expired', () => {
    const plan = planPartition(base([roll(201, 300)], { checkpoint: 300n, expired: [r(0, 199)] }));
    expect(plan.expired).toBe(1);
    expect(plan.overlaps).toBe(0);
    // The hole between the expired range and the kept roll is still checked; nothing below it is asked for.
    expect(plan.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([
      ['gap', 200n, 200n],
      ['component', 201n, 300n],
    ]);
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'expired', first: '0', last: '199' })]);
  });

  it('a component taking in an expired range (it lost some files) is not counted; the tiling goes on after it', () => {
    const inside = planPartition(base([roll(50, 99), roll(201, 300)], { checkpoint: 300n, expired: [r(0, 199)] }));
    expect(inside.segments.map((s) => s.kind)).toEqual(['gap', 'component']);
    expect(inside.overlaps).toBe(0);
    // A file merged in a dt retention kept, reaching past the expired range: no overlap, no count, no gap.
    const crossing = planPartition(base([roll(150, 250), roll(251, 260)], { checkpoint: 260n, expired: [r(0, 199)] }));
    expect(crossing.overlaps).toBe(0);
    expect(crossing.expired).toBe(1);
    expect(crossing.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([['component', 251n, 260n]]);
  });

  it('without the expiry record the same lake has a gap where the expired range was', () => {
    const plan = planPartition(base([roll(201, 300)], { checkpoint: 300n }));
    expect(plan.expired).toBe(0);
    expect(plan.segments[0]).toMatchObject({ kind: 'gap', range: r(0, 200) });
  });
});
