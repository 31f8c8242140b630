import { describe, expect, it } from 'vitest';
import { WindowTally } from '../../../src/verify/windowTally.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 4);

describe('WindowTally', () => {
  it('counts raw events into their minute, and late = raw − pv − open per window', () => {
    const tally = new WindowTally(MIN, ['agg/a.parquet', 'agg/b.parquet']);
    for (const s of [0, 1, 59.999]) tally.addRaw(T0 + s * 1000, '/x');
    tally.addRaw(T0 + MIN, '/x');
    tally.addRaw(T0 + MIN, '/y');
    tally.addAgg(T0, T0 + MIN, '/x', 2, 1); // /x at T0: raw 3, pv 2: one late
    tally.addAgg(T0 + MIN, T0 + 2 * MIN, '/x', 1, 0); // /x at T0+1: raw 1, pv 1
    tally.addOpen(T0 + MIN, '/y', 1); // /y at T0+1: raw 1, open 1
    tally.addOpen(T0 + 2 * MIN, '/z', 2); // /z at T0+2: open 2, raw 0: over
    const facts = tally.facts();
    expect(facts.windows).toBe(2);
    expect(facts.short).toEqual({
      count: 1,
      sum: 1,
      examples: [{ minuteStartMs: T0, url: '/x', raw: 3, pv: 2, open: 0, file: 'agg/b.parquet' }],
    });
    expect(facts.overRaw).toEqual({
      count: 1,
      examples: [{ minuteStartMs: T0 + 2 * MIN, url: '/z', raw: 0, pv: 0, open: 2, file: null }],
    });
    expect(facts.emittedTwice.count).toBe(0);
    expect(facts.badBounds.count).toBe(0);
    expect(tally.windowCount).toBe(4);
  });

  it('a window emitted twice is counted once and names the lowest file; bad bounds keep the first ten', () => {
    const files = Array.from({ length: 3 }, (_, i) => `agg/${i}.parquet`);
    const tally = new WindowTally(MIN, files);
    tally.addAgg(T0, T0 + MIN, '/x', 1, 2);
    tally.addAgg(T0, T0 + MIN, '/x', 1, 1);
    tally.addAgg(T0, T0 + MIN, '/x', 1, 2);
    for (let i = 12; i >= 0; i--) tally.addAgg(T0 + i * MIN + 1, T0 + (i + 1) * MIN, `/b${i}`, 0, 0);
    const facts = tally.facts();
    expect(facts.windows).toBe(16);
    expect(facts.emittedTwice.count).toBe(1);
    expect(facts.emittedTwice.examples).toEqual([{ minuteStartMs: T0, url: '/x', files: [] }]);
    expect(facts.overRaw.examples[0]).toMatchObject({ url: '/x', pv: 3, file: 'agg/1.parquet' });
    expect(facts.badBounds.count).toBe(13);
    expect(facts.badBounds.examples.map((e) => e.url)).toEqual(Array.from({ length: 10 }, (_, i) => `/b${i}`));
    expect(facts.badBounds.examples[0]).toEqual({
      minuteStartMs: T0 + 1,
      minuteEndMs: T0 + MIN,
      url: '/b0',
      file: 'agg/0.parquet',
    });
  });

  it('holds a day of windows in typed columns: little heap per window', () => {
    // A day at the default rates: 1,440 minutes × ~300 urls.
    const urls = Array.from({ length: 300 }, (_, u) => `/page/${u}/${'x'.repeat(30)}`);
    const before = process.memoryUsage().heapUsed;
    const tally = new WindowTally(MIN, ['agg/a.parquet']);
    for (let m = 0; m < 1_440; m++)
      for (const url of urls) {
        tally.addRaw(T0 + m * MIN + 5, url);
        tally.addAgg(T0 + m * MIN, T0 + (m + 1) * MIN, url, 1, 0);
      }
    const heapPerWindow = (process.memoryUsage().heapUsed - before) / tally.windowCount;
    expect(tally.windowCount).toBe(432_000);
    expect(tally.facts().short.count).toBe(0);
    // ~50 here; a Map of objects keyed by minute and url text took ~230.
    expect(heapPerWindow).toBeLessThan(100);
  });
});
