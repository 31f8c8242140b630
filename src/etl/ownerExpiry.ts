/**
 * Retention inside `run`/`etl` (architecture.md, "Keeping the lake: retention"): one owner deletes its own units of
 * the dts that expired. Its I/O; the rule is lake/ownerExpiryRule.ts. The caller runs it where no commit of the owner
 * renames into its units meanwhile (a partition's task chain, the checkpointer's mailbox for the aggregator), and
 * gives `stillOwned`: asked before the record is renamed in and before each delete, so a round of an owner that lost
 * its partition meanwhile writes nothing and deletes nothing from there on.
 *
 * Order: its stale record tmp files removed → does it have a unit in an expired dt? (else it stops) → list the
 * owner's units → its expiry record, with what goes now, written durably (`_expired/<owner>.json`) → the units'
 * listed files deleted through the safe paths of `data clean` (storage/safeClean.ts: every step from the lake root
 * lstat-ed, links unlinked, never followed, asynchronously), then each unit left empty → each dt directory left with
 * nothing but its manifest removed, through the same checks. A crash after the record leaves files the record already
 * covers, and the owner's next round (at its next takeover, or the next interval) deletes them: the plan is the same,
 * and the record's merge is idempotent. The other order could leave ranges gone and unrecorded, which a rebuild from
 * file names would read into the lake again.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import { emptyExpiryRecord, mergeExpiry } from '../lake/expiryRecord.js';
import {
  isOwnerRecordTmp,
  OWNER_RECORDS_DIR,
  readOwnerExpiryRecord,
  writeOwnerExpiryRecord,
} from '../lake/expiryRecordFile.js';
import { dirEntries, listDtFiles } from '../lake/dirEntries.js';
import { TABLES_DIR } from '../lake/layout.js';
import {
  dtDirRemovable,
  type ExpiryOwner,
  expiresUnit,
  ownerLabel,
  ownerRecordName,
  ownerTables,
  planOwnerExpiry,
} from '../lake/ownerExpiryRule.js';
import { readFooterSummary } from '../lake/parquetFooter.js';
import { dtExpires, type ExpiryCandidateFile } from '../lake/retention.js';
import { removeDirIfOnly, removeFilesInsideRoot } from '../storage/safeClean.js';
import { countExpired, countExpiryFailure } from '../lake/expiryTotals.js';
import type { Logger } from '../log/logger.js';
import { hitFault } from '../system/faults.js';

export interface OwnerExpirySettings {
  lakeRoot: string;
  retentionDays: number;
  topics: { clickstream: string; iot: string };
  /** The writer id of the record's tmp file (the store id). */
  writer: string;
}

export interface OwnerExpiryOutcome {
  /** The expired dts whose units of this owner went now, sorted. */
  dts: string[];
  /** Per table: files and bytes deleted. */
  tables: Array<{ table: string; files: number; bytes: number }>;
  files: number;
  bytes: number;
  /** dt directories removed because no owner had files in them any more. */
  dtDirsRemoved: number;
  /** The owner lost its partition during the round: what is left of it was not done (the next owner's). */
  lost: boolean;
  /** Tmp files of its record a crashed or lost round had left, removed. */
  staleTmpRemoved: number;
}

const DT_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;

/**
 * What the owner finds in the expired dts of its tables, from the dt directory names and the entries of the expired
 * ones only: its own unit directories there, and the expired dt directories left with nothing but a manifest. A kill
 * during a round (or during another owner's: they run side by side) can leave a unit emptied of its files but still
 * there, or a dt directory with nothing in it; no file names them any more, so only this sweep removes them. Most
 * rounds stop here; an expired dt that holds only other owners' units (their rounds not run yet, or units of a window
 * mode no longer running that this owner does not take) does not make every round of this owner list all its units.
 */
async function scanExpiredDts(
  lakeRoot: string,
  owner: ExpiryOwner,
  expires: (dt: string) => boolean,
): Promise<{
  ownUnits: Array<{ table: string; dt: string; unit: string }>;
  leftovers: Array<{ table: string; dt: string }>;
}> {
  const ownUnits: Array<{ table: string; dt: string; unit: string }> = [];
  const leftovers: Array<{ table: string; dt: string }> = [];
  for (const table of ownerTables(owner)) {
    const tableDir = path.join(lakeRoot, TABLES_DIR, table);
    for (const dtDir of await dirEntries(tableDir)) {
      const m = DT_DIR.exec(dtDir.name);
      if (!dtDir.isDirectory() || !m || !expires(m[1]!)) continue;
      const entries = await dirEntries(path.join(tableDir, dtDir.name));
      if (dtDirRemovable(entries.map((e) => e.name))) leftovers.push({ table, dt: m[1]! });
      for (const entry of entries) {
        if (!expiresUnit(owner, table, entry.name)) continue;
        // A unit that is a link is never followed, and stops the round where it is seen (warned and counted).
        if (entry.isSymbolicLink())
          throw new SdpError(
            ErrorCodes.STORAGE_UNSAFE_ROOT,
            `${path.join(tableDir, dtDir.name, entry.name)} is a symlink: nothing deleted`,
          );
        if (entry.isDirectory()) ownUnits.push({ table, dt: m[1]!, unit: entry.name });
      }
    }
  }
  return { ownUnits, leftovers };
}

