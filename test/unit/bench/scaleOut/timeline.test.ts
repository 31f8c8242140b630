import { describe, expect, it } from 'vitest';
import { planScaleOut } from '../../../../bench/scaleOut/timeline.js';

describe('planScaleOut', () => {
  it('spreads the faults over the default five minutes in order: kill, freeze, thaw, alter, join', () => {
    expect(planScaleOut(300_000, 60_000)).toEqual({
      killAtMs: 30_000,
      freezeAtMs: 60_000,
      thawAtMs: 120_000,
      alterAtMs: 150_000,
      joinAtMs: 210_000,
      loadMs: 300_000,
    });
  });

  it('lets the fourth member join only after the frozen one is back, in a two-minute run too', () => {
    const t = planScaleOut(120_000, 60_000);
    // The freeze waits 20 s after the kill, so that the rebalance the kill causes is over first.
    expect(t).toMatchObject({ killAtMs: 12_000, freezeAtMs: 32_000, thawAtMs: 92_000, alterAtMs: 60_000 });
    expect(t.joinAtMs).toBe(102_000);
    expect(t.joinAtMs).toBeLessThanOrEqual(108_000);
  });

  it('refuses a freeze that leaves no time for the join', () => {
    expect(() => planScaleOut(60_000, 60_000)).toThrow(/does not fit/);
  });
});
