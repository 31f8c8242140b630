import { describe, expect, it } from 'vitest';
import { applyCheckpoint, emptyCheckpointState, startOffset } from '../../../src/checkpoint/checkpointState.js';
import { offsetsFromLake, seedEventsFromLake } from '../../../src/checkpoint/offsetsFromLake.js';
import { eventsKeepingOffsets } from '../../../src/checkpoint/storeRewrite.js';
import { aggFileName, rawFileName, rejectedFileName } from '../../../src/lake/layout.js';
import { PageViewWindows } from '../../../src/windows/pageViewWindows.js';
import { inUnitPath } from '../../../src/lake/unitMigration.js';

const topics = { clickstream: 'clicks', iot: 'sensors' };
const raw = (table: string, dt: string, p: number, first: number, last: number) =>
  `tables/${table}/dt=${dt}/${rawFileName(p, first, last)}`;
const rej = (dt: string, topic: string, p: number, first: number, last: number) =>
  `tables/_rejected/dt=${dt}/${rejectedFileName(topic, p, first, last)}`;
const agg = (dt: string, seq: number) => `tables/clickstream_agg/dt=${dt}/${aggFileName(seq)}`;

describe('offsetsFromLake: durable offsets from committed file names', () => {
  it('takes the last offset of the newest roll per (topic, partition), over the raw table and _rejected', () => {
    const lake = offsetsFromLake(
      [
        raw('clickstream', '2026-11-30', 0, 0, 99),
        raw('clickstream', '2026-12-01', 0, 0, 99), // same roll, another dt
        raw('clickstream', '2026-12-01', 0, 100, 180),
        rej('2026-12-01', 'clicks', 0, 181, 190), // a roll of rejected records only
        raw('clickstream', '2026-12-01', 3, 0, 7),
        raw('iot', '2026-12-01', 1, 5, 50),
        rej('2026-12-01', 'old-topic', 2, 0, 999),
        agg('2026-12-01', 4),
        agg('2026-12-01', 12),
        'tables/clickstream/dt=2026-12-01/notes.txt',
        'tables/clickstream/dt=2026-12-01/_manifest.json',
        'tables/clickstream/dt=2026-12-01/._manifest.json.123-1.writing',
      ],
      topics,
    );
    expect(lake.raw.get('clicks')).toEqual(
      new Map([
        [0, 190n],
        [3, 7n],
      ]),
    );
    expect(lake.raw.get('sensors')).toEqual(new Map([[1, 50n]]));
    expect(lake.aggSeq).toBe(12);
    expect(lake.unknown).toEqual(['tables/clickstream/dt=2026-12-01/notes.txt']);
    expect(lake.files).toBe(9);
  });

  it('completes the rename of a tmp file whose roll left a final file, and ignores other tmp files', () => {
    const lake = offsetsFromLake(
      [
        raw('clickstream', '2026-11-30', 0, 200, 299),
        `${raw('clickstream', '2026-12-01', 0, 200, 299)}.tmp`, // same roll: committed, rename interrupted
        `${rej('2026-12-01', 'clicks', 0, 200, 299)}.tmp`, // same roll, in _rejected
        `${raw('clickstream', '2026-12-01', 0, 300, 350)}.tmp`, // never committed
        agg('2026-11-30', 7),
        `${agg('2026-12-01', 7)}.tmp`,
        `${agg('2026-12-01', 8)}.tmp`,
      ],
      topics,
    );
    expect(lake.completions.map((c) => c.from).sort()).toEqual(
      [
        `${agg('2026-12-01', 7)}.tmp`,
        `${rej('2026-12-01', 'clicks', 0, 200, 299)}.tmp`,
        `${raw('clickstream', '2026-12-01', 0, 200, 299)}.tmp`,
      ].sort(),
    );
    // A tmp file of a lake from before units: its final goes into the unit.
    expect(lake.completions.every((c) => c.to === inUnitPath(c.from.slice(0, -4)))).toBe(true);
    expect(lake.completions.every((c) => c.to !== c.from.slice(0, -4))).toBe(true);
    expect(lake.raw.get('clicks')).toEqual(new Map([[0, 299n]]));
    expect(lake.aggSeq).toBe(7);
  });
});

