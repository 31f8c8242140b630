import { describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import { aggregateBatch } from '../../../src/windows/aggregateBatch.js';
import {
  decodeRepartitionRecord,
  type PageViewRepartitionRecord,
  repartitionOfUrl,
} from '../../../src/windows/repartitionRecords.js';
import { type Stage1Batch, Stage1Counts, type Stage1Facts } from '../../../src/windows/stage1Counts.js';
import { DELAY_MS, M, SIZE_MS } from './fixtures.js';

const R = 3;
const URLS = ['/', '/a', '/b', '/c', '/cart', '/checkout', '/products/1', '/products/2'];

/** A batch the way the partition actor computes it, with no known watermark. */
function batch(lastOffset: number | string, events: ReadonlyArray<readonly [number, string]>): Stage1Batch {
  const aggregated = aggregateBatch(
    events.map(([eventTimeMs, url]) => ({ eventTimeMs, url })),
    -Infinity,
    SIZE_MS,
  );
  return { lastOffset: String(lastOffset), ...aggregated };
}

function facts(
  counts: Stage1Counts,
  lastOffset: number | string | null,
  overrides: Partial<Stage1Facts> = {},
): Stage1Facts {
  return {
    watermarkMs: counts.maxEventTimeMs - DELAY_MS,
    idle: false,
    partitionCount: 4,
    repartitions: R,
    sourcePartition: 1,
    lastOffset: lastOffset === null ? null : String(lastOffset),
    ...overrides,
  };
}

function decoded(records: ReadonlyArray<{ key: string; value: string }>): PageViewRepartitionRecord[] {
  return records.map((r) => decodeRepartitionRecord(r.key, r.value));
}

/** All counts of decoded records as sorted [startMs, url, count] tuples. */
function countsOf(records: readonly PageViewRepartitionRecord[]): Array<[number, string, number]> {
  return records
    .flatMap((r) =>
      r.windows.flatMap((w) => w.counts.map((c): [number, string, number] => [w.startMs, c.url, c.count])),
    )
    .sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
}

describe('Stage1Counts', () => {
  it('sums batches since the last commit and routes each url to its repartition partition', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null });
    expect(
      counts.add(
        batch(10, [
          [M + 1_000, '/a'],
          [M + 2_000, '/b'],
          [M + 61_000, '/a'],
        ]),
      ),
    ).toBe(true);
    expect(
      counts.add(
        batch(20, [
          [M + 3_000, '/a'],
          [M + 4_000, '/cart'],
        ]),
      ),
    ).toBe(true);
    expect(counts.pendingEntries).toBe(4);
    const drain = counts.drain(facts(counts, 25));
    expect(drain.win).toBe('25');
    expect(drain.records.map((r) => r.partition)).toEqual([0, 1, 2]);
    const records = decoded(drain.records);
    for (const [r, rec] of records.entries()) {
      expect(rec).toMatchObject({
        sourcePartition: 1,
        sourcePartitions: 4,
        partition: r,
        partitions: R,
        windowSizeMs: SIZE_MS,
        throughOffset: '25',
        watermarkMs: M + 61_000 - DELAY_MS,
        idle: false,
      });
      for (const w of rec.windows) for (const c of w.counts) expect(repartitionOfUrl(c.url, R)).toBe(r);
    }
    expect(countsOf(records)).toEqual([
      [M, '/a', 2],
      [M, '/b', 1],
      [M, '/cart', 1],
      [M + SIZE_MS, '/a', 1],
    ]);
    // Reset: the next commit carries marks only, from the new floor.
    expect(counts.pendingEntries).toBe(0);
    expect(counts.winFloor).toBe('25');
    const next = decoded(counts.drain(facts(counts, 25, { idle: true })).records);
    expect(next.map((r) => [r.windows.length, r.idle, r.throughOffset])).toEqual([
      [0, true, '25'],
      [0, true, '25'],
      [0, true, '25'],
    ]);
  });

  it('skips batches at or below the win floor (counted by a previous owner), but sees their event times', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: '100' });
    expect(counts.add(batch(90, [[M + 50_000, '/a']]))).toBe(false);
    expect(counts.add(batch(100, [[M + 55_000, '/a']]))).toBe(false);
    expect(counts.pendingEntries).toBe(0);
    expect(counts.maxEventTimeMs).toBe(M + 55_000);
    expect(counts.add(batch(101, [[M + 10_000, '/b']]))).toBe(true);
    // A batch offered twice is counted once.
    expect(counts.add(batch(101, [[M + 10_000, '/b']]))).toBe(false);
    const records = decoded(counts.drain(facts(counts, 101)).records);
    expect(countsOf(records)).toEqual([[M, '/b', 1]]);
    expect(records[0]!.watermarkMs).toBe(M + 55_000 - DELAY_MS);
  });

  it('starts from the max event time the commit carried, so a new owner does not lower its mark', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: '7', maxEventTimeMs: M + 90_000 });
    counts.add(batch(8, [[M + 1_000, '/a']]));
    expect(counts.maxEventTimeMs).toBe(M + 90_000);
  });

  it('a partition that read nothing sends -Infinity marks and keeps a null floor', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null });
    const drain = counts.drain(facts(counts, null));
    expect(drain.win).toBeNull();
    expect(decoded(drain.records).map((r) => [r.watermarkMs, r.throughOffset])).toEqual([
      [-Infinity, null],
      [-Infinity, null],
      [-Infinity, null],
    ]);
  });

  it('gives the same records whatever order the same counts arrived in', () => {
    const events: Array<[number, string]> = [];
    for (let i = 0; i < 60; i++) events.push([M + ((i * 7_919) % (3 * SIZE_MS)), URLS[(i * 5) % URLS.length]!]);
    const forward = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null });
    forward.add(batch(1, events.slice(0, 30)));
    forward.add(batch(2, events.slice(30)));
    const backward = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null });
    backward.add(batch(1, events.slice(30).reverse()));
    backward.add(batch(2, events.slice(0, 30).reverse()));
    const a = forward.drain(facts(forward, 2));
    const b = backward.drain(facts(backward, 2));
    expect(b).toEqual(a);
    expect(countsOf(decoded(a.records)).reduce((n, c) => n + c[2], 0)).toBe(60);
  });

  it('refuses a late count (lateness is stage 2’s) and malformed batches, changing nothing', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null });
    const late = { ...batch(1, [[M, '/a']]), lateCount: 1 };
    expect(() => counts.add(late)).toThrow(/stage 1/);
    expect(() =>
      counts.add({
        lastOffset: '2',
        maxEventTimeMs: M,
        lateCount: 0,
        counts: [{ windowStartMs: M + 1, url: '/a', count: 1 }],
      }),
    ).toThrow(/stage 1/);
    expect(() => counts.add({ ...batch(1, [[M, '/a']]), lastOffset: '-1' })).toThrow(/stage 1/);
    expect(counts.pendingEntries).toBe(0);
    expect(counts.maxEventTimeMs).toBe(-Infinity);
    try {
      counts.add(late);
    } catch (err) {
      expect(isSdpError(err, 'SDP_ERR_WINDOW_INVALID_INPUT')).toBe(true);
    }
  });

  it('a new owner re-reading below the floor keeps the floor', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: '10' });
    expect(counts.add(batch(5, [[M, '/a']]))).toBe(false);
    const drain = counts.drain(facts(counts, 5));
    expect(drain.win).toBe('10');
    expect(decoded(drain.records)[0]!.throughOffset).toBe('10');
  });

  it('refuses a drain below a batch added, and facts out of range', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: '10' });
    counts.add(batch(20, [[M, '/a']]));
    expect(() => counts.drain(facts(counts, 15))).toThrow(/invalid facts/);
    expect(() => counts.drain(facts(counts, 5))).toThrow(/invalid facts/);
    expect(() => counts.drain(facts(counts, null))).toThrow(/invalid facts/);
    expect(() => counts.drain(facts(counts, 20, { sourcePartition: 4 }))).toThrow(/invalid facts/);
    expect(() => counts.drain(facts(counts, 20, { repartitions: 0 }))).toThrow(/invalid facts/);
    expect(() => counts.drain(facts(counts, 20, { watermarkMs: Number.NaN }))).toThrow(/invalid facts/);
    // Nothing was lost by the refusals.
    expect(countsOf(decoded(counts.drain(facts(counts, 20)).records))).toEqual([[M, '/a', 1]]);
  });

  it('one repartition partition gets every url', () => {
    const counts = new Stage1Counts({ sizeMs: SIZE_MS, winFloor: null });
    counts.add(
      batch(
        3,
        URLS.map((url) => [M, url] as const),
      ),
    );
    const records = decoded(counts.drain(facts(counts, 3, { repartitions: 1 })).records);
    expect(records).toHaveLength(1);
    expect(records[0]!.windows[0]!.counts.map((c) => c.url)).toEqual([...URLS].sort());
  });
});
