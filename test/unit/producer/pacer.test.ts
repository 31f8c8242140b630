import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { Pacer } from '../../../src/producer/pacer.js';

/** A realistic start: epoch millis of today, not 0. */
const START_MS = 1_700_000_000_123;

describe('Pacer', () => {
  it('issues exactly floor(rate × elapsed) events by any instant, whatever the tick times', () => {
    const random = mulberry32(7);
    for (const rate of [1, 3, 7, 60, 120, 999, 1000, 4321]) {
      const pacer = new Pacer({ ratePerSecond: rate, startMs: START_MS, limit: Infinity });
      let elapsedMs = 0;
      for (let tick = 0; tick < 500; tick++) {
        elapsedMs += Math.floor(random() * 700);
        pacer.take(pacer.due(START_MS + elapsedMs));
        // Integer arithmetic for the expectation: no float rounding can hide a drift.
        expect(pacer.issuedTotal, `rate ${rate} at +${elapsedMs} ms`).toBe(Math.floor((rate * elapsedMs) / 1000));
      }
    }
  });

  it('counts only the budget not taken yet, and nothing before the start', () => {
    const pacer = new Pacer({ ratePerSecond: 3, startMs: START_MS, limit: Infinity });
    expect(pacer.due(START_MS - 5_000)).toBe(0);
    expect(pacer.due(START_MS)).toBe(0);
    expect(pacer.due(START_MS + 333)).toBe(0);
    expect(pacer.due(START_MS + 334)).toBe(1);
    pacer.take(1);
    expect(pacer.due(START_MS + 334)).toBe(0);
    expect(pacer.due(START_MS + 2_000)).toBe(5);
    // Taking more than due (a batch rounded up) is paid back before anything else is due.
    pacer.take(10);
    expect(pacer.due(START_MS + 2_000)).toBe(0);
    expect(pacer.due(START_MS + 3_999)).toBe(0);
    expect(pacer.due(START_MS + 4_000)).toBe(1);
  });

  it('never goes past its limit', () => {
    const pacer = new Pacer({ ratePerSecond: 100, startMs: START_MS, limit: 5 });
    expect(pacer.exhausted).toBe(false);
    expect(pacer.due(START_MS + 10_000)).toBe(5);
    pacer.take(3);
    expect(pacer.due(START_MS + 10_000)).toBe(2);
    pacer.take(2);
    expect(pacer.exhausted).toBe(true);
    expect(pacer.due(START_MS + 100_000)).toBe(0);
    expect(pacer.msUntilNext(START_MS + 100_000)).toBe(Infinity);
  });

  it('with rate 0 (unlimited) has everything left due at once', () => {
    const pacer = new Pacer({ ratePerSecond: 0, startMs: START_MS, limit: 1_000 });
    expect(pacer.unlimitedRate).toBe(true);
    expect(pacer.due(START_MS)).toBe(1_000);
    expect(pacer.msUntilNext(START_MS)).toBe(0);
    pacer.take(400);
    expect(pacer.due(START_MS)).toBe(600);
    pacer.take(600);
    expect(pacer.due(START_MS)).toBe(0);
    expect(pacer.msUntilNext(START_MS)).toBe(Infinity);
    expect(new Pacer({ ratePerSecond: 0, startMs: START_MS, limit: Infinity }).due(START_MS)).toBe(Infinity);
  });

  it('msUntilNext is the wait until the next event is due', () => {
    const pacer = new Pacer({ ratePerSecond: 4, startMs: START_MS, limit: Infinity });
    expect(pacer.msUntilNext(START_MS)).toBe(250);
    expect(pacer.msUntilNext(START_MS + 100)).toBe(150);
    expect(pacer.msUntilNext(START_MS + 250)).toBe(0);
    pacer.take(1);
    expect(pacer.msUntilNext(START_MS + 250)).toBe(250);
    expect(pacer.msUntilNext(START_MS + 10_000)).toBe(0);
  });

  it('msUntilNext is exact to the millisecond: nothing is due a millisecond earlier, something is due then', () => {
    const problems: string[] = [];
    const rates = [...Array.from({ length: 300 }, (_, i) => i + 1), 997, 1_001, 4_999, 12_345, 99_991];
    for (const rate of rates) {
      const pacer = new Pacer({ ratePerSecond: rate, startMs: START_MS, limit: Infinity });
      let nowMs = START_MS;
      for (let i = 0; i < 400 && problems.length < 5; i++) {
        const waitMs = pacer.msUntilNext(nowMs);
        if (waitMs > 0 && pacer.due(nowMs + waitMs - 1) !== 0)
          problems.push(`rate ${rate}, ${pacer.issuedTotal} issued: due before +${waitMs} ms`);
        nowMs += waitMs;
        if (pacer.due(nowMs) < 1)
          problems.push(
            `rate ${rate}, ${pacer.issuedTotal} issued: msUntilNext said ${waitMs} ms but nothing is due then`,
          );
        pacer.take(1);
      }
    }
    expect(problems).toEqual([]);
  });
});
