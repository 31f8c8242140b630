import { describe, expect, it } from 'vitest';
import { dayEndMs, judgeSealable } from '../../../src/lake/sealRule.js';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

describe('judgeSealable: a day seals once the watermark passed its end plus seal_after, and it is compacted', () => {
  it('takes the end of the UTC day, not local time, and refuses what is not a day', () => {
    expect(dayEndMs('2026-12-04')).toBe(at('2026-12-05T00:00:00Z'));
    expect(dayEndMs('2026-02-28')).toBe(at('2026-03-01T00:00:00Z'));
    expect(() => dayEndMs('2026-12-4')).toThrow(RangeError);
  });

  it('waits for the watermark bound to reach the end of the day plus seal_after, not a millisecond less', () => {
    const sealFrom = at('2026-12-05T01:00:00Z');
    const judge = (boundMs: number) => judgeSealable([{ dt: '2026-12-04', compacted: true }], boundMs, HOUR)[0]!;
    expect(judge(sealFrom - 1)).toEqual({
      dt: '2026-12-04',
      sealable: false,
      reason: 'watermark_behind',
      sealableFromMs: sealFrom,
    });
    expect(judge(sealFrom)).toEqual({ dt: '2026-12-04', sealable: true, sealableFromMs: sealFrom });
    // The day after is still open in event time.
    expect(judgeSealable([{ dt: '2026-12-05', compacted: true }], sealFrom, HOUR)[0]!.reason).toBe('watermark_behind');
  });

  it('does not seal a day compaction would still merge', () => {
    const [d] = judgeSealable([{ dt: '2026-12-04', compacted: false }], at('2026-12-09T00:00:00Z'), HOUR);
    expect(d).toMatchObject({ sealable: false, reason: 'not_compacted' });
  });

  it('seals nothing without a bound: an IoT-only platform or a lake without windows has no watermark to read', () => {
    const decisions = judgeSealable(
      [
        { dt: '2020-01-01', compacted: true },
        { dt: '2026-12-04', compacted: true },
      ],
      undefined,
      0,
    );
    expect(decisions.map((d) => [d.sealable, d.reason])).toEqual([
      [false, 'no_watermark_bound'],
      [false, 'no_watermark_bound'],
    ]);
  });

  it('an idle platform: the bound stops at its last closed window, so only the days before it seal', () => {
    const lastWindowEnd = at('2026-12-05T00:30:00Z'); // the last events, then silence
    const decisions = judgeSealable(
      [
        { dt: '2026-12-03', compacted: true },
        { dt: '2026-12-04', compacted: true },
      ],
      lastWindowEnd,
      HOUR,
    );
    expect(decisions.map((d) => d.sealable)).toEqual([true, false]);
  });
});
