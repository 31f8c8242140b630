import { beforeEach, describe, expect, it } from 'vitest';
import { isSdpError } from '../../../src/errors.js';
import type { PageViewRepartitionRecord } from '../../../src/windows/repartitionRecords.js';
import {
  apply,
  closeWindows,
  createStage2State,
  globalWatermark,
  restore,
  type Stage2State,
  snapshot,
  stateKey,
  stateTopicName,
} from '../../../src/windows/stage2Windows.js';
import { DELAY_MS, M, SIZE_MS } from './fixtures.js';

// One repartition partition: every url is routed to it, so records can name any url.
const OPTIONS = { partition: 0, partitions: 1, sizeMs: SIZE_MS };

interface MarkSpec {
  /** Max event time of the source; its watermark is this − DELAY_MS. Omitted: -Infinity. */
  maxMs?: number;
  idle?: boolean;
  /** Clickstream partitions the source sees; 4 by default. */
  n?: number;
  /** The first commit of a new owner of the source. */
  takeover?: boolean;
  /** [window start, [[url, count]…]]… */
  windows?: Array<[number, Array<[string, number]>]>;
}

const throughBySource = new Map<number, number>();

/** A record of source `sp`; its through offset grows by one per record with counts. */
function rec(sp: number, spec: MarkSpec = {}): PageViewRepartitionRecord {
  const windows = (spec.windows ?? []).map(([startMs, counts]) => ({
    startMs,
    counts: counts.map(([url, count]) => ({ url, count })),
  }));
  const through = (throughBySource.get(sp) ?? 0) + (windows.length > 0 ? 1 : 0);
  throughBySource.set(sp, through);
  return {
    sourcePartition: sp,
    sourcePartitions: spec.n ?? 4,
    partition: 0,
    partitions: 1,
    windowSizeMs: SIZE_MS,
    throughOffset: String(through),
    watermarkMs: spec.maxMs === undefined ? -Infinity : spec.maxMs - DELAY_MS,
    idle: spec.idle ?? false,
    ...(spec.takeover ? { takeover: true } : {}),
    windows,
  };
}

/** Applies records at the next repartition offsets. */
function feed(state: Stage2State, ...records: PageViewRepartitionRecord[]): Stage2State {
  let s = state;
  for (const record of records) s = apply(s, record, String(s.offset === null ? 0n : s.offset + 1n));
  return s;
}

/** Rows as [minuteStartMs, url, pv]. */
function close(state: Stage2State): { state: Stage2State; rows: Array<[number, string, number]>; late: number[][] } {
  const result = closeWindows(state);
  return {
    state: result.state,
    rows: result.rows.map((r) => [r.minuteStartMs, r.url, r.pv]),
    late: result.lateCounts.map((l) => [l.minuteStartMs, l.minuteEndMs, l.count]),
  };
}

/** Sources 0..3 all at `maxMs`. */
function allAt(maxMs: number, n = 4): PageViewRepartitionRecord[] {
  return Array.from({ length: n }, (_, sp) => rec(sp, { maxMs, n }));
}