/**
 * The owner's files in the units it expires, in every dt (lake-relative; `listDtFiles`, which also gives the dt
 * directories' own files: the plan ignores them). Sizes (lstat: links are not followed) only in the dts that expire:
 * the others' names are all the record needs, and a month of a partition is tens of thousands of files.
 */
async function listOwnedFiles(
  lakeRoot: string,
  owner: ExpiryOwner,
  expires: (dt: string) => boolean,
): Promise<ExpiryCandidateFile[]> {
  const out: ExpiryCandidateFile[] = [];
  for (const table of ownerTables(owner))
    for (const { dtDir, files } of await listDtFiles(lakeRoot, table, (unit) => expiresUnit(owner, table, unit))) {
      if (!expires(dtDir.slice('dt='.length))) {
        for (const rel of files) out.push({ path: rel, sizeBytes: 0 });
        continue;
      }
      for (const rel of files) {
        const size = await lstat(path.join(lakeRoot, rel)).then(
          (st) => st.size,
          () => undefined,
        );
        if (size !== undefined) out.push({ path: rel, sizeBytes: size });
      }
    }
  return out;
}

/**
 * Removes the tmp files of the owner's record (`<name>.<writer>.tmp`, any writer's) that a round killed between its
 * tmp file and the rename left: nothing else ever removes them. Only the current owner calls it, so a tmp file of
 * another writer is a crashed or lost member's; a lost member's round in flight then fails at its rename.
 */
async function removeStaleRecordTmps(lakeRoot: string, name: string): Promise<number> {
  const stale = (await dirEntries(path.join(lakeRoot, OWNER_RECORDS_DIR)))
    .filter((e) => !e.isDirectory() && isOwnerRecordTmp(name, e.name))
    .map((e) => e.name);
  if (stale.length === 0) return 0;
  return (await removeFilesInsideRoot(lakeRoot, OWNER_RECORDS_DIR, stale, { keepDir: true })).files;
}

/**
 * Expires the owner's units of the dts older than `retentionDays` at `nowMs`. Call only where the lake root passed
 * `assertSafeRoots` (a marked root), and where no commit of the owner renames into its units meanwhile.
 */
export async function expireOwnedFiles(
  settings: OwnerExpirySettings,
  owner: ExpiryOwner,
  nowMs: number,
  stillOwned: () => boolean,
): Promise<OwnerExpiryOutcome> {
  const { lakeRoot } = settings;
  const outcome: OwnerExpiryOutcome = {
    dts: [],
    tables: [],
    files: 0,
    bytes: 0,
    dtDirsRemoved: 0,
    lost: false,
    staleTmpRemoved: 0,
  };
  const lost = (): OwnerExpiryOutcome => ({ ...outcome, lost: true });
  if (!stillOwned()) return lost();
  const name = ownerRecordName(owner);
  outcome.staleTmpRemoved = await removeStaleRecordTmps(lakeRoot, name);
  const expires = (dt: string): boolean => dtExpires(dt, nowMs, settings.retentionDays);
  const scanned = await scanExpiredDts(lakeRoot, owner, expires);
  // Last in every round: its own expired units left empty, then the expired dt directories with nothing but a manifest.
  const removeLeftovers = async (): Promise<OwnerExpiryOutcome> => {
    const dts = new Map(scanned.leftovers.map((d) => [`${d.table}/${d.dt}`, d] as const));
    for (const { table, dt, unit } of scanned.ownUnits) {
      if (!stillOwned()) return lost();
      await removeDirIfOnly(
        lakeRoot,
        path.join(TABLES_DIR, table, `dt=${dt}`, unit),
        (entries) => entries.length === 0,
      );
      dts.set(`${table}/${dt}`, { table, dt });
    }
    for (const { table, dt } of dts.values()) {
      if (!stillOwned()) return lost();
      if (await removeDirIfOnly(lakeRoot, path.join(TABLES_DIR, table, `dt=${dt}`), dtDirRemovable))
        outcome.dtDirsRemoved += 1;
    }
    return outcome;
  };
  if (scanned.ownUnits.length === 0) return removeLeftovers();
  const plan = planOwnerExpiry(await listOwnedFiles(lakeRoot, owner, expires), owner, nowMs, settings.retentionDays);
  if (plan.expiring.length === 0) return removeLeftovers();

  // The windows' frontier of what goes (`minute_end` in the footers), for a task that later starts without state.
  let aggEmittedUntilMs: number | undefined;
  for (const unit of plan.expiring.filter((u) => u.table === 'clickstream_agg'))
    for (const file of unit.files.filter((f) => f.endsWith('.parquet'))) {
      const summary = await readFooterSummary(path.join(lakeRoot, file), 'minute_end');
      if (summary.maxMs !== undefined) aggEmittedUntilMs = Math.max(aggEmittedUntilMs ?? -Infinity, summary.maxMs);
    }
  const record = mergeExpiry({
    previous: (await readOwnerExpiryRecord(lakeRoot, name)) ?? emptyExpiryRecord(),
    deleted: plan.expiring,
    remaining: plan.remaining,
    topics: settings.topics,
    deletedAggEmittedUntilMs: aggEmittedUntilMs,
    nowMs,
    retentionDays: settings.retentionDays,
  });
  if (!(await writeOwnerExpiryRecord(lakeRoot, name, record, settings.writer, stillOwned))) return lost();
  hitFault('retention-after-record');

  const byTable = new Map<string, { files: number; bytes: number }>();
  for (const [i, unit] of plan.expiring.entries()) {
    if (i > 0) hitFault('retention-between-units');
    // Lost since the record: the rest is left as a crash would leave it, for the next owner's round.
    if (!stillOwned()) return lost();
    // The files listed and recorded, not the unit whole: a file renamed in since (a member that lost the partition and
    // has not noticed yet, racing the new owner's roll of a late event) is not deleted unrecorded.
    const done = await removeFilesInsideRoot(
      lakeRoot,
      path.join(TABLES_DIR, unit.table, `dt=${unit.dt}`, unit.unit),
      unit.files.map((f) => path.posix.basename(f)),
    );
    const t = byTable.get(unit.table) ?? { files: 0, bytes: 0 };
    byTable.set(unit.table, { files: t.files + done.files, bytes: t.bytes + done.bytes });
    outcome.files += done.files;
    outcome.bytes += done.bytes;
    outcome.tables = [...byTable].map(([table, n]) => ({ table, ...n })).sort((a, b) => a.table.localeCompare(b.table));
    if (!outcome.dts.includes(unit.dt)) outcome.dts = [...outcome.dts, unit.dt].sort();
  }
  const dtsOfTables = new Map(plan.expiring.map((u) => [`${u.table}\u0000${u.dt}`, u] as const));
  for (const { table, dt } of dtsOfTables.values()) {
    if (!stillOwned()) return lost();
    // Nothing but its manifest left (another owner's unit, or a roll's tmp file in flight, keeps it).
    if (await removeDirIfOnly(lakeRoot, path.join(TABLES_DIR, table, `dt=${dt}`), dtDirRemovable))
      outcome.dtDirsRemoved += 1;
  }
  return removeLeftovers();
}