describe('seedEventsFromLake', () => {
  it('seeds each raw sink, and the aggregator so that it continues the file sequence and emits no window twice', () => {
    const lake = offsetsFromLake(
      [raw('clickstream', '2026-12-01', 0, 0, 99), raw('iot', '2026-12-01', 2, 0, 9), agg('2026-12-01', 5)],
      topics,
    );
    const maxMinuteEndMs = Date.UTC(2026, 11, 1, 10, 5);
    const events = seedEventsFromLake(lake, { topics, windowSizeMs: 60_000, maxMinuteEndMs });
    let state = emptyCheckpointState();
    for (const e of events) state = applyCheckpoint(state, e);
    expect(state.offsets).toEqual({ 'raw:clicks:0': { 0: '99' }, 'raw:sensors:2': { 2: '9' }, 'agg:clicks': {} });
    // The raw sink skips what it holds; the aggregator reads clickstream again from the start.
    expect(startOffset(state, ['raw:clicks:0', 'agg:clicks'], 0)).toBe('0');
    expect(startOffset(state, ['raw:sensors:2'], 2)).toBe('10');
    const restored = PageViewWindows.fromJSON(
      state.aggregators['agg:clicks']!.state,
      { sizeMs: 60_000, watermarkDelayMs: 10_000, idleTimeoutMs: 30_000 },
      Date.now(),
    );
    expect(state.aggregators['agg:clicks']!.seq).toBe(5);
    // A count for the last emitted window is late; the next window is open.
    const applied = restored.applyBatch(
      {
        partition: 0,
        lastOffset: '0',
        maxEventTimeMs: maxMinuteEndMs,
        caughtUp: false,
        lateCount: 0,
        counts: [
          { windowStartMs: maxMinuteEndMs - 60_000, url: '/a', count: 2 },
          { windowStartMs: maxMinuteEndMs, url: '/a', count: 3 },
        ],
      },
      Date.now(),
    );
    expect(applied.lateEvents).toBe(2);
    expect(restored.windowsOpen).toBe(1);
  });

  it('seeds nothing for an empty lake, and no aggregator without aggregate files', () => {
    expect(
      seedEventsFromLake(offsetsFromLake([], topics), { topics, windowSizeMs: 60_000, maxMinuteEndMs: undefined }),
    ).toEqual([]);
    const events = seedEventsFromLake(offsetsFromLake([raw('clickstream', '2026-12-01', 1, 0, 4)], topics), {
      topics,
      windowSizeMs: 60_000,
      maxMinuteEndMs: undefined,
    });
    expect(events.map((e) => e.sink)).toEqual(['raw:clicks:1']);
  });
});

describe('eventsKeepingOffsets (clean --lake --force)', () => {
  it('rebuilds the same offsets and aggregator state without any pending rename', () => {
    let state = emptyCheckpointState();
    state = applyCheckpoint(state, {
      type: 'raw',
      sink: 'raw:clicks:0',
      topic: 'clicks',
      partition: 0,
      offset: '9',
      renames: [{ from: 'a.tmp', to: 'a' }],
      rows: 1,
      rejected: 0,
    });
    state = applyCheckpoint(state, {
      type: 'agg',
      sink: 'agg:clicks',
      topic: 'clicks',
      seq: 3,
      offsets: { 0: '7' },
      state: { any: 1 },
      renames: [{ from: 'b.tmp', to: 'b' }],
      rows: 1,
    });
    let rebuilt = emptyCheckpointState();
    for (const e of eventsKeepingOffsets(state)) rebuilt = applyCheckpoint(rebuilt, e);
    expect(rebuilt.offsets).toEqual(state.offsets);
    expect(rebuilt.aggregators).toEqual(state.aggregators);
    expect(Object.values(rebuilt.lastRenames).flat()).toEqual([]);
  });
});

describe('offsetsFromLake with the expiry record: floors of what retention deleted', () => {
  const floors = {
    raw: new Map([
      [
        'clicks',
        new Map([
          [0, 500n],
          [1, 40n],
        ]),
      ],
    ]),
    aggSeq: 9,
  };

  it('a partition whose every file expired resumes after its floor, not at offset 0', () => {
    const lake = offsetsFromLake([], topics, floors);
    expect(lake.files).toBe(0);
    expect(lake.raw.get('clicks')).toEqual(
      new Map([
        [0, 500n],
        [1, 40n],
      ]),
    );
    expect(lake.aggSeq).toBe(9);
    const events = seedEventsFromLake(lake, { topics, windowSizeMs: 60_000, maxMinuteEndMs: 1_764_633_600_000 });
    let state = emptyCheckpointState();
    for (const e of events) state = applyCheckpoint(state, e);
    expect(startOffset(state, ['raw:clicks:0'], 0)).toBe('501');
    expect(startOffset(state, ['raw:clicks:1'], 1)).toBe('41');
    expect(events.find((e) => e.type === 'agg')).toMatchObject({ seq: 9 });
  });

  it('a floor is a lower bound: files above it win, a floor above the files wins', () => {
    const lake = offsetsFromLake(
      [
        raw('clickstream', '2026-12-09', 0, 501, 700),
        raw('clickstream', '2026-12-09', 1, 10, 30),
        agg('2026-12-09', 12),
      ],
      topics,
      floors,
    );
    expect(lake.raw.get('clicks')).toEqual(
      new Map([
        [0, 700n],
        [1, 40n],
      ]),
    );
    expect(lake.aggSeq).toBe(12);
  });

  it('without a record nothing changes', () => {
    expect(offsetsFromLake([], topics).raw.size).toBe(0);
  });
});
