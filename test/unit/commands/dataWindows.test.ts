import { describe, expect, it } from 'vitest';
import { applyCheckpoint, emptyCheckpointState } from '../../../src/checkpoint/checkpointState.js';
import { renderWindowState, windowStateFromStages, windowStateFromStore } from '../../../src/commands/dataWindows.js';
import type { StageWindowState } from '../../../src/verify/stageWindowState.js';
import type { PageViewWindowsSnapshot } from '../../../src/windows/pageViewWindows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 11, 6, 10, 0, 0);

const aggState: PageViewWindowsSnapshot = {
  version: 1,
  sizeMs: MIN,
  lateEventsTotal: 7,
  emittedFrontierMs: T0,
  watermarks: { globalWatermarkMs: T0 + 30_000, partitions: [] },
  offsets: [{ partition: 0, lastOffset: '41' }],
  openWindows: [
    { startMs: T0, counts: [{ url: '/a', count: 2 }] },
    { startMs: T0 + MIN, counts: [{ url: '/b', count: 1 }] },
  ],
};

const storeWith = (state: unknown) =>
  applyCheckpoint(emptyCheckpointState(), {
    type: 'agg',
    sink: 'agg:clicks',
    topic: 'clicks',
    seq: 12,
    offsets: { '0': '41' },
    state,
    renames: [],
    rows: 0,
  });

const stages = (over: Partial<StageWindowState> = {}): StageWindowState => ({
  lateEventsTotal: 5,
  openWindows: [{ startMs: T0, counts: [{ url: '/a', count: 1 }] }],
  through: new Map(),
  applied: new Map(),
  emittedFrontierMs: T0,
  globalWatermarkMs: T0 + 10_000,
  snapshots: 3,
  partitions: 3,
  ...over,
});

describe('data windows in process mode: the aggregator state of the checkpoint store', () => {
  it('reports the late events, frontier, watermark and open windows of the latest window checkpoint', () => {
    expect(windowStateFromStore(storeWith(aggState), 'clicks', '/c/checkpoints.sqlite', true)).toEqual({
      mode: 'process',
      source: 'checkpoint_store',
      location: '/c/checkpoints.sqlite',
      found: true,
      late_events_total: 7,
      emitted_frontier_ms: T0,
      global_watermark_ms: T0 + 30_000,
      open_windows: 2,
      checkpoint_seq: 12,
      task_snapshots: null,
      tasks: null,
      note: null,
    });
  });

  it('reports a watermark not known yet as null', () => {
    const unknown = { ...aggState, emittedFrontierMs: null, watermarks: { globalWatermarkMs: null, partitions: [] } };
    const report = windowStateFromStore(storeWith(unknown), 'clicks', '/c/checkpoints.sqlite', true);
    expect(report).toMatchObject({ found: true, emitted_frontier_ms: null, global_watermark_ms: null });
  });

  it('finds nothing for another topic, or without a store, and says which', () => {
    const other = windowStateFromStore(storeWith(aggState), 'other', '/c/checkpoints.sqlite', true);
    expect(other).toMatchObject({ found: false, late_events_total: null, open_windows: null });
    expect(other.note).toBe('the checkpoint store holds no window checkpoint of other yet');
    const none = windowStateFromStore(emptyCheckpointState(), 'clicks', '/c/checkpoints.sqlite', false);
    expect(none).toMatchObject({ found: false, source: 'checkpoint_store' });
    expect(none.note).toMatch(/^no checkpoint store yet/);
  });
});

describe('data windows in members mode: the stage-2 snapshots in the pv-state topic', () => {
  it('reports the figures summed over the tasks, with how many tasks had a snapshot', () => {
    expect(windowStateFromStages(stages(), 'g-pv-state', 3)).toEqual({
      mode: 'members',
      source: 'pv_state_topic',
      location: 'g-pv-state',
      found: true,
      late_events_total: 5,
      emitted_frontier_ms: T0,
      global_watermark_ms: T0 + 10_000,
      open_windows: 1,
      checkpoint_seq: null,
      task_snapshots: 3,
      tasks: 3,
      note: null,
    });
  });

  it('says when only some tasks committed, and when none did', () => {
    expect(windowStateFromStages(stages({ snapshots: 2 }), 'g-pv-state', 3).note).toBe(
      'only 2 of 3 stage-2 tasks have committed a snapshot',
    );
    expect(windowStateFromStages(undefined, 'g-pv-state', 3)).toMatchObject({
      found: false,
      late_events_total: null,
      tasks: 3,
      note: 'no stage-2 task has committed a snapshot to g-pv-state yet',
    });
  });
});

describe('data windows: the human form', () => {
  it('names where the state was read and shows each figure', () => {
    const text = renderWindowState(windowStateFromStages(stages(), 'g-pv-state', 3));
    expect(text).toContain(
      'windows: etl.windows members, state from the pv-state topic g-pv-state (3 of 3 task snapshots)',
    );
    expect(text).toMatch(/^late events total\s+5$/m);
    expect(text).toMatch(/^emitted frontier\s+2026-12-06T10:00:00.000Z$/m);
    expect(text).toMatch(/^open windows\s+1$/m);
    const store = renderWindowState(windowStateFromStore(storeWith(aggState), 'clicks', '/c/x.sqlite', true));
    expect(store).toContain('state from the checkpoint store /c/x.sqlite (window checkpoint 12)');
    expect(store).toMatch(/^global watermark\s+2026-12-06T10:00:30.000Z$/m);
  });

  it('says why there is no state', () => {
    const text = renderWindowState(windowStateFromStages(undefined, 'g-pv-state', 2));
    expect(text).toMatch(/^no window state: no stage-2 task has committed a snapshot to g-pv-state yet$/m);
    expect(text).not.toContain('late events total');
  });
});
