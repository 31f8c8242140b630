import { describe, expect, it } from 'vitest';
import {
  dtsOutOfWindowAccounting,
  judgeWindows,
  type WindowExample,
  type WindowFacts,
} from '../../../src/verify/windowRules.js';

const M = Date.UTC(2024, 4, 1, 12, 0);
const w = (raw: number, pv: number, open = 0): WindowExample => ({
  minuteStartMs: M,
  url: '/a',
  raw,
  pv,
  open,
  file: 'tables/clickstream_agg/dt=2024-05-01/part-1.parquet',
});

function facts(more: Partial<WindowFacts> = {}): WindowFacts {
  return {
    windows: 10,
    emittedTwice: { count: 0, examples: [] },
    badBounds: { count: 0, examples: [] },
    overRaw: { count: 0, examples: [] },
    short: { count: 0, sum: 0, examples: [] },
    ...more,
  };
}

describe('judgeWindows', () => {
  it('exact: holds when raw − pv − open is never negative and sums to the late-event total', () => {
    const f = facts({ short: { count: 2, sum: 5, examples: [w(10, 7), w(3, 1)] } });
    expect(judgeWindows(f, { mode: 'exact', lateEventsTotal: 5 })).toEqual({ findings: [], mismatches: 0 });
  });

  it('exact, no late event ever: every window short of its raw events is named', () => {
    const f = facts({ short: { count: 1, sum: 1, examples: [w(10, 9)] } });
    const v = judgeWindows(f, { mode: 'exact', lateEventsTotal: 0 });
    expect(v.mismatches).toBe(1);
    expect(v.findings[0]).toMatchObject({ kind: 'window_mismatch', table: 'clickstream_agg' });
    expect(v.findings[0]!.message).toBe(
      'window 2024-05-01T12:00:00.000Z /a: pv 9, raw 10: fewer page views than raw events, and no event was late',
    );
  });

  it('exact, with late events: a sum that differs is one mismatch listing the windows short of raw events', () => {
    const v = judgeWindows(facts({ short: { count: 2, sum: 6, examples: [w(10, 7), w(3, 0)] } }), {
      mode: 'exact',
      lateEventsTotal: 5,
    });
    expect(v.mismatches).toBe(1);
    expect(v.findings[0]!.message).toContain('add up to 6 over 2 windows, the checkpoint store counts 5 late events');
  });

  it('more page views (plus open counts) than raw events is a mismatch in every mode that compares', () => {
    const f = facts({ overRaw: { count: 1, examples: [w(4, 3, 2)] } });
    for (const mode of ['exact', 'bounded'] as const)
      expect(judgeWindows(f, { mode, lateEventsTotal: 0 }).mismatches).toBe(1);
    const ahead = judgeWindows(f, { mode: 'raw-ahead', reason: 'partition 0 ahead' });
    expect(ahead.mismatches).toBe(1);
    expect(ahead.findings.map((x) => x.kind)).toEqual(['window_mismatch', 'note']);
    expect(ahead.findings[0]!.message).toContain('pv 3 + open 2, raw 4');
  });

  it('bounded (--since): the shortfall may be below the total, not above it', () => {
    const f = facts({ short: { count: 1, sum: 3, examples: [w(5, 2)] } });
    expect(judgeWindows(f, { mode: 'bounded', lateEventsTotal: 7 }).mismatches).toBe(0);
    expect(judgeWindows(f, { mode: 'bounded', lateEventsTotal: 2 }).mismatches).toBe(1);
  });

  it('none: duplicates and bounds still count, page views are only noted', () => {
    const v = judgeWindows(
      facts({
        emittedTwice: { count: 1, examples: [{ minuteStartMs: M, url: '/a', files: ['f1', 'f2'] }] },
        badBounds: { count: 1, examples: [{ minuteStartMs: M, minuteEndMs: M + 1000, url: '/b', file: 'f3' }] },
        overRaw: { count: 4, examples: [w(1, 2)] },
      }),
      { mode: 'none', reason: 'the raw table is behind' },
    );
    expect(v.mismatches).toBe(2);
    expect(v.findings.map((f) => f.kind)).toEqual(['window_mismatch', 'window_mismatch', 'note']);
    expect(v.findings[0]!.message).toBe('window 2024-05-01T12:00:00.000Z /a emitted 2 times');
  });
});

describe('dtsOutOfWindowAccounting: the days retention left out of the window accounting', () => {
  it('a day some owner of clickstream or clickstream_agg expired is left out', () => {
    expect([...dtsOutOfWindowAccounting({ dts: { clickstream: ['2024-05-01'] } })]).toEqual(['2024-05-01']);
    expect([...dtsOutOfWindowAccounting({ dts: { clickstream_agg: ['2024-05-02'] } })]).toEqual(['2024-05-02']);
    expect(dtsOutOfWindowAccounting(undefined).size).toBe(0);
  });

  it('an iot or _rejected expiry of a day keeps its windows accounted for', () => {
    const iotOnly = { dts: { iot: ['2024-05-01'], _rejected: ['2024-05-01'], clickstream: ['2024-04-30'] } };
    expect([...dtsOutOfWindowAccounting(iotOnly)]).toEqual(['2024-04-30']);
  });
});
