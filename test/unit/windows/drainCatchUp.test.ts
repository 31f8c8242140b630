import { describe, expect, it } from 'vitest';
import { drainCatchUpBudgetMs, partitionsBehind } from '../../../src/windows/drainCatchUp.js';

describe('drainCatchUp: where a stopping window stage stops fetching', () => {
  const ends = new Map([
    [0, '10'],
    [1, '5'],
    [2, '7'],
  ]);

  it('lists the running tasks short of their end; at or past it they are done', () => {
    expect(
      partitionsBehind(
        [
          { partition: 0, running: true, position: '9' },
          { partition: 1, running: true, position: '5' },
          { partition: 2, running: true, position: '8' },
        ],
        ends,
      ),
    ).toEqual([0]);
  });

  it('leaves out tasks not running and partitions without a known end; a running task with no position is behind', () => {
    expect(
      partitionsBehind(
        [
          { partition: 2, running: true, position: undefined },
          { partition: 0, running: false, position: '1' },
          { partition: 3, running: true, position: '0' },
        ],
        ends,
      ),
    ).toEqual([2]);
    expect(partitionsBehind([{ partition: 0, running: true, position: '1' }], new Map())).toEqual([]);
  });

  it('compares offsets as integers, not text', () => {
    expect(partitionsBehind([{ partition: 0, running: true, position: '9' }], new Map([[0, '10']]))).toEqual([0]);
    expect(partitionsBehind([{ partition: 0, running: true, position: '10' }], new Map([[0, '9']]))).toEqual([]);
  });

  it('reads for a third of what is left of the stop, at most 10 s, never a negative time', () => {
    expect(drainCatchUpBudgetMs(30_000)).toBe(10_000);
    expect(drainCatchUpBudgetMs(60_000)).toBe(10_000);
    expect(drainCatchUpBudgetMs(6_000)).toBe(2_000);
    expect(drainCatchUpBudgetMs(-5)).toBe(0);
  });
});