/** Retention inside the ETL as its owners run it (`lake.*` settings; architecture.md, "Keeping the lake"). */
export interface RetentionSettings {
  days: number;
  intervalMs: number;
  topics: { clickstream: string; iot: string };
  /** Throws when the lake root is not one retention may delete in (storage/safeClean.ts `assertSafeRoots`). */
  assertLakeRoot: () => void;
}

/** What one owner's round did. */
export interface ExpiryRoundReport {
  owner: string;
  dts: string[];
  files: number;
  failed: boolean;
  /** Set when the owner lost its partition during the round (it stopped there). */
  lost?: true;
}

/**
 * One owner's round: the lake root checked, `expireOwnedFiles`, a log line and the counters (lake/expiryTotals.ts)
 * when something went; a failure is logged at warn and counted, never thrown (the next interval tries again).
 * `stillOwned`: whether this owner still holds its partition (its task is current), asked along the round.
 */
export async function runExpiryRound(
  lakeRoot: string,
  settings: RetentionSettings,
  owner: ExpiryOwner,
  writer: string,
  logger: Logger,
  stillOwned: () => boolean,
): Promise<ExpiryRoundReport> {
  const label = ownerLabel(owner);
  const startedMs = Date.now();
  let outcome: OwnerExpiryOutcome;
  try {
    settings.assertLakeRoot();
    outcome = await expireOwnedFiles(
      { lakeRoot, retentionDays: settings.days, topics: settings.topics, writer },
      owner,
      startedMs,
      stillOwned,
    );
  } catch (err) {
    countExpiryFailure();
    logger.warn(
      { component: 'retention', owner: label, err },
      'retention round failed; nothing is deleted before the record names it, the next interval tries again',
    );
    return { owner: label, dts: [], files: 0, failed: true };
  }
  if (outcome.files > 0 || outcome.dtDirsRemoved > 0) {
    countExpired(outcome.tables);
    logger.info(
      {
        component: 'retention',
        owner: label,
        retention_days: settings.days,
        dts: outcome.dts,
        files: outcome.files,
        bytes: outcome.bytes,
        tables: outcome.tables,
        dt_dirs_removed: outcome.dtDirsRemoved,
        ms: Date.now() - startedMs,
      },
      'lake files expired by their owner',
    );
  }
  if (outcome.staleTmpRemoved > 0)
    logger.info(
      { component: 'retention', owner: label, files: outcome.staleTmpRemoved },
      'stale tmp files of the expiry record removed',
    );
  if (outcome.lost)
    logger.info(
      { component: 'retention', owner: label, files: outcome.files },
      "retention round stopped: the owner lost its partition, the rest is the next owner's",
    );
  return {
    owner: label,
    dts: outcome.dts,
    files: outcome.files,
    failed: false,
    ...(outcome.lost ? { lost: true as const } : {}),
  };
}
