import { describe, expect, it } from 'vitest';
import { aggFileName, rawFileName, rejectedFileName } from '../../../src/lake/layout.js';
import { dtExpires, planExpiry } from '../../../src/lake/retention.js';

const DAY = 86_400_000;
const at = (iso: string): number => Date.parse(iso);

describe('dtExpires: a dt expires when its whole UTC day ended more than N days ago', () => {
  it('keeps a day until N whole days after its end have passed, then expires it', () => {
    // 2026-12-01 ends at 2026-12-02T00:00Z; with N = 3 it expires after 2026-12-05T00:00Z.
    expect(dtExpires('2026-12-01', at('2026-12-05T00:00:00Z'), 3)).toBe(false);
    expect(dtExpires('2026-12-01', at('2026-12-05T00:00:00Z') + 1, 3)).toBe(true);
    expect(dtExpires('2026-12-04', at('2026-12-05T00:00:00Z') + 1, 3)).toBe(false);
    expect(dtExpires('2026-12-01', at('2026-12-01T12:00:00Z') + 30 * DAY, 30)).toBe(false);
  });

  it('is UTC, not local time, and takes no day that is not a date', () => {
    expect(dtExpires('2026-02-28', at('2026-03-02T00:00:00Z') + 1, 1)).toBe(true);
    expect(dtExpires('2026-02-31', at('2030-01-01T00:00:00Z'), 1)).toBe(false);
  });
});

describe('planExpiry: which dt partitions of which tables go', () => {
  const now = at('2026-12-10T08:00:00Z');
  const f = (path: string, sizeBytes = 10) => ({ path, sizeBytes });
  const files = [
    f(`tables/clickstream/dt=2026-12-01/${rawFileName(0, 0, 99)}`, 100),
    f(`tables/clickstream/dt=2026-12-01/${rawFileName(1, 0, 49)}`, 50),
    f(`tables/clickstream/dt=2026-12-08/${rawFileName(0, 100, 199)}`),
    f(`tables/iot/dt=2026-12-02/${rawFileName(0, 0, 9)}`, 7),
    f(`tables/_rejected/dt=2026-12-01/${rejectedFileName('clicks', 0, 0, 99)}`, 3),
    f(`tables/clickstream_agg/dt=2026-12-01/${aggFileName(3)}`, 5),
    f(`tables/other/dt=2026-12-01/x.parquet`),
    f('tables/clickstream/notes.txt'),
  ];

  it('lists every table and dt older than the retention, with files and bytes; newer dts and unknown tables stay', () => {
    const plan = planExpiry(files, now, 3);
    expect(plan.held).toEqual([]);
    expect(plan.expiring.map((e) => [e.table, e.dt, e.files.length, e.bytes])).toEqual([
      ['_rejected', '2026-12-01', 1, 3],
      ['clickstream', '2026-12-01', 2, 150],
      ['clickstream_agg', '2026-12-01', 1, 5],
      ['iot', '2026-12-02', 1, 7],
    ]);
  });

  it('expires nothing within the retention', () => {
    expect(planExpiry(files, now, 30).expiring).toEqual([]);
  });

  it('holds back a whole dt (every table) while it holds a tmp file', () => {
    const tmp = f(`tables/iot/dt=2026-12-01/${rawFileName(2, 0, 5)}.abc.tmp`);
    const held = planExpiry([...files, tmp], now, 3);
    expect(held.expiring.map((e) => e.dt)).toEqual(['2026-12-02']);
    expect(held.held).toEqual([{ dt: '2026-12-01', reason: expect.stringContaining('not committed yet') }]);
  });
});
