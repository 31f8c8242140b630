import { describe, expect, it } from 'vitest';
import { compactionTotals, countMerge, declareCompactedTables } from '../../../src/lake/compactionTotals.js';

describe('compaction totals', () => {
  it('counts each outcome per table, and the files and bytes of swapped merges only', () => {
    countMerge({ table: 'iot', files: 10, bytes: 1_000 }, 'swapped');
    countMerge({ table: 'clickstream_agg', files: 60, bytes: 6_000 }, 'swapped');
    countMerge({ table: 'iot', files: 4, bytes: 400 }, 'stale');
    countMerge({ table: 'iot', files: 5, bytes: 500 }, 'swapped');
    expect(compactionTotals()).toEqual({
      tables: [
        { table: 'clickstream_agg', merges: { swapped: 1 }, files: 60, bytes: 6_000 },
        { table: 'iot', merges: { stale: 1, swapped: 2 }, files: 15, bytes: 1_500 },
      ],
    });
  });

  it('declared tables read 0 swapped merges before their first, and a declaration never sets counts back', () => {
    declareCompactedTables(['iot', '_rejected']);
    const byName = new Map(compactionTotals().tables.map((t) => [t.table, t]));
    expect(byName.get('_rejected')).toEqual({ table: '_rejected', merges: { swapped: 0 }, files: 0, bytes: 0 });
    expect(byName.get('iot')).toEqual({ table: 'iot', merges: { stale: 1, swapped: 2 }, files: 15, bytes: 1_500 });
  });
});
