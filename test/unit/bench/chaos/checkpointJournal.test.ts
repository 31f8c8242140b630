import { describe, expect, it } from 'vitest';
import { highestOffsets, type JournalView } from '../../../../bench/chaos/checkpointJournal.js';

const view = (raw: Record<number, bigint>, rows: number): JournalView => ({
  checkpoints: 1,
  rawRecords: rows,
  rawOffsets: new Map([['clicks', new Map(Object.entries(raw).map(([p, o]) => [Number(p), o]))]]),
  aggOffsets: new Map(),
  aggState: new Map(),
});

describe('highestOffsets', () => {
  it('takes per partition the highest offset any member store committed, and sums the records', () => {
    // Partition 1 moved from the first member to the second: the second holds its newer commits.
    const merged = highestOffsets([view({ 0: 99n, 1: 40n }, 140), view({ 1: 75n, 2: 10n }, 46)]);
    expect(merged.rawOffsets.get('clicks')).toEqual(
      new Map([
        [0, 99n],
        [1, 75n],
        [2, 10n],
      ]),
    );
    expect(merged.rawRecords).toBe(186);
    expect(merged.checkpoints).toBe(2);
  });

  it('is the view itself for one store', () => {
    const one = view({ 0: 5n }, 6);
    expect(highestOffsets([one])).toEqual(one);
  });
});
