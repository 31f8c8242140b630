import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { type PageViewRepartitionRecord, repartitionOfUrl } from '../../../src/windows/repartitionRecords.js';
import type { Stage2CommitMetadata } from '../../../src/windows/stage2CommitMetadata.js';
import { planStage2Takeover, type Stage2TakeoverInput } from '../../../src/windows/stage2TakeoverPlan.js';
import { apply, createStage2State, snapshot, type Stage2State } from '../../../src/windows/stage2Windows.js';

const R = 2;
const r = 1;
const OPTIONS = { partition: r, partitions: R, sizeMs: 60_000 };
const TOPIC_ID = '0123456789abcdef0123456789abcdef';
const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const pad = (n: number): string => String(n).padStart(20, '0');
const dir = 'tables/clickstream_agg/dt=2026-12-05';
const URL = ['/a', '/b', '/c', '/d', '/e', '/f'].find((u) => repartitionOfUrl(u, R) === r)!;

/** A record of source partition 0 through `offset` with these windows' counts of URL. */
function recordOf(offset: number, windows: Array<{ startMs: number; count: number }>): PageViewRepartitionRecord {
  return {
    sourcePartition: 0,
    sourcePartitions: 1,
    partition: r,
    partitions: R,
    windowSizeMs: 60_000,
    throughOffset: String(offset),
    watermarkMs: T0,
    idle: false,
    windows: windows.map((w) => ({ startMs: w.startMs, counts: [{ url: URL, count: w.count }] })),
  };
}

/** A state that applied records at offsets 0..last of r (one url, one window). */
function stateThrough(last: number): Stage2State {
  let s = createStage2State(OPTIONS);
  for (let o = 0; o <= last; o++) s = apply(s, recordOf(o, [{ startMs: T0, count: 1 }]), String(o));
  return s;
}

function input(over: Partial<Stage2TakeoverInput> & { metadata?: Stage2CommitMetadata | null; offset?: bigint }) {
  return {
    options: OPTIONS,
    committed: { offset: over.offset ?? -1n, metadata: over.metadata ?? null, topicId: TOPIC_ID },
    snapshot: null,
    tmpFiles: [],
    finalFiles: [],
    ...over,
  } satisfies Stage2TakeoverInput;
}

const commit = (files: Stage2CommitMetadata['files'], writer = 'aa'): Stage2CommitMetadata => ({
  v: 1,
  topicId: TOPIC_ID,
  writer,
  files,
});

