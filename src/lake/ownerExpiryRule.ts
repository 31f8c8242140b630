/**
 * Retention inside `run`/`etl` (architecture.md, "Keeping the lake: retention"): which files of which dts an owner
 * expires, and where it records them. Pure: the caller lists the owner's units and gives the clock.
 *
 * Only the owner of a unit deletes in it ("Who rewrites a partition's files"): the task of input partition p its
 * `p<p>` unit of the topic's raw table and `p<p>-<topic>` of `_rejected`, stage-2 task r its `r<r>` units of
 * `clickstream_agg`, the one-process window aggregator its `agg` units. A dt expires by the rule of `lake expire`
 * (`dtExpires`: its UTC day ended more than N days ago); an owner deletes its committed files there, never a tmp file
 * (those live in the dt directory, and a takeover settles them), and a late event's file rolled into an expired dt
 * later is expired at the owner's next round. Each owner keeps its own expiry record, `_expired/<name>.json`, written
 * by it alone, so no two members ever write one file.
 */
import { MANIFEST_FILE } from './dayManifest.js';
import { AGG_UNIT, aggTaskUnit, rawUnit, rejectedUnit } from './layout.js';
import { dtExpires, type ExpiryCandidateFile } from './retention.js';
import type { TableName } from './tables.js';

/** Who owns which units (architecture.md, "Units"). */
export type ExpiryOwner =
  | { kind: 'partition'; topic: string; partition: number; table: 'clickstream' | 'iot' }
  | { kind: 'task'; partition: number }
  | { kind: 'aggregator' };

export interface OwnedUnit {
  table: TableName;
  unit: string;
}

export interface ExpiringUnit {
  table: TableName;
  dt: string;
  unit: string;
  /** Lake-relative paths of every file of the unit, sorted; all deleted with it. */
  files: string[];
  bytes: number;
}

export interface OwnerExpiryPlan {
  /** Sorted by table, dt. */
  expiring: ExpiringUnit[];
  /** The owner's committed files that stay (lake-relative): the expiry record coalesces no range across them. */
  remaining: string[];
}

export function ownedUnits(owner: ExpiryOwner): OwnedUnit[] {
  switch (owner.kind) {
    case 'partition':
      return [
        { table: owner.table, unit: rawUnit(owner.partition) },
        { table: '_rejected', unit: rejectedUnit(owner.topic, owner.partition) },
      ];
    case 'task':
      return [{ table: 'clickstream_agg', unit: aggTaskUnit(owner.partition) }];
    case 'aggregator':
      return [{ table: 'clickstream_agg', unit: AGG_UNIT }];
  }
}

/**
 * The owner's expiry record file name in `<lake>/_expired/`: `p-<topic>-<p>.json`, `r<r>.json`, `agg.json`. Distinct
 * per owner (a topic name holds no `/`, and only partition owners' names start with `p-`).
 */
export function ownerRecordName(owner: ExpiryOwner): string {
  switch (owner.kind) {
    case 'partition':
      return `p-${owner.topic}-${owner.partition}.json`;
    case 'task':
      return `${aggTaskUnit(owner.partition)}.json`;
    case 'aggregator':
      return `${AGG_UNIT}.json`;
  }
}

/** A short name of the owner for logs and metrics: `clickstream[3]`, `window-task[2]`, `aggregator`. */
export function ownerLabel(owner: ExpiryOwner): string {
  switch (owner.kind) {
    case 'partition':
      return `${owner.topic}[${owner.partition}]`;
    case 'task':
      return `window-task[${owner.partition}]`;
    case 'aggregator':
      return 'aggregator';
  }
}

const UNIT_FILE = /^tables\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/([^/]+)\/[^/]+$/;

/**
 * What the owner deletes now: its units in dts that expire, whole. `files` lists the lake (any files); those outside
 * the owner's units are ignored, so a listing of the whole lake gives the same plan.
 */
export function planOwnerExpiry(
  files: readonly ExpiryCandidateFile[],
  owner: ExpiryOwner,
  nowMs: number,
  retentionDays: number,
): OwnerExpiryPlan {
  const own = new Set(ownedUnits(owner).map((u) => `${u.table}/${u.unit}`));
  const byUnit = new Map<string, ExpiringUnit>();
  const remaining: string[] = [];
  for (const file of files) {
    const m = UNIT_FILE.exec(file.path);
    if (!m || !own.has(`${m[1]}/${m[3]}`)) continue;
    const [table, dt, unit] = [m[1] as TableName, m[2]!, m[3]!];
    if (!dtExpires(dt, nowMs, retentionDays)) {
      if (file.path.endsWith('.parquet')) remaining.push(file.path);
      continue;
    }
    const key = `${table}/${dt}/${unit}`;
    let entry = byUnit.get(key);
    if (!entry) byUnit.set(key, (entry = { table, dt, unit, files: [], bytes: 0 }));
    entry.files.push(file.path);
    entry.bytes += file.sizeBytes;
  }
  const expiring = [...byUnit.values()]
    .map((e) => ({ ...e, files: [...e.files].sort() }))
    .sort((a, b) => (a.table === b.table ? a.dt.localeCompare(b.dt) : a.table.localeCompare(b.table)));
  return { expiring, remaining: remaining.sort() };
}

/**
 * Whether an expired dt directory may go, from its entries: nothing left but its manifest (sealed days), which goes
 * with it. A unit of another owner that has not expired the dt yet, or a tmp file of a roll in flight, keeps it.
 */
export function dtDirRemovable(entries: readonly string[]): boolean {
  return entries.every((name) => name === MANIFEST_FILE);
}
