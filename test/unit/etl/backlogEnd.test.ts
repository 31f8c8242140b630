import { describe, expect, it } from 'vitest';
import { backlogThresholdRecords, lagAfter, stepBacklog } from '../../../src/etl/backlogEnd.js';

describe('backlogThresholdRecords', () => {
  it('is a tenth of a file, at least one record', () => {
    expect(backlogThresholdRecords(50_000)).toBe(5_000);
    expect(backlogThresholdRecords(1_000)).toBe(100);
    expect(backlogThresholdRecords(5)).toBe(1);
  });
});

describe('stepBacklog', () => {
  const T = 100;

  it('becomes behind on a fetch that leaves at least the threshold unread', () => {
    expect(stepBacklog(false, { caughtUp: false, lagRecords: 99 }, T)).toEqual({ behind: false, ended: false });
    expect(stepBacklog(false, { caughtUp: false, lagRecords: 100 }, T)).toEqual({ behind: true, ended: false });
  });

  it('stays behind while the lag shrinks, and ends the backlog at the fetch that reaches the end', () => {
    expect(stepBacklog(true, { caughtUp: false, lagRecords: 3 }, T)).toEqual({ behind: true, ended: false });
    expect(stepBacklog(true, { caughtUp: true, lagRecords: 0 }, T)).toEqual({ behind: false, ended: true });
  });

  it('does not end anything for a partition that was keeping up', () => {
    expect(stepBacklog(false, { caughtUp: true, lagRecords: 0 }, T)).toEqual({ behind: false, ended: false });
  });
});

describe('lagAfter', () => {
  it('counts the records after the last offset up to the high watermark', () => {
    expect(lagAfter('9', '10')).toBe(0);
    expect(lagAfter('9', '510')).toBe(500);
  });

  it('is exact beyond 2^53 and never negative', () => {
    expect(lagAfter('9223372036854775000', '9223372036854775807')).toBe(806);
    expect(lagAfter('12', '10')).toBe(0);
  });
});