describe('stage-2 takeover plan', () => {
  it('starts empty at offset 0 when nothing was ever committed', () => {
    const plan = planStage2Takeover(input({}));
    expect(plan).toMatchObject({ renames: [], deletes: [], resume: 0n, source: 'empty' });
    expect(plan.state).toEqual(createStage2State(OPTIONS));
  });

  it('resumes at the committed offset with the snapshot the same transaction wrote, finishing its renames', () => {
    const state = stateThrough(9);
    const tmpFiles = [
      `${dir}/.part-1-${pad(5)}-${pad(9)}.parquet.aa.tmp`, // the commit's, rename interrupted
      `${dir}/.part-1-${pad(10)}-${pad(12)}.parquet.aa.tmp`, // a later commit that never happened
      `${dir}/.part-1-${pad(5)}-${pad(9)}.parquet.bb.tmp`, // another writer's
    ];
    const plan = planStage2Takeover(
      input({
        offset: 10n,
        metadata: commit({ first: '5', last: '9', dts: ['2026-12-05'] }),
        snapshot: JSON.stringify(snapshot(state)),
        tmpFiles,
      }),
    );
    expect(plan.renames).toEqual([{ from: tmpFiles[0], to: `${dir}/r1/part-1-${pad(5)}-${pad(9)}.parquet` }]);
    expect(plan.deletes).toEqual([tmpFiles[1], tmpFiles[2]].sort());
    expect(plan.resume).toBe(10n);
    expect(plan.source).toBe('commit');
    expect(snapshot(plan.state)).toEqual(snapshot(state));
  });

  it('a commit of marks alone renames nothing and deletes every tmp file of r', () => {
    const tmp = `${dir}/.part-1-${pad(0)}-${pad(3)}.parquet.aa.tmp`;
    const plan = planStage2Takeover(
      input({
        offset: 4n,
        metadata: commit(null),
        snapshot: JSON.stringify(snapshot(stateThrough(3))),
        tmpFiles: [tmp],
      }),
    );
    expect(plan).toMatchObject({ renames: [], deletes: [tmp], resume: 4n });
  });

  it('stops when the commit and the snapshot disagree, naming both', () => {
    const cases: Array<[Partial<Parameters<typeof input>[0]>, RegExp]> = [
      [{ offset: 10n, metadata: commit(null), snapshot: null }, /no snapshot in the state topic/],
      [
        { offset: 11n, metadata: commit(null), snapshot: JSON.stringify(snapshot(stateThrough(9))) },
        /says next offset 11, but the state topic's snapshot of it says next offset 10/,
      ],
      [
        {
          offset: 10n,
          metadata: commit({ first: '5', last: '10', dts: ['2026-12-05'] }),
          snapshot: JSON.stringify(snapshot(stateThrough(9))),
        },
        /names files up to offset 10/,
      ],
    ];
    for (const [over, message] of cases) {
      expect(() => planStage2Takeover(input(over))).toThrow(
        expect.objectContaining({
          code: ErrorCodes.CHECKPOINT_METADATA_INVALID,
          message: expect.stringMatching(message),
        }),
      );
    }
  });

  it('stops on a recreated repartition topic and on a snapshot of another task', () => {
    const recreated = input({
      offset: 10n,
      metadata: { ...commit(null), topicId: 'ffffffffffffffffffffffffffffffff' },
      snapshot: JSON.stringify(snapshot(stateThrough(9))),
    });
    expect(() => planStage2Takeover(recreated)).toThrow(
      expect.objectContaining({ code: ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE }),
    );
    const other = { ...snapshot(createStage2State({ ...OPTIONS, partition: 0 })) };
    expect(() => planStage2Takeover(input({ snapshot: JSON.stringify(other) }))).toThrow(
      expect.objectContaining({ code: ErrorCodes.WINDOW_SNAPSHOT_INVALID }),
    );
  });

  it('without metadata of ours: resumes after the snapshot, renames a tmp whose range a final file has', () => {
    const finals = [`tables/clickstream_agg/dt=2026-12-04/r1/part-1-${pad(5)}-${pad(9)}.parquet`];
    const tmpFiles = [
      `${dir}/.part-1-${pad(5)}-${pad(9)}.parquet.aa.tmp`, // same commit as the final of 12-04: committed
      `${dir}/.part-1-${pad(5)}-${pad(9)}.parquet.bb.tmp`, // a second tmp of that final: a copy
      `${dir}/.part-1-${pad(10)}-${pad(11)}.parquet.aa.tmp`, // no final of its range: never committed
    ];
    const plan = planStage2Takeover(
      input({ offset: 3n, snapshot: JSON.stringify(snapshot(stateThrough(9))), tmpFiles, finalFiles: finals }),
    );
    expect(plan.renames).toEqual([{ from: tmpFiles[0], to: `${dir}/r1/part-1-${pad(5)}-${pad(9)}.parquet` }]);
    expect(plan.deletes).toEqual([tmpFiles[1], tmpFiles[2]]);
    expect(plan).toMatchObject({ resume: 10n, source: 'snapshot' });
    // No snapshot either: a foreign committed offset is where it starts.
    expect(planStage2Takeover(input({ offset: 3n })).resume).toBe(3n);
  });

  it('with neither commit nor snapshot over a lake with windows: what the lake emitted counts as emitted', () => {
    // A new group over an old lake reads the source partitions again from their start: without the frontier the
    // windows already in clickstream_agg would be written a second time.
    const untilMs = T0 + 60_000;
    const plan = planStage2Takeover(input({ emittedUntilMs: untilMs }));
    expect(plan).toMatchObject({ resume: 0n, source: 'empty' });
    expect(plan.state).toMatchObject({ emittedFrontierMs: untilMs, watermarkMs: untilMs, open: new Map() });
    const s = apply(
      plan.state,
      recordOf(0, [
        { startMs: T0, count: 3 }, // emitted by the old group: late, not open
        { startMs: T0 + 60_000, count: 2 }, // not emitted yet: open
      ]),
      '0',
    );
    expect([...s.open.keys()]).toEqual([T0 + 60_000]);
    expect(s.lateEventsTotal).toBe(3);
    // The snapshot of such a state restores (the frontier is not ahead of the watermark).
    expect(planStage2Takeover(input({ snapshot: JSON.stringify(snapshot(s)) })).state.open.size).toBe(1);
    // A snapshot or a commit of its own is the truth: the lake's frontier is not read then.
    const own = planStage2Takeover(
      input({ snapshot: JSON.stringify(snapshot(stateThrough(2))), emittedUntilMs: untilMs }),
    );
    expect(own.state.emittedFrontierMs).toBe(-Infinity);
  });

  it('never touches a file of another task or of the window aggregator', () => {
    expect(() =>
      planStage2Takeover(input({ tmpFiles: [`${dir}/.part-0-${pad(0)}-${pad(1)}.parquet.aa.tmp`] })),
    ).toThrow(RangeError);
    expect(() => planStage2Takeover(input({ tmpFiles: [`${dir}/.part-${pad(7)}.parquet.aa.tmp`] }))).toThrow(
      RangeError,
    );
  });
});

describe('stage-2 takeover plan: a compaction the last commit named (architecture.md, "Compaction")', () => {
  const merged = `${dir}/.part-1-${pad(0)}-${pad(7)}.parquet.aa.tmp`;
  const named = (over: Partial<Stage2CommitMetadata> = {}) =>
    input({
      offset: 10n,
      metadata: {
        ...commit({ first: '8', last: '9', dts: ['2026-12-05'] }),
        v: 2,
        merge: { dt: '2026-12-05', first: '0', last: '7' },
        ...over,
      },
      snapshot: JSON.stringify(snapshot(stateThrough(9))),
      tmpFiles: [merged, `${dir}/.part-1-${pad(0)}-${pad(7)}.parquet.bb.tmp`],
    });

  it('keeps the merged tmp file out of the deletes and names the unit whose swap it completes', () => {
    const plan = planStage2Takeover(named());
    expect(plan.merge).toEqual({
      first: '0',
      last: '7',
      tmpPath: merged,
      unitDir: `${dir}/r1`,
      mergedName: `part-1-${pad(0)}-${pad(7)}.parquet`,
    });
    // Another writer's tmp file of the same name was never committed: deleted.
    expect(plan.deletes).toEqual([`${dir}/.part-1-${pad(0)}-${pad(7)}.parquet.bb.tmp`]);
    expect(plan.resume).toBe(10n);
  });

  it('has nothing to complete when the merged tmp file is gone (exchanged already)', () => {
    const plan = planStage2Takeover({ ...named(), tmpFiles: [] });
    expect(plan.merge).toBeUndefined();
    expect(plan.deletes).toEqual([]);
  });

  it('stops on a merge beyond the committed offset', () => {
    expect(() => planStage2Takeover(named({ merge: { dt: '2026-12-05', first: '0', last: '10' } }))).toThrow(
      expect.objectContaining({ code: ErrorCodes.CHECKPOINT_METADATA_INVALID }),
    );
  });
});
