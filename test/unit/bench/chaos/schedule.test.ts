import { describe, expect, it } from 'vitest';
import { planChaos, type ChaosPlanOptions } from '../../../../bench/chaos/schedule.js';

const base: ChaosPlanOptions = {
  seed: 42,
  durationMs: 600_000,
  kills: 20,
  brokerRestarts: 2,
  brokerDownMs: 30_000,
  brokerSettleMs: 20_000,
  brokers: 3,
  minGapMs: 5_000,
};

describe('planChaos', () => {
  it('is the same plan for the same seed and another for another seed', () => {
    expect(planChaos(base)).toEqual(planChaos(base));
    expect(planChaos({ ...base, seed: 43 })).not.toEqual(planChaos(base));
  });

  it('places K kills and one SIGTERM inside the run, sorted, at least the gap apart', () => {
    for (let seed = 0; seed < 200; seed++) {
      const { processActions } = planChaos({ ...base, seed });
      expect(processActions.filter((a) => a.kind === 'kill9')).toHaveLength(20);
      expect(processActions.filter((a) => a.kind === 'sigterm')).toHaveLength(1);
      expect(processActions.find((a) => a.kind === 'sigterm')?.underLoad).toBe(true);
      for (const [i, a] of processActions.entries()) {
        expect(a.atMs).toBeGreaterThanOrEqual(30_000);
        expect(a.atMs).toBeLessThanOrEqual(552_000);
        if (i > 0) expect(a.atMs - processActions[i - 1]!.atMs).toBeGreaterThanOrEqual(5_000);
      }
    }
  });

  it('sends most kills to a process at work and some anywhere, start-up included', () => {
    const kills = Array.from({ length: 50 }, (_, seed) =>
      planChaos({ ...base, seed }).processActions.filter((a) => a.kind === 'kill9'),
    ).flat();
    const atWork = kills.filter((k) => k.underLoad).length / kills.length;
    expect(atWork).toBeGreaterThan(0.65);
    expect(atWork).toBeLessThan(0.85);
    for (const k of kills) expect(k.afterLoadMs).toBe(k.underLoad ? k.afterLoadMs : 0);
    expect(kills.some((k) => k.underLoad && k.afterLoadMs > 2_000)).toBe(true);
  });

  it('never overlaps two broker outages and ends them before the run does', () => {
    for (let seed = 0; seed < 200; seed++) {
      const { brokerOutages } = planChaos({ ...base, seed, brokerRestarts: 3 });
      expect(brokerOutages).toHaveLength(3);
      for (const [i, o] of brokerOutages.entries()) {
        expect([1, 2, 3]).toContain(o.nodeId);
        expect(o.downMs).toBe(30_000);
        expect(o.atMs + 50_000).toBeLessThanOrEqual(600_000);
        if (i > 0) expect(o.atMs - brokerOutages[i - 1]!.atMs).toBeGreaterThanOrEqual(50_000);
      }
    }
  });

  it('fits the short CI run (60 s, 3 kills, 1 broker restart) and refuses a plan that cannot fit', () => {
    const plan = planChaos({ ...base, durationMs: 60_000, kills: 3, brokerRestarts: 1 });
    expect(plan.processActions).toHaveLength(4);
    expect(plan.brokerOutages).toHaveLength(1);
    expect(() => planChaos({ ...base, durationMs: 60_000, brokerRestarts: 2 })).toThrow(/do not fit/);
  });
});
