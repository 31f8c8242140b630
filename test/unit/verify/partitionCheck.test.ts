import { describe, expect, it } from 'vitest';
import type { Roll } from '../../../src/verify/lakeInventory.js';
import { judgePartition, planPartition, type PartitionInput } from '../../../src/verify/partitionCheck.js';

function roll(first: number, last: number, raw = 1, rejected = 0, dt = '2024-05-01'): Roll {
  return {
    topic: 'cs',
    partition: 0,
    first: BigInt(first),
    last: BigInt(last),
    rawFiles: Array.from({ length: raw }, (_, i) => `raw-${first}-${i}`),
    rejectedFiles: Array.from({ length: rejected }, (_, i) => `rej-${first}-${i}`),
    dts: [dt],
  };
}

const base = (rolls: Roll[], more: Partial<PartitionInput> = {}): PartitionInput => ({
  table: 'clickstream',
  topic: 'cs',
  partition: 0,
  rolls,
  checkpoint: undefined,
  logStart: 0n,
  since: undefined,
  ...more,
});

/** Footer rows: every file holds `n` rows. */
const rowsEach = (n: number) => (r: Roll) => ({ raw: r.rawFiles.length * n, rejected: r.rejectedFiles.length * n });

describe('planPartition', () => {
  it('asks Kafka for every roll, every gap and the tail up to the checkpoint, in offset order', () => {
    const plan = planPartition(base([roll(0, 9), roll(11, 20)], { checkpoint: 25n }));
    expect(plan.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([
      ['roll', 0n, 9n],
      ['gap', 10n, 10n],
      ['roll', 11n, 20n],
      ['tail', 21n, 25n],
    ]);
    expect(plan.overlaps).toBe(0);
  });

  it('counts an overlap as a finding naming both rolls, and says when the _rejected range matches no raw range', () => {
    const plan = planPartition(base([roll(0, 9), roll(5, 14, 0, 1)]));
    expect(plan.overlaps).toBe(1);
    expect(plan.findings[0]).toMatchObject({ kind: 'overlap', first: '5', last: '9', files: ['raw-0-0', 'rej-5-0'] });
    expect(plan.findings[0]!.message).toContain('matches no raw file range exactly');
  });

  it('below the log start: a roll is unverifiable (tiling only), a gap is checked from the log start on', () => {
    const plan = planPartition(base([roll(0, 9), roll(15, 30)], { logStart: 12n, checkpoint: 30n }));
    expect(plan.unverifiable).toBe(2);
    expect(plan.segments.map((s) => [s.kind, s.range.first, s.range.last])).toEqual([
      ['gap', 12n, 14n],
      ['roll', 15n, 30n],
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
      ['roll', 22n],
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
      ['roll', 201n, 300n],
    ]);
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'expired', first: '0', last: '199' })]);
  });

  it('a roll inside an expired range (it lost some dt files) is not counted; one crossing it overlaps', () => {
    const inside = planPartition(base([roll(50, 99), roll(201, 300)], { checkpoint: 300n, expired: [r(0, 199)] }));
    expect(inside.segments.map((s) => s.kind)).toEqual(['gap', 'roll']);
    expect(inside.overlaps).toBe(0);
    const crossing = planPartition(base([roll(150, 250)], { expired: [r(0, 199)] }));
    expect(crossing.overlaps).toBe(1);
    expect(crossing.findings.find((f) => f.kind === 'overlap')!.message).toContain('(expired)');
  });

  it('without the expiry record the same lake has a gap where the expired range was', () => {
    const plan = planPartition(base([roll(201, 300)], { checkpoint: 300n }));
    expect(plan.expired).toBe(0);
    expect(plan.segments[0]).toMatchObject({ kind: 'gap', range: r(0, 200) });
  });
});
