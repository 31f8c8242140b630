/**
 * What retention inside the ETL deleted since the process started (architecture.md, "Keeping the lake: retention"),
 * for `/metrics`: files and bytes per table, rounds that failed. Kept per process, not per checkpointer, so that an
 * in-process restart of the ETL does not set the counters back.
 */
export interface ExpiryTotals {
  /** Per table, sorted. */
  tables: Array<{ table: string; files: number; bytes: number }>;
  /** Expiry rounds of an owner that failed (each is tried again at the next interval). */
  failures: number;
}

const byTable = new Map<string, { files: number; bytes: number }>();
let failures = 0;

export function countExpired(tables: ReadonlyArray<{ table: string; files: number; bytes: number }>): void {
  for (const t of tables) {
    const cur = byTable.get(t.table) ?? { files: 0, bytes: 0 };
    byTable.set(t.table, { files: cur.files + t.files, bytes: cur.bytes + t.bytes });
  }
}

export function countExpiryFailure(): void {
  failures += 1;
}

export function expiryTotals(): ExpiryTotals {
  return {
    tables: [...byTable].sort(([a], [b]) => a.localeCompare(b)).map(([table, t]) => ({ table, ...t })),
    failures,
  };
}
