import { describe, expect, it } from 'vitest';
import { Pacer } from '../../../src/producer/pacer.js';

describe('Pacer.msUntilDue / oldestDueAtMs (linger support)', () => {
  it('tells when a whole batch will be due', () => {
    const pacer = new Pacer({ ratePerSecond: 100, startMs: 0, limit: Infinity });
    expect(pacer.msUntilDue(50, 0)).toBe(500);
    expect(pacer.msUntilDue(50, 200)).toBe(300);
    expect(pacer.msUntilDue(50, 500)).toBe(0);
    pacer.take(20);
    expect(pacer.msUntilDue(50, 500)).toBe(200);
  });

  it('caps the wanted events at what is left of a count', () => {
    const pacer = new Pacer({ ratePerSecond: 100, startMs: 0, limit: 10 });
    expect(pacer.msUntilDue(50, 0)).toBe(100);
    pacer.take(10);
    expect(pacer.msUntilDue(50, 0)).toBe(Infinity);
  });

  it('tells when the oldest event not yet issued became due', () => {
    const pacer = new Pacer({ ratePerSecond: 4, startMs: 1_000, limit: Infinity });
    expect(pacer.oldestDueAtMs()).toBe(1_250);
    pacer.take(3);
    expect(pacer.oldestDueAtMs()).toBe(2_000);
  });

  it('is immediate at an unlimited rate', () => {
    const pacer = new Pacer({ ratePerSecond: 0, startMs: 1_000, limit: 100 });
    expect(pacer.msUntilDue(50, 1_000)).toBe(0);
    expect(pacer.oldestDueAtMs()).toBe(1_000);
  });
});
