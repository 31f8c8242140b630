/**
 * Which dt partitions of the lake expire (architecture.md, "Keeping the lake: retention"). Pure: the
 * caller lists the lake and gives the clock.
 *
 * A dt expires when its whole UTC day ended more than `retentionDays` days before `nowMs`. A dt is
 * expired in every table at once or in none: the raw tables, `_rejected` and `clickstream_agg` of one
 * day go together, so `verify`'s window accounting never meets windows whose raw events are gone.
 * A dt is held back (kept this time) while it holds a `*.tmp` file: the next start of the ETL either
 * renames it (its checkpoint committed) or deletes it. The store's latest renames of each sink stay
 * "pending" until the sink's next roll, so their final files are not held back: recovery skips a rename
 * whose both ends are gone in a dt the expiry record lists (actors/checkpointer.ts).
 */
import { TABLE_NAMES, type TableName } from './tables.js';

const MS_PER_DAY = 86_400_000;
const DT_DIR = /^tables\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/(?:[^/]+\/)?([^/]+)$/;

export interface ExpiryCandidateFile {
  /** Relative to the lake root, `/`-separated: `tables/<table>/dt=YYYY-MM-DD/<name>`. */
  path: string;
  sizeBytes: number;
}

export interface ExpiringDt {
  table: TableName;
  dt: string;
  /** Every file of the dt directory (relative paths), all deleted with it. */
  files: string[];
  bytes: number;
}

export interface HeldDt {
  dt: string;
  reason: string;
}

export interface ExpiryPlan {
  /** Per table and dt, sorted by table then dt. */
  expiring: ExpiringDt[];
  /** Expired by age but kept this time, and why. */
  held: HeldDt[];
}

/** true when the whole UTC day `dt` ended more than `retentionDays` days before `nowMs`. */
export function dtExpires(dt: string, nowMs: number, retentionDays: number): boolean {
  const startMs = Date.parse(`${dt}T00:00:00Z`);
  // A name no writer gives (2026-02-31 parses as March 3rd) is never a day to delete.
  if (Number.isNaN(startMs) || new Date(startMs).toISOString().slice(0, 10) !== dt) return false;
  return nowMs - (startMs + MS_PER_DAY) > retentionDays * MS_PER_DAY;
}

/** The dt partitions to delete. */
export function planExpiry(files: readonly ExpiryCandidateFile[], nowMs: number, retentionDays: number): ExpiryPlan {
  const tables = new Set<string>(TABLE_NAMES);
  const byDt = new Map<string, Map<TableName, ExpiringDt>>();
  const heldReasons = new Map<string, string>();
  for (const file of files) {
    const m = DT_DIR.exec(file.path);
    if (!m || !tables.has(m[1]!)) continue;
    const table = m[1] as TableName;
    const dt = m[2]!;
    if (!dtExpires(dt, nowMs, retentionDays)) continue;
    if (file.path.endsWith('.tmp') && !heldReasons.has(dt))
      heldReasons.set(dt, `${file.path} is not committed yet: the next start of the ETL settles it`);
    let tablesOfDt = byDt.get(dt);
    if (!tablesOfDt) byDt.set(dt, (tablesOfDt = new Map()));
    let entry = tablesOfDt.get(table);
    if (!entry) tablesOfDt.set(table, (entry = { table, dt, files: [], bytes: 0 }));
    entry.files.push(file.path);
    entry.bytes += file.sizeBytes;
  }
  const expiring: ExpiringDt[] = [];
  for (const [dt, tablesOfDt] of byDt) {
    if (heldReasons.has(dt)) continue;
    for (const entry of tablesOfDt.values()) expiring.push({ ...entry, files: [...entry.files].sort() });
  }
  expiring.sort((a, b) => (a.table === b.table ? a.dt.localeCompare(b.dt) : a.table.localeCompare(b.table)));
  const held = [...heldReasons].map(([dt, reason]) => ({ dt, reason })).sort((a, b) => a.dt.localeCompare(b.dt));
  return { expiring, held };
}
