import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import {
  coalesce,
  decodeExpiryRecord,
  emptyExpiryRecord,
  encodeExpiryRecord,
  inExpiredDt,
  mergeExpiry,
  unionExpiryRecords,
} from '../../../src/lake/expiryRecord.js';
import { aggFileName, aggTaskFileName, rawFileName, rejectedFileName } from '../../../src/lake/layout.js';

const topics = { clickstream: 'clicks', iot: 'sensors' };
const raw = (table: string, dt: string, p: number, first: number, last: number) =>
  `tables/${table}/dt=${dt}/${rawFileName(p, first, last)}`;
const rej = (dt: string, topic: string, p: number, first: number, last: number) =>
  `tables/_rejected/dt=${dt}/${rejectedFileName(topic, p, first, last)}`;
const agg = (dt: string, seq: number) => `tables/clickstream_agg/dt=${dt}/${aggFileName(seq)}`;
const r = (first: number, last: number) => ({ first: BigInt(first), last: BigInt(last) });

describe('coalesce: expired ranges merge across holes no remaining roll lies in', () => {
  it('merges overlapping, touching and separated ranges, but not across a roll that stays', () => {
    expect(coalesce([r(0, 9), r(5, 12), r(13, 20)], [])).toEqual([r(0, 20)]);
    expect(coalesce([r(30, 40), r(0, 9)], [])).toEqual([r(0, 40)]);
    expect(coalesce([r(0, 9), r(30, 40)], [r(12, 20)])).toEqual([r(0, 9), r(30, 40)]);
    expect(coalesce([r(0, 9), r(30, 40)], [r(50, 60)])).toEqual([r(0, 40)]);
  });
});

describe('mergeExpiry: the record after a deletion', () => {
  const base = {
    topics,
    deletedAggEmittedUntilMs: Date.parse('2026-12-01T23:59:00Z'),
    nowMs: Date.parse('2026-12-10T00:00:00Z'),
    retentionDays: 3,
  };

  it('keeps per partition the floor (highest last offset expired) and the expired ranges, and the aggregator', () => {
    const record = mergeExpiry({
      ...base,
      previous: emptyExpiryRecord(),
      deleted: [
        { table: 'clickstream', dt: '2026-12-01', files: [raw('clickstream', '2026-12-01', 0, 0, 99)] },
        {
          table: 'clickstream',
          dt: '2026-12-02',
          files: [raw('clickstream', '2026-12-02', 0, 101, 180), raw('clickstream', '2026-12-02', 2, 0, 5)],
        },
        { table: '_rejected', dt: '2026-12-02', files: [rej('2026-12-02', 'clicks', 0, 182, 190)] },
        { table: 'clickstream_agg', dt: '2026-12-01', files: [agg('2026-12-01', 4), agg('2026-12-01', 9)] },
      ],
      // A roll spanning two dts lost its 2026-12-02 file, keeps its 2026-12-03 one: it does not block.
      remaining: [raw('clickstream', '2026-12-03', 0, 101, 180), raw('clickstream', '2026-12-03', 0, 191, 300)],
    });
    const clicks = record.partitions.get('clicks')!;
    expect(clicks.get(0)).toEqual({ floor: 190n, ranges: [r(0, 190)] });
    expect(clicks.get(2)).toEqual({ floor: 5n, ranges: [r(0, 5)] });
    expect(record.dts).toEqual({
      clickstream: ['2026-12-01', '2026-12-02'],
      _rejected: ['2026-12-02'],
      clickstream_agg: ['2026-12-01'],
    });
    expect(record.agg).toEqual({ seq: 9n, emittedUntilMs: base.deletedAggEmittedUntilMs });
  });

  it("keeps how far the windows reached when only stage-2 tasks' files expired (windows across members)", () => {
    // A new group over the rest of the lake starts its window tasks from it (lake/aggEmittedUntil.ts).
    const task = (dt: string, r: number, first: number, last: number) =>
      `tables/clickstream_agg/dt=${dt}/${aggTaskFileName(r, first, last)}`;
    const record = mergeExpiry({
      ...base,
      previous: emptyExpiryRecord(),
      deleted: [
        {
          table: 'clickstream_agg',
          dt: '2026-12-01',
          files: [task('2026-12-01', 0, 0, 40), task('2026-12-01', 1, 0, 38)],
        },
      ],
      remaining: [],
    });
    expect(record.agg).toEqual({ seq: 0n, emittedUntilMs: base.deletedAggEmittedUntilMs });
    expect(decodeExpiryRecord(encodeExpiryRecord(record), 'test').agg).toEqual(record.agg);
    // A later expiry of the one-process aggregator's files keeps the frontier and takes their sequence.
    const later = mergeExpiry({
      ...base,
      deletedAggEmittedUntilMs: undefined,
      previous: record,
      deleted: [{ table: 'clickstream_agg', dt: '2026-12-02', files: [agg('2026-12-02', 7)] }],
      remaining: [],
    });
    expect(later.agg).toEqual({ seq: 7n, emittedUntilMs: base.deletedAggEmittedUntilMs });
  });

  it('adds to the previous record and never lowers a floor; a roll that stays keeps two ranges apart', () => {
    const first = mergeExpiry({
      ...base,
      previous: emptyExpiryRecord(),
      deleted: [{ table: 'iot', dt: '2026-12-01', files: [raw('iot', '2026-12-01', 1, 500, 599)] }],
      remaining: [raw('iot', '2026-12-05', 1, 300, 399)],
    });
    // A late event's file in an old dt raised the floor above a roll that stays.
    const second = mergeExpiry({
      ...base,
      deletedAggEmittedUntilMs: undefined,
      previous: first,
      deleted: [{ table: 'iot', dt: '2026-12-02', files: [raw('iot', '2026-12-02', 1, 0, 99)] }],
      remaining: [raw('iot', '2026-12-05', 1, 300, 399)],
    });
    expect(second.partitions.get('sensors')!.get(1)).toEqual({ floor: 599n, ranges: [r(0, 99), r(500, 599)] });
    expect(second.dts).toEqual({ iot: ['2026-12-01', '2026-12-02'] });
    expect(second.agg).toBeNull();
  });
});

