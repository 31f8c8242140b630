import { describe, expect, it } from 'vitest';
import { NO_OFFSET } from '../../../src/checkpoint/checkpointState.js';
import { countsPageViews, decideWindowsMode } from '../../../src/etl/windowsMode.js';

describe('decideWindowsMode: etl.windows auto, from what the group holds in Kafka', () => {
  it('chooses members for a new group: no stage-1 record, no committed window floor', () => {
    expect(decideWindowsMode({ stage1Wrote: false, committedWins: [] }).mode).toBe('members');
    expect(decideWindowsMode({ stage1Wrote: false, committedWins: [null, null] }).mode).toBe('members');
  });

  it('chooses members for a group that committed offsets but counted no page view yet', () => {
    // A takeover of a partition without our metadata commits its floors, the window floor "nothing yet".
    expect(decideWindowsMode({ stage1Wrote: false, committedWins: [NO_OFFSET, null, NO_OFFSET] }).mode).toBe('members');
  });

  it("chooses process for a group whose window floors are a one-process aggregator's", () => {
    const decision = decideWindowsMode({ stage1Wrote: false, committedWins: [NO_OFFSET, '41', null] });
    expect(decision.mode).toBe('process');
    expect(decision.reason).toMatch(/one-process window aggregator/);
    expect(decision.reason).toMatch(/new etl\.consumer_group/);
  });

  it("keeps process when the group has no floor but this store holds the aggregator's open windows", () => {
    // Offsets expired (a group stopped past offsets.retention.minutes) or reset: the windows are still in the store.
    const decision = decideWindowsMode({ stage1Wrote: false, committedWins: [null, null], localOpenWindows: 2 });
    expect(decision.mode).toBe('process');
    expect(decision.reason).toMatch(/2 windows .* no window floor/);
    expect(decideWindowsMode({ stage1Wrote: false, committedWins: [], localOpenWindows: 0 }).mode).toBe('members');
  });

  it('chooses members once the group ran the stages, whatever floors it committed', () => {
    expect(decideWindowsMode({ stage1Wrote: true, committedWins: ['41', '7'] }).mode).toBe('members');
  });
});

describe('countsPageViews', () => {
  it('is true only for a floor that is an offset', () => {
    expect(countsPageViews([])).toBe(false);
    expect(countsPageViews([null, NO_OFFSET])).toBe(false);
    expect(countsPageViews([null, '0'])).toBe(true);
  });
});
