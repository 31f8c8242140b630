import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { isNoOp, parseMemberCount, planScale, scaleNotes } from '../../../src/services/scalePlan.js';

describe('planScale: which local ETL members to start and stop', () => {
  it('from none: starts 1 … n', () => {
    expect(planScale([], 3)).toEqual({ keep: [], stop: [], start: [1, 2, 3] });
  });

  it('the same count is a no-op, whatever the indexes', () => {
    expect(isNoOp(planScale([1, 2, 3], 3))).toBe(true);
    // Member 2 died and its stale pid file was removed; 1 and 3 run: two asked, nothing to change.
    expect(planScale([3, 1], 2)).toEqual({ keep: [1, 3], stop: [], start: [] });
    expect(isNoOp(planScale([], 0))).toBe(true);
  });

  it('smaller: stops the highest indexes, highest first, and keeps the lowest', () => {
    expect(planScale([1, 2, 3], 1)).toEqual({ keep: [1], stop: [3, 2], start: [] });
    expect(planScale([2, 5, 7], 2)).toEqual({ keep: [2, 5], stop: [7], start: [] });
    expect(planScale([1, 2], 0)).toEqual({ keep: [], stop: [2, 1], start: [] });
  });

  it('larger: keeps every running member, new ones take the lowest free indexes', () => {
    expect(planScale([1], 3)).toEqual({ keep: [1], stop: [], start: [2, 3] });
    expect(planScale([3], 3)).toEqual({ keep: [3], stop: [], start: [1, 2] });
    expect(planScale([1, 3], 4)).toEqual({ keep: [1, 3], stop: [], start: [2, 4] });
  });

  it('a running index listed twice counts once', () => {
    expect(planScale([1, 1], 2)).toEqual({ keep: [1], stop: [], start: [2] });
  });
});

describe('parseMemberCount: N of make scale', () => {
  it('a whole number from 0 to 64', () => {
    expect(parseMemberCount('0')).toBe(0);
    expect(parseMemberCount(' 3 ')).toBe(3);
    expect(parseMemberCount('64')).toBe(64);
  });

  it('anything else is a usage error that shows the make line', () => {
    for (const bad of [undefined, '', '-1', '1.5', 'three', '65', '3x']) {
      expect(() => parseMemberCount(bad)).toThrowError(
        expect.objectContaining({ code: ErrorCodes.USAGE, details: ['make scale N=3 (N=0 stops every member)'] }),
      );
    }
  });
});

describe('scaleNotes: what the operator must know about the group', () => {
  it('one member alone: nothing to say', () => {
    expect(scaleNotes({ target: 1, partitions: 4 })).toEqual([]);
    expect(scaleNotes({ target: 0, partitions: 4, platformPid: 42 })).toEqual([]);
  });

  it('members alone run the window stages: nothing to say about windows', () => {
    expect(scaleNotes({ target: 3, partitions: 4 })).toEqual([]);
    expect(scaleNotes({ target: 2, partitions: 4, platformPid: 42, platformWindows: 'members' })).toHaveLength(1);
  });

  it('the platform of make up counts as one more process; with process windows it is told the members are refused and how to move', () => {
    const notes = scaleNotes({ target: 1, partitions: 4, platformPid: 42, platformWindows: 'process' });
    expect(notes[0]).toBe(
      'the platform of `make up` (pid 42) runs an ETL in the same group too: 2 processes share the partitions',
    );
    expect(notes[1]).toMatch(/computes its windows in one process \(etl.windows: process\)/);
    expect(notes[1]).toMatch(/the members refuse to start in its group/);
    expect(notes[1]).toMatch(/etl.windows: members with a new etl.consumer_group/);
  });

  it('more processes than partitions: the extra ones idle', () => {
    expect(scaleNotes({ target: 5, partitions: 4, platformPid: 1 })).toContain(
      '6 ETL processes for 4 partitions per topic (kafka.partitions): 2 of them get no partition of a topic and idle',
    );
  });
});
