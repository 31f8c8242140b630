import { describe, expect, it } from 'vitest';
import { planAssignment, type AssignmentFacts } from '../../../src/etl/assignmentPlan.js';

function facts(over: Partial<AssignmentFacts> = {}): AssignmentFacts {
  return { assigned: [], revoked: [], owned: new Set(), takingOver: new Set(), positions: new Map(), ...over };
}

describe('planAssignment', () => {
  it('takes every partition new to the member over before it is read', () => {
    const plan = planAssignment(facts({ assigned: [0, 1] }));
    expect(plan.takeOver).toEqual([0, 1]);
    expect([...plan.seeks]).toEqual([]);
    expect(plan.release).toEqual([]);
  });

  it('keeps a partition it runs through a rebalance, seeking to its position', () => {
    const plan = planAssignment(facts({ assigned: [0, 1], owned: new Set([0]), positions: new Map([[0, '250']]) }));
    expect(plan.takeOver).toEqual([1]);
    expect([...plan.seeks]).toEqual([[0, '250']]);
  });

  it('takes over an owned partition that has no position yet rather than guess where it stands', () => {
    const plan = planAssignment(facts({ assigned: [0], owned: new Set([0]) }));
    expect(plan.takeOver).toEqual([0]);
  });

  it('leaves a takeover in flight alone, and releases it when revoked', () => {
    expect(planAssignment(facts({ assigned: [3], takingOver: new Set([3]) })).takeOver).toEqual([]);
    const plan = planAssignment(
      facts({ assigned: [], revoked: [3, 4], takingOver: new Set([3]), owned: new Set([4]) }),
    );
    expect(plan.release).toEqual([3, 4]);
  });

  it('releases nothing for a revoked partition it never had', () => {
    expect(planAssignment(facts({ revoked: [7] })).release).toEqual([]);
  });
});
