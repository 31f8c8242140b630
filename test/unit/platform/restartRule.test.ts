import { describe, expect, it } from 'vitest';
import { RESTART_POLICY, restartDecision } from '../../../src/platform/restartRule.js';

const NOW = 10_000_000;
const retriable = { retriable: true };

describe('restartDecision', () => {
  it('stops at once on a failure that is not retriable, however few restarts came before', () => {
    expect(restartDecision({ retriable: false }, [], NOW)).toEqual({
      action: 'fatal',
      reason: 'not-retriable',
      restarts: 0,
    });
  });

  it('restarts a retriable failure after 1, 2, 4, 8, 16 s', () => {
    let past: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const decision = restartDecision(retriable, past, NOW + i);
      if (decision.action !== 'restart') throw new Error(`restart ${i + 1} refused`);
      expect(decision.attempt).toBe(i + 1);
      delays.push(decision.delayMs);
      past = decision.restartsMs;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(past).toEqual([NOW, NOW + 1, NOW + 2, NOW + 3, NOW + 4]);
  });

  it('stops after MAX restarts within the window', () => {
    const past = [1, 2, 3, 4, 5].map((i) => NOW - i * 1_000);
    expect(restartDecision(retriable, past, NOW)).toEqual({
      action: 'fatal',
      reason: 'too-many-restarts',
      restarts: 5,
    });
  });

  it('forgets restarts older than the window, and counts the back-off from those left', () => {
    const old = NOW - RESTART_POLICY.windowMs;
    const decision = restartDecision(retriable, [old, old, old, old, NOW - 1_000], NOW);
    expect(decision).toEqual({ action: 'restart', attempt: 2, delayMs: 2_000, restartsMs: [NOW - 1_000, NOW] });
  });

  it('caps the back-off at the policy maximum', () => {
    const policy = { ...RESTART_POLICY, maxRestarts: 10 };
    const past = Array.from({ length: 7 }, (_, i) => NOW - i);
    const decision = restartDecision(retriable, past, NOW, policy);
    expect(decision).toMatchObject({ action: 'restart', attempt: 8, delayMs: 30_000 });
  });
});
