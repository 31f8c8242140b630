import { describe, expect, it } from 'vitest';
import { planAssignment, type AssignmentFacts } from '../../../src/etl/assignmentPlan.js';

/** A member that owns nothing yet; partitions start at their checkpoint, here 100 + the partition. */
function facts(over: Partial<AssignmentFacts> = {}): AssignmentFacts {
  return {
    assigned: [],
    revoked: [],
    owned: new Set(),
    kept: new Map(),
    positions: new Map(),
    committedToKafka: new Map(),
    startOf: (p) => String(100 + p),
    ...over,
  };
}

describe('planAssignment', () => {
  it('spawns an actor per new partition, starting at its checkpoint, and commits that start', () => {
    const plan = planAssignment(facts({ assigned: [0, 1] }));
    expect(plan.spawn).toEqual([0, 1]);
    expect(plan.takeBack).toEqual([]);
    expect([...plan.starts]).toEqual([
      [0, '100'],
      [1, '101'],
    ]);
    expect([...plan.commits]).toEqual([
      [0, '100'],
      [1, '101'],
    ]);
    expect(plan.setAside).toEqual([]);
    expect(plan.release).toEqual([]);
  });

  it('keeps the position of a partition it already owns (a re-assignment), and spawns nothing for it', () => {
    const plan = planAssignment(facts({ assigned: [0, 1], owned: new Set([0]), positions: new Map([[0, '250']]) }));
    expect(plan.spawn).toEqual([1]);
    expect(plan.starts.get(0)).toBe('250');
  });

  it('takes a kept actor back at the position it stood at, or at its checkpoint when it had none', () => {
    const plan = planAssignment(
      facts({
        assigned: [2, 3],
        kept: new Map<number, string | undefined>([
          [2, '777'],
          [3, undefined],
        ]),
      }),
    );
    expect(plan.spawn).toEqual([]);
    expect(plan.takeBack).toEqual([2, 3]);
    expect(plan.starts.get(2)).toBe('777');
    expect(plan.starts.get(3)).toBe('103');
  });

  it('commits a start only when it is past what the group already holds', () => {
    const plan = planAssignment(
      facts({
        assigned: [0, 1, 2],
        committedToKafka: new Map([
          [0, '100'],
          [1, '50'],
          [2, '900'],
        ]),
      }),
    );
    expect([...plan.commits]).toEqual([[1, '101']]);
  });

  it('sets aside the actors of revoked partitions with their position, and releases every revoked one', () => {
    const plan = planAssignment(
      facts({
        revoked: [0, 5],
        owned: new Set([0, 1]),
        positions: new Map([
          [0, '300'],
          [1, '400'],
        ]),
      }),
    );
    expect(plan.setAside).toEqual([{ partition: 0, position: '300' }]);
    expect(plan.release).toEqual([0, 5]);
    expect(plan.starts.size).toBe(0);
  });

  it('a partition assigned and revoked in one call is set aside at its new start', () => {
    const plan = planAssignment(facts({ assigned: [4], revoked: [4] }));
    expect(plan.spawn).toEqual([4]);
    expect(plan.setAside).toEqual([{ partition: 4, position: '104' }]);
    expect(plan.release).toEqual([4]);
  });
});
