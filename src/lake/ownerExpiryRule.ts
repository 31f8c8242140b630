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
 *
 * `clickstream_agg` units nobody writes any more (`agg` after a switch to `etl.windows: members`, `r<r>` after a switch
 * back or with r at or past the repartition topic's partition count) have no owner: the aggregator in process mode, and
 * stage-2 task 0 in members mode, expire them with their own ("Orphan units").
 */
import { MANIFEST_FILE } from './dayManifest.js';
import { AGG_UNIT, aggTaskUnit, rawUnit, rejectedUnit } from './layout.js';
import { dtExpires, type ExpiryCandidateFile } from './retention.js';
import type { TableName } from './tables.js';

/** Who owns which units (architecture.md, "Units"). */
export type ExpiryOwner =
  | { kind: 'partition'; topic: string; partition: number; table: 'clickstream' | 'iot' }
  /** `partitions`: the repartition topic's partition count as the task knows it (task 0 expires the orphans). */
  | { kind: 'task'; partition: number; partitions?: number }
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

const TASK_UNIT = /^r(\d+)$/;

/**
 * Whether `unit` of `table` is one the owner expires: its own units, and for the aggregator (process mode) and stage-2
 * task 0 (members mode) the `clickstream_agg` units no current owner writes. Task 0 takes them only when it knows the
 * partition count: without it every `r<r>` could be a running task's.
 */
export function expiresUnit(owner: ExpiryOwner, table: TableName, unit: string): boolean {
  if (ownedUnits(owner).some((u) => u.table === table && u.unit === unit)) return true;
  if (table !== 'clickstream_agg') return false;
  const r = TASK_UNIT.exec(unit);
  if (owner.kind === 'aggregator') return r !== null;
  if (owner.kind !== 'task' || owner.partition !== 0 || owner.partitions === undefined) return false;
  return unit === AGG_UNIT || (r !== null && Number(r[1]) >= owner.partitions);
}

/** The tables the owner expires in (those of `ownedUnits`). */
export function ownerTables(owner: ExpiryOwner): TableName[] {
  return [...new Set(ownedUnits(owner).map((u) => u.table))];
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
 * What the owner deletes now: the units it expires (`expiresUnit`) in dts that expire, whole. `files` lists the lake
 * (any files); those outside the owner's units are ignored, so a listing of the whole lake gives the same plan.
 */
export function planOwnerExpiry(
  files: readonly ExpiryCandidateFile[],
  owner: ExpiryOwner,
  nowMs: number,
  retentionDays: number,
): OwnerExpiryPlan {
  const byUnit = new Map<string, ExpiringUnit>();
  const remaining: string[] = [];
  for (const file of files) {
    const m = UNIT_FILE.exec(file.path);
    if (!m || !expiresUnit(owner, m[1] as TableName, m[3]!)) continue;
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
