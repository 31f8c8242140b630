import { describe, expect, it } from 'vitest';
import {
  initialPurgeState,
  noteCommitted,
  planPurge,
  purgeSettled,
  type PurgeState,
} from '../../../src/windows/repartitionPurgePlan.js';

const INTERVAL = 30_000;
const T0 = 1_000_000;
const owned = (...partitions: number[]): Set<number> => new Set(partitions);
const plan = (state: PurgeState, nowMs: number, mine = owned(0, 1, 2)) =>
  planPurge(state, { nowMs, intervalMs: INTERVAL, owned: mine });

describe('repartition purge plan', () => {
  it('purges nothing before a whole interval has passed since the start, then each committed offset', () => {
    let s = noteCommitted(noteCommitted(initialPurgeState(T0), 1, 40n), 0, 12n);
    expect(plan(s, T0 + INTERVAL - 1).targets).toEqual([]);
    const p = plan(s, T0 + INTERVAL);
    expect(p.targets).toEqual([
      { partition: 0, offset: 12n },
      { partition: 1, offset: 40n },
    ]);
    s = purgeSettled(p.state, true);
    expect(s.purged).toEqual(
      new Map([
        [0, 12n],
        [1, 40n],
      ]),
    );
  });

  it('purges only partitions owned here, only up to what was committed, never twice the same offset', () => {
    let s = noteCommitted(noteCommitted(initialPurgeState(T0), 0, 12n), 3, 99n);
    let p = plan(s, T0 + INTERVAL, owned(0, 1));
    expect(p.targets).toEqual([{ partition: 0, offset: 12n }]);
    s = purgeSettled(p.state, true);
    // Nothing committed since: nothing to send, and the interval is not spent on nothing.
    p = plan(s, T0 + 3 * INTERVAL, owned(0, 1));
    expect(p.targets).toEqual([]);
    expect(p.state).toBe(s);
    s = noteCommitted(s, 1, 5n);
    expect(plan(s, T0 + 3 * INTERVAL, owned(0, 1)).targets).toEqual([{ partition: 1, offset: 5n }]);
  });

  it('moves only forward: an older commit answer never lowers the offset, a purged offset is not sent again', () => {
    let s = noteCommitted(initialPurgeState(T0), 0, 50n);
    s = noteCommitted(s, 0, 20n);
    expect(s.committed.get(0)).toBe(50n);
    s = purgeSettled(plan(s, T0 + INTERVAL).state, true);
    s = noteCommitted(s, 0, 50n);
    expect(plan(s, T0 + 2 * INTERVAL).targets).toEqual([]);
    // A committed offset of 0 (nothing read yet) deletes nothing.
    expect(plan(noteCommitted(initialPurgeState(T0), 2, 0n), T0 + INTERVAL).targets).toEqual([]);
  });

  it('sends at most one purge at a time and at most one per interval', () => {
    let s = noteCommitted(initialPurgeState(T0), 0, 10n);
    const first = plan(s, T0 + INTERVAL);
    expect(first.targets).toHaveLength(1);
    s = noteCommitted(first.state, 0, 20n);
    // In flight: nothing more, however late.
    expect(plan(s, T0 + 5 * INTERVAL).targets).toEqual([]);
    s = purgeSettled(s, true);
    expect(s.purged.get(0)).toBe(10n);
    // The interval counts from the last one sent.
    expect(plan(s, T0 + 2 * INTERVAL - 1).targets).toEqual([]);
    expect(plan(s, T0 + 2 * INTERVAL).targets).toEqual([{ partition: 0, offset: 20n }]);
  });

  it('a failed purge records nothing and is tried again at the next interval, at the offsets then', () => {
    let s = noteCommitted(initialPurgeState(T0), 0, 10n);
    s = purgeSettled(plan(s, T0 + INTERVAL).state, false);
    expect(s.purged.size).toBe(0);
    expect(s.inFlight).toBeNull();
    expect(plan(s, T0 + INTERVAL + 1).targets).toEqual([]);
    s = noteCommitted(s, 0, 15n);
    expect(plan(s, T0 + 2 * INTERVAL).targets).toEqual([{ partition: 0, offset: 15n }]);
  });
});
