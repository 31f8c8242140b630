/**
 * What compaction inside the ETL did since the process started (architecture.md, "Compaction"), for `/metrics`: per
 * table the merges by outcome, and the files and bytes the swapped ones merged away. Every owner counts here: the
 * raw partitions' owners, the process aggregator (`agg` units) and the stage-2 tasks (`r<r>` units). Kept per
 * process, not per owner, so that an in-process restart of the ETL does not set the counters back.
 */
export interface CompactionTotals {
  /** Per table, sorted; `merges` by outcome (swapped, stale, refused, …), the files and bytes of the swapped ones. */
  tables: Array<{ table: string; merges: Record<string, number>; files: number; bytes: number }>;
}

const byTable = new Map<string, { merges: Map<string, number>; files: number; bytes: number }>();

/**
 * The tables compaction runs on, with no merge yet: their counters read 0 from the start, so that an operator's
 * rate() or alert on them has a series before the first merge (which comes only once a unit has small files).
 */
export function declareCompactedTables(tables: readonly string[]): void {
  for (const table of tables)
    if (!byTable.has(table)) byTable.set(table, { merges: new Map([['swapped', 0]]), files: 0, bytes: 0 });
}

/** One merge ended with `outcome`; a `swapped` one replaced `files` files of `bytes` bytes by its merged file. */
export function countMerge(merge: { table: string; files: number; bytes: number }, outcome: string): void {
  const cur = byTable.get(merge.table) ?? { merges: new Map<string, number>(), files: 0, bytes: 0 };
  cur.merges.set(outcome, (cur.merges.get(outcome) ?? 0) + 1);
  if (outcome === 'swapped') {
    cur.files += merge.files;
    cur.bytes += merge.bytes;
  }
  byTable.set(merge.table, cur);
}

export function compactionTotals(): CompactionTotals {
  return {
    tables: [...byTable]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([table, t]) => ({
        table,
        merges: Object.fromEntries([...t.merges].sort(([a], [b]) => a.localeCompare(b))),
        files: t.files,
        bytes: t.bytes,
      })),
  };
}