describe('the record codec', () => {
  it('round-trips, offsets as decimal strings', () => {
    const record = mergeExpiry({
      previous: emptyExpiryRecord(),
      deleted: [
        { table: 'clickstream', dt: '2026-12-01', files: [raw('clickstream', '2026-12-01', 0, 0, 99)] },
        { table: 'clickstream_agg', dt: '2026-12-01', files: [agg('2026-12-01', 4)] },
      ],
      remaining: [],
      topics,
      deletedAggEmittedUntilMs: 1_764_633_600_000,
      nowMs: Date.parse('2026-12-10T00:00:00Z'),
      retentionDays: 3,
    });
    const text = encodeExpiryRecord(record);
    expect(JSON.parse(text)).toMatchObject({
      version: 1,
      retention_days: 3,
      partitions: { clicks: { '0': { floor: '99', ranges: [['0', '99']] } } },
      agg: { seq: '4', emitted_until_ms: 1_764_633_600_000 },
    });
    expect(decodeExpiryRecord(text, 'x')).toEqual(record);
  });

  it.each([
    ['not json', 'not JSON'],
    ['{"version":2}', 'version 2'],
    [
      '{"version":1,"updated":"2026-12-10T00:00:00Z","retention_days":3,"dts":{},"partitions":{"t":{"0":{"floor":"-1","ranges":[]}}},"agg":null}',
      'floor',
    ],
    [
      '{"version":1,"updated":"2026-12-10T00:00:00Z","retention_days":3,"dts":{},"partitions":{"t":{"0":{"floor":"5","ranges":[["9","2"]]}}},"agg":null}',
      'first after last',
    ],
  ])('rejects %s naming what is wrong', (text, what) => {
    expect(() => decodeExpiryRecord(text, '/lake/_expired.json')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.LAKE_EXPIRY_RECORD_INVALID,
        message: expect.stringContaining(what),
      }),
    );
  });
});

describe('inExpiredDt: recovery skips a pending rename into a dt retention deleted', () => {
  it('is true only for a table and dt the record lists', () => {
    const record = { ...emptyExpiryRecord(), dts: { clickstream: ['2026-12-01'] } };
    expect(inExpiredDt(record, raw('clickstream', '2026-12-01', 0, 0, 9))).toBe(true);
    expect(inExpiredDt(record, raw('clickstream', '2026-12-02', 0, 0, 9))).toBe(false);
    expect(inExpiredDt(record, raw('iot', '2026-12-01', 0, 0, 9))).toBe(false);
    expect(inExpiredDt(undefined, raw('clickstream', '2026-12-01', 0, 0, 9))).toBe(false);
  });
});