describe('stage 2 windows', () => {
  beforeEach(() => throughBySource.clear());

  it('names its compacted state topic and keys', () => {
    expect(stateTopicName('sdp-etl')).toBe('sdp-etl-pv-state');
    expect(stateKey(2)).toBe('2');
  });

  it('emits a window once its end ≤ the global watermark, rows by url, each once', () => {
    let s = feed(
      createStage2State(OPTIONS),
      rec(0, {
        maxMs: M + 30_000,
        windows: [
          [
            M,
            [
              ['/b', 2],
              ['/a', 1],
            ],
          ],
        ],
      }),
      ...allAt(M + 30_000).slice(1),
    );
    expect(globalWatermark(s)).toBe(M + 20_000);
    let c = close(s);
    expect(c.rows).toEqual([]);
    s = feed(c.state, ...allAt(M + SIZE_MS + DELAY_MS));
    expect(globalWatermark(s)).toBe(M + SIZE_MS);
    c = close(s);
    expect(c.rows).toEqual([
      [M, '/a', 1],
      [M, '/b', 2],
    ]);
    expect(c.state.emittedFrontierMs).toBe(M + SIZE_MS);
    expect(c.state.open.size).toBe(0);
    expect(close(c.state).rows).toEqual([]);
  });

  it('global watermark = min over partitions 0..N−1; one never heard from holds it at -Infinity', () => {
    let s = feed(createStage2State(OPTIONS), rec(0, { maxMs: M + 50_000 }), rec(1, { maxMs: M + 30_000 }));
    expect(globalWatermark(s)).toBe(-Infinity);
    s = feed(s, rec(2, { maxMs: M + 70_000 }));
    expect(globalWatermark(s)).toBe(-Infinity);
    s = feed(s, rec(3, { maxMs: M + 40_000 }));
    expect(globalWatermark(s)).toBe(M + 20_000);
  });

  it('idle sources do not hold the watermark; all idle → the max; it never goes backwards', () => {
    let s = feed(createStage2State(OPTIONS), ...allAt(M + 20_000));
    s = feed(
      s,
      rec(0, { maxMs: M + 90_000 }),
      rec(1, { maxMs: M + 80_000 }),
      rec(2, { maxMs: M + 20_000, idle: true }),
    );
    // Source 3 is still at M + 20_000 and not idle.
    expect(globalWatermark(s)).toBe(M + 10_000);
    s = feed(s, rec(3, { maxMs: M + 20_000, idle: true }));
    expect(globalWatermark(s)).toBe(M + 70_000);
    s = feed(s, rec(0, { maxMs: M + 90_000, idle: true }), rec(1, { maxMs: M + 80_000, idle: true }));
    expect(globalWatermark(s)).toBe(M + 80_000);
    // Source 2 wakes up with events far behind: the watermark stays, its old window's counts are late.
    s = feed(s, rec(2, { maxMs: M + 25_000, windows: [[M, [['/a', 3]]]] }));
    expect(globalWatermark(s)).toBe(M + 80_000);
    expect(s.lateEventsTotal).toBe(3);
    const c = close(s);
    expect(c.rows).toEqual([]);
    expect(c.late).toEqual([[M, M + SIZE_MS, 3]]);
  });

  it("a new owner's first record makes every source not idle: its first marks close no window under the others", () => {
    // All four idle when the platform stopped; events then came for every partition.
    let s = feed(createStage2State(OPTIONS), ...[0, 1, 2, 3].map((sp) => rec(sp, { maxMs: M + 20_000, idle: true })));
    expect(globalWatermark(s)).toBe(M + 10_000);
    // Source 0's new owner reads its backlog first and goes idle before source 1's new owner has said anything.
    s = feed(
      s,
      rec(0, { maxMs: M + 3 * SIZE_MS, takeover: true, windows: [[M + SIZE_MS, [['/a', 2]]]] }),
      rec(0, { maxMs: M + 3 * SIZE_MS, idle: true }),
    );
    expect([...s.sources.values()].map((m) => m.idle)).toEqual([true, false, false, false]);
    expect(globalWatermark(s)).toBe(M + 10_000);
    expect(close(s).rows).toEqual([]);
    // Source 1's page views of that minute are counted, not late.
    s = feed(s, rec(1, { maxMs: M + 3 * SIZE_MS, takeover: true, windows: [[M + SIZE_MS, [['/a', 5]]]] }));
    expect(s.lateEventsTotal).toBe(0);
    // The others say they are still idle (stage 1 says so at least every idle timeout): the minute closes whole.
    s = feed(s, ...[0, 1, 2, 3].map((sp) => rec(sp, { maxMs: M + 3 * SIZE_MS, idle: true })));
    expect(close(s).rows).toEqual([[M + SIZE_MS, '/a', 7]]);
  });

  it("a source's watermark never goes back: a new owner that has read nothing new yet leaves it where it stood", () => {
    let s = feed(createStage2State(OPTIONS), ...allAt(M + 30_000));
    s = feed(s, rec(1, { takeover: true }), rec(2, { maxMs: M + 25_000, takeover: true }));
    expect(s.sources.get(1)!.watermarkMs).toBe(M + 20_000);
    expect(s.sources.get(2)!.watermarkMs).toBe(M + 20_000);
    s = feed(s, rec(2, { maxMs: M + 40_000 }));
    expect(s.sources.get(2)!.watermarkMs).toBe(M + 30_000);
  });

  it('partitions added while running (4 → 6) hold the watermark back until each reports', () => {
    let s = feed(createStage2State(OPTIONS), ...allAt(M + 30_000));
    expect(globalWatermark(s)).toBe(M + 20_000);
    // Source 0 saw the topic grow; sources 4 and 5 have not reported yet.
    s = feed(s, rec(0, { maxMs: M + 3 * SIZE_MS, n: 6, windows: [[M + SIZE_MS, [['/a', 1]]]] }));
    s = feed(s, ...[1, 2, 3].map((sp) => rec(sp, { maxMs: M + 3 * SIZE_MS })));
    expect(s.sourcePartitions).toBe(6);
    expect(globalWatermark(s)).toBe(M + 20_000);
    expect(close(s).rows).toEqual([]);
    // Partition 4's first events are older than the others': none of their windows closed before it reported.
    s = feed(s, rec(4, { maxMs: M + SIZE_MS + 15_000, n: 6, windows: [[M + SIZE_MS, [['/a', 2]]]] }));
    expect(globalWatermark(s)).toBe(M + 20_000);
    s = feed(s, rec(5, { maxMs: M + 3 * SIZE_MS, n: 6 }));
    expect(globalWatermark(s)).toBe(M + SIZE_MS + 5_000);
    expect(close(s).rows).toEqual([]);
    s = feed(s, rec(4, { maxMs: M + 3 * SIZE_MS, n: 6 }));
    const c = close(s);
    expect(c.rows).toEqual([[M + SIZE_MS, '/a', 3]]);
    expect(c.state.lateEventsTotal).toBe(0);
    // A source that still says 4 does not lower the count.
    expect(feed(c.state, rec(1, { maxMs: M + 3 * SIZE_MS, n: 4 })).sourcePartitions).toBe(6);
  });

  it('counts for an emitted window are late: per window, reported by one close, never re-emitted', () => {
    let s = feed(
      createStage2State(OPTIONS),
      ...allAt(M + 30_000).map((r, sp) => (sp === 0 ? rec(0, { maxMs: M + 30_000, windows: [[M, [['/a', 1]]]] }) : r)),
    );
    s = feed(s, ...allAt(M + 2 * SIZE_MS + DELAY_MS));
    let c = close(s);
    expect(c.rows).toEqual([[M, '/a', 1]]);
    s = feed(
      c.state,
      rec(1, {
        maxMs: M + 2 * SIZE_MS + DELAY_MS,
        windows: [
          [
            M,
            [
              ['/a', 2],
              ['/b', 1],
            ],
          ],
          [M + SIZE_MS, [['/a', 4]]],
          [M + 2 * SIZE_MS, [['/a', 5]]],
        ],
      }),
    );
    expect(s.lateEventsTotal).toBe(7);
    c = close(s);
    expect(c.rows).toEqual([]);
    expect(c.late).toEqual([
      [M, M + SIZE_MS, 3],
      [M + SIZE_MS, M + 2 * SIZE_MS, 4],
    ]);
    expect(close(c.state).late).toEqual([]);
    s = feed(c.state, ...allAt(M + 4 * SIZE_MS));
    expect(close(s).rows).toEqual([[M + 2 * SIZE_MS, '/a', 5]]);
  });

  it('a window behind the watermark but not yet closed by a close still counts, as in the one-process rule', () => {
    let s = feed(createStage2State(OPTIONS), ...allAt(M + 30_000));
    s = feed(s, rec(0, { maxMs: M + 30_000, windows: [[M, [['/a', 1]]]] }));
    // Sources move past the window without a close in between: counts arriving now are late.
    s = feed(s, ...allAt(M + SIZE_MS + DELAY_MS));
    s = feed(s, rec(1, { maxMs: M + SIZE_MS + DELAY_MS, windows: [[M, [['/a', 1]]]] }));
    const c = close(s);
    expect(c.rows).toEqual([[M, '/a', 1]]);
    expect(c.late).toEqual([[M, M + SIZE_MS, 1]]);
  });

  it('a replayed offset changes nothing; a duplicate or stale record of a source is ignored and counted', () => {
    const first = rec(0, { maxMs: M + 30_000, windows: [[M, [['/a', 1]]]] });
    let s = feed(createStage2State(OPTIONS), first);
    expect(apply(s, first, '0')).toBe(s);
    s = apply(s, first, '1'); // same source offset, with counts: the same counts again
    expect(s.duplicateRecords).toBe(1);
    expect(s.open.get(M)?.get('/a')).toBe(1);
    expect(s.offset).toBe(1n);
    s = apply(s, { ...first, throughOffset: '0', windows: [] }, '2'); // an older mark
    expect(s.duplicateRecords).toBe(2);
    expect(s.sources.get(0)?.throughOffset).toBe(1n);
    s = apply(s, { ...first, windows: [], idle: true }, '3'); // same offset, mark only: applied
    expect(s.duplicateRecords).toBe(2);
    expect(s.sources.get(0)?.idle).toBe(true);
  });

  it('refuses a record for another partition, partition count or window size', () => {
    const s = createStage2State({ partition: 1, partitions: 3, sizeMs: SIZE_MS });
    const base = { ...rec(0, { maxMs: M }), partition: 1, partitions: 3 };
    for (const record of [
      { ...base, partition: 2 },
      { ...base, partitions: 4 },
      { ...base, windowSizeMs: 30_000 },
    ]) {
      try {
        apply(s, record, '0');
        throw new Error('applied');
      } catch (err) {
        expect(isSdpError(err, 'SDP_ERR_WINDOW_RECORD_INVALID')).toBe(true);
      }
    }
    expect(() => apply(s, base, 'x')).toThrow(/offset/);
  });

  it('never changes the state it is given', () => {
    const s0 = feed(
      createStage2State(OPTIONS),
      ...allAt(M + 30_000),
      rec(0, { maxMs: M + 30_000, windows: [[M, [['/a', 1]]]] }),
    );
    const before = JSON.stringify(snapshot(s0));
    const s1 = feed(s0, rec(1, { maxMs: M + 30_000, windows: [[M, [['/a', 2]]]] }), ...allAt(M + 3 * SIZE_MS));
    close(s1);
    expect(JSON.stringify(snapshot(s0))).toBe(before);
  });

  it('snapshots to JSON and restores to an equal state, from text or bytes', () => {
    let s = feed(createStage2State(OPTIONS), ...allAt(M + SIZE_MS + DELAY_MS));
    s = feed(
      s,
      rec(2, {
        maxMs: M + SIZE_MS + DELAY_MS,
        idle: true,
        windows: [
          [M, [['/late', 1]]],
          [
            M + SIZE_MS,
            [
              ['/b', 2],
              ['/a', 1],
            ],
          ],
        ],
      }),
    );
    const snap = snapshot(s);
    expect(snap).toMatchObject({
      version: 1,
      offset: '4',
      sourcePartitions: 4,
      watermarkMs: M + SIZE_MS,
      emittedFrontierMs: null,
      lateEventsTotal: 1,
      openWindows: [
        [
          M + SIZE_MS,
          [
            ['/a', 1],
            ['/b', 2],
          ],
        ],
      ],
      lateWindows: [[M, 1]],
    });
    const text = JSON.stringify(snap);
    expect(snapshot(restore(text, OPTIONS))).toEqual(snap);
    expect(snapshot(restore(Buffer.from(text)))).toEqual(snap);
    expect(snapshot(restore(JSON.parse(text)))).toEqual(snap);
    expect(restore(text).sources.get(2)).toEqual({ watermarkMs: M + SIZE_MS, idle: true, throughOffset: 1n });
  });

  it('refuses a snapshot that is not one, is inconsistent, or is another task’s', () => {
    const s = feed(
      createStage2State(OPTIONS),
      ...allAt(M + 3 * SIZE_MS),
      rec(0, { maxMs: M + 3 * SIZE_MS, windows: [[M + 3 * SIZE_MS, [['/a', 1]]]] }),
    );
    const good = snapshot(closeWindows(s).state);
    const invalid = (value: unknown, expected?: typeof OPTIONS): string => {
      try {
        restore(value, expected);
      } catch (err) {
        expect(isSdpError(err, 'SDP_ERR_WINDOW_SNAPSHOT_INVALID')).toBe(true);
        return `${(err as Error).message}\n${(err as { details: string[] }).details.join('\n')}`;
      }
      throw new Error('restored');
    };
    expect(invalid('{nope')).toMatch(/not valid JSON/);
    expect(invalid({ ...good, version: 2 })).toMatch(/malformed[\s\S]*version/);
    expect(invalid({ ...good, openWindows: [[M, [['/a', 1]]]] })).toMatch(/already emitted/);
    expect(invalid({ ...good, openWindows: [[M + 3 * SIZE_MS + 1, [['/a', 1]]]] })).toMatch(/not a window start/);
    expect(invalid({ ...good, emittedFrontierMs: M + 10 * SIZE_MS })).toMatch(/ahead of the watermark/);
    expect(invalid({ ...good, sources: [...good.sources, good.sources[0]] })).toMatch(/appears twice/);
    expect(invalid(good, { ...OPTIONS, partition: 1, partitions: 2 })).toMatch(/partition: state has 0, expected 1/);
    expect(invalid(good, { ...OPTIONS, sizeMs: 30_000 })).toMatch(/sizeMs/);
    // A url that another partition counts (the snapshot was stored under the wrong key, or R changed).
    const r3 = {
      ...good,
      partitions: 3,
      openWindows: [
        [
          M + 3 * SIZE_MS,
          [
            ['/a', 1],
            ['/b', 1],
            ['/c', 1],
          ],
        ],
      ],
    };
    expect(invalid(r3)).toMatch(/belongs to another partition/);
  });
});
