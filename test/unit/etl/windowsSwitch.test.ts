import { describe, expect, it } from 'vitest';
import { decideWindowsSwitch, openProcessWindows, type OpenProcessWindows } from '../../../src/etl/windowsSwitch.js';

const M = Date.UTC(2026, 11, 6, 10, 0);
/** A process-mode aggregator state (PageViewWindowsSnapshot) with two open windows, 5 page views. */
const processState = {
  version: 1,
  sizeMs: 60_000,
  lateEventsTotal: 0,
  emittedFrontierMs: M,
  watermarks: { globalWatermarkMs: M + 30_000, partitions: [] },
  offsets: [{ partition: 0, lastOffset: '41' }],
  openWindows: [
    {
      startMs: M,
      counts: [
        { url: '/a', count: 2 },
        { url: '/b', count: 1 },
      ],
    },
    { startMs: M + 60_000, counts: [{ url: '/a', count: 2 }] },
  ],
};
const open: OpenProcessWindows = { windows: 2, pageViews: 5, firstStartMs: M, lastStartMs: M + 60_000 };

describe('openProcessWindows', () => {
  it('counts the open windows and their page views, from the state object or its JSON text', () => {
    expect(openProcessWindows(processState)).toEqual(open);
    expect(openProcessWindows(JSON.stringify(processState))).toEqual(open);
  });

  it('finds none in no state, a state with none open, or something that is no state', () => {
    const none = { windows: 0, pageViews: 0, firstStartMs: null, lastStartMs: null };
    expect(openProcessWindows(undefined)).toEqual(none);
    expect(openProcessWindows({ ...processState, openWindows: [] })).toEqual(none);
    expect(openProcessWindows('not json')).toEqual(none);
    expect(openProcessWindows(42)).toEqual(none);
  });
});

describe('decideWindowsSwitch', () => {
  const facts = { group: 'g', open, committedWins: ['41', '-1', null], stage1Wrote: false };

  it('refuses a group whose committed win counts page views while windows are open in the store', () => {
    const decision = decideWindowsSwitch(facts);
    expect(decision.start).toBe(false);
    if (decision.start) return;
    expect(decision.message).toBe(
      "etl.windows: members would lose the 5 page views of the 2 windows open in this checkpoint store's " +
        'etl.windows: process state (minutes 2026-12-06T10:00:00.000Z to 2026-12-06T10:01:00.000Z): stage 1 of ' +
        'group g resumes at the offsets the process-mode aggregator committed, past those page views',
    );
    expect(decision.details[0]).toMatch(/^switch with a new etl\.consumer_group \(not g\)/);
    const one = decideWindowsSwitch({ ...facts, open: { windows: 1, pageViews: 3, firstStartMs: M, lastStartMs: M } });
    expect(one.start === false && one.message).toMatch(
      /lose the 3 page views of the 1 window open in .* \(minute 2026-12-06T10:00:00\.000Z\)/,
    );
  });

  it("refuses a group whose floors are another process's aggregator's, though this store holds nothing", () => {
    // `make scale` members beside a process-mode platform, or a members process on another machine.
    const none = { windows: 0, pageViews: 0, firstStartMs: null, lastStartMs: null };
    const decision = decideWindowsSwitch({ ...facts, open: none });
    expect(decision.start).toBe(false);
    if (decision.start) return;
    expect(decision.message).toMatch(/group g, whose committed window floors are a one-process window aggregator's/);
    expect(decision.details[0]).toMatch(/^switch with a new etl\.consumer_group \(not g\)/);
    // The same store-less member in a new group, or once the group ran the stages: nothing to lose.
    expect(decideWindowsSwitch({ ...facts, open: none, committedWins: [null] })).toEqual({
      start: true,
    });
    expect(decideWindowsSwitch({ ...facts, open: none, stage1Wrote: true })).toEqual({
      start: true,
    });
  });

  it('starts when nothing would be lost', () => {
    // Stage 1 of the group committed already: the switch happened, the store's process state is stale.
    expect(decideWindowsSwitch({ ...facts, stage1Wrote: true })).toEqual({ start: true });
    // A new group (nothing committed) or one whose takeovers committed floors only: stage 1 reads from the start.
    expect(decideWindowsSwitch({ ...facts, committedWins: [null, null] })).toEqual({ start: true });
    expect(decideWindowsSwitch({ ...facts, committedWins: ['-1', '-1'] })).toEqual({ start: true });
  });
});