describe('unionExpiryRecords: the lake record from lake expire and every owner', () => {
  const at = (iso: string) => Date.parse(iso);
  const ownerRecord = (files: string[], remaining: string[], nowIso: string) =>
    mergeExpiry({
      previous: emptyExpiryRecord(),
      deleted: [{ table: 'clickstream', dt: '2026-12-01', files }],
      remaining,
      topics,
      deletedAggEmittedUntilMs: undefined,
      nowMs: at(nowIso),
      retentionDays: 3,
    });

  it('unions dts, ranges and floors per partition; merges only ranges that meet across records', () => {
    const lakeExpire = mergeExpiry({
      previous: emptyExpiryRecord(),
      deleted: [
        { table: 'clickstream', dt: '2026-11-30', files: [raw('clickstream', '2026-11-30', 1, 0, 9)] },
        { table: 'clickstream_agg', dt: '2026-11-30', files: [agg('2026-11-30', 4)] },
      ],
      remaining: [],
      topics,
      deletedAggEmittedUntilMs: at('2026-11-30T23:59:00Z'),
      nowMs: at('2026-12-04T00:00:00Z'),
      retentionDays: 3,
    });
    const p1 = ownerRecord(
      [raw('clickstream', '2026-12-01', 1, 10, 19), raw('clickstream', '2026-12-01', 1, 30, 39)],
      [],
      '2026-12-05T00:00:00Z',
    );
    const p2 = ownerRecord([raw('clickstream', '2026-12-01', 2, 0, 4)], [], '2026-12-05T00:01:00Z');
    const u = unionExpiryRecords([lakeExpire, p1, p2])!;
    expect(u.dts).toEqual({ clickstream: ['2026-11-30', '2026-12-01'], clickstream_agg: ['2026-11-30'] });
    // [0, 9] and [10, 19] touch; [30, 39] was coalesced with [10, 19] inside p1's own record (no file of its own between).
    expect(u.partitions.get('clicks')!.get(1)).toEqual({ floor: 39n, ranges: [r(0, 39)] });
    expect(u.partitions.get('clicks')!.get(2)).toEqual({ floor: 4n, ranges: [r(0, 4)] });
    expect(u.agg).toEqual({ seq: 4n, emittedUntilMs: at('2026-11-30T23:59:00Z') });
    expect(u.updated).toBe('2026-12-05T00:01:00.000Z');
  });

  it('keeps a hole between ranges of different records: another record cannot tell what lies in it', () => {
    const a = ownerRecord([raw('clickstream', '2026-12-01', 1, 0, 9)], [], '2026-12-05T00:00:00Z');
    const b = ownerRecord([raw('clickstream', '2026-12-01', 1, 20, 29)], [], '2026-12-06T00:00:00Z');
    expect(unionExpiryRecords([a, b])!.partitions.get('clicks')!.get(1)).toEqual({
      floor: 29n,
      ranges: [r(0, 9), r(20, 29)],
    });
  });

  it('undefined for none, the record itself for one', () => {
    const a = ownerRecord([raw('clickstream', '2026-12-01', 1, 0, 9)], [], '2026-12-05T00:00:00Z');
    expect(unionExpiryRecords([])).toBeUndefined();
    expect(unionExpiryRecords([a])).toBe(a);
  });
});

describe('coalesce and mergeExpiry at the size of a month of a partition', () => {
  /** The rule as written first: a scan of every blocker per hole. */
  const naive = (ranges: ReturnType<typeof r>[], blockers: ReturnType<typeof r>[]) => {
    const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    const out: ReturnType<typeof r>[] = [];
    for (const x of sorted) {
      const cur = out[out.length - 1];
      if (cur === undefined) out.push({ ...x });
      else if (x.first <= cur.last + 1n || !blockers.some((b) => b.last > cur.last && b.first < x.first)) {
        if (x.last > cur.last) cur.last = x.last;
      } else out.push({ ...x });
    }
    return out;
  };

  it('gives what the scan of every blocker gives, on random ranges and blockers', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const span = () => {
        const first = next(500);
        return r(first, first + next(30));
      };
      const ranges = Array.from({ length: 1 + next(20) }, span);
      const blockers = Array.from({ length: next(20) }, span);
      expect(coalesce(ranges, blockers)).toEqual(naive(ranges, blockers));
    }
  });

  it('merges two days of 1,440 rolls each against 40,000 that stay in well under two seconds', () => {
    const day = Array.from({ length: 2_880 }, (_, i) => raw('clickstream', '2026-11-01', 1, i * 100, i * 100 + 98));
    const stay = Array.from({ length: 40_000 }, (_, i) =>
      raw('clickstream', '2026-11-02', 1, 300_000 + i * 100, 300_000 + i * 100 + 98),
    );
    const started = performance.now();
    const record = mergeExpiry({
      previous: emptyExpiryRecord(),
      deleted: [{ table: 'clickstream', dt: '2026-11-01', files: day }],
      remaining: stay,
      topics,
      deletedAggEmittedUntilMs: undefined,
      nowMs: Date.parse('2026-12-06T00:00:00Z'),
      retentionDays: 30,
    });
    // The scan of every blocker per hole took 5.7 s here (2,880 × 40,000); the index 0.4-0.8 s, mostly parsing names.
    expect(performance.now() - started).toBeLessThan(2_000);
    // The holes between the day's rolls hold no roll that stays: one range.
    expect(record.partitions.get('clicks')!.get(1)).toEqual({ floor: 287_998n, ranges: [r(0, 287_998)] });
  });
});
