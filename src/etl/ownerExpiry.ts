/**
 * Retention inside `run`/`etl` (architecture.md, "Keeping the lake: retention"): one owner deletes its own units of
 * the dts that expired. Its I/O; the rule is lake/ownerExpiryRule.ts. The caller runs it where no commit of the owner
 * renames into its units meanwhile (a partition's task chain, the checkpointer's mailbox for the aggregator).
 *
 * Order: list the owner's units → its expiry record, with what goes now, written durably (`_expired/<owner>.json`)
 * → the units' listed files deleted through the safe paths of `data clean` (storage/safeClean.ts: every step from
 * the lake root lstat-ed, links unlinked, never followed), then each unit left empty → each dt directory left with nothing but its manifest removed. A crash
 * after the record leaves files the record already covers, and the owner's next round (at its next takeover, or the
 * next interval) deletes them: the plan is the same, and the record's merge is idempotent. The other order could
 * leave ranges gone and unrecorded, which a rebuild from file names would read into the lake again.
 */
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { emptyExpiryRecord, mergeExpiry } from '../lake/expiryRecord.js';
import { readOwnerExpiryRecord, writeOwnerExpiryRecord } from '../lake/expiryRecordFile.js';
import { dirEntries } from '../lake/dirEntries.js';
import { MANIFEST_FILE } from '../lake/dayManifest.js';
import { TABLES_DIR } from '../lake/layout.js';
import {
  dtDirRemovable,
  type ExpiryOwner,
  ownedUnits,
  ownerLabel,
  ownerRecordName,
  planOwnerExpiry,
} from '../lake/ownerExpiryRule.js';
import { readFooterSummary } from '../lake/parquetFooter.js';
import { dtExpires, type ExpiryCandidateFile } from '../lake/retention.js';
import { removeFilesInsideRoot } from '../storage/safeClean.js';
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
}

/**
 * The owner's files in its units of every dt (lake-relative). Sizes (lstat: links are not followed) only in the dts
 * that expire: the others' names are all the plan needs, and a month of a partition is tens of thousands of files.
 */
async function listOwnedFiles(
  lakeRoot: string,
  owner: ExpiryOwner,
  expires: (dt: string) => boolean,
): Promise<ExpiryCandidateFile[]> {
  const out: ExpiryCandidateFile[] = [];
  const dtDirs = await Promise.all(
    ownedUnits(owner).map(async ({ table, unit }) => ({
      table,
      unit,
      dts: (await dirEntries(path.join(lakeRoot, TABLES_DIR, table)))
        .filter((d) => d.isDirectory() && /^dt=\d{4}-\d{2}-\d{2}$/.test(d.name))
        .map((d) => d.name),
    })),
  );
  // Most rounds find no dt to expire: then the units are not listed at all (the rolls of the owner wait meanwhile).
  if (!dtDirs.some(({ dts }) => dts.some((d) => expires(d.slice('dt='.length))))) return out;
  for (const { table, unit, dts } of dtDirs) {
    const tableDir = `${TABLES_DIR}/${table}`;
    for (const dtDir of dts) {
      const unitDir = `${tableDir}/${dtDir}/${unit}`;
      const sized = expires(dtDir.slice('dt='.length));
      for (const entry of await dirEntries(path.join(lakeRoot, unitDir))) {
        const rel = `${unitDir}/${entry.name}`;
        if (!sized) {
          out.push({ path: rel, sizeBytes: 0 });
          continue;
        }
        const size = await lstat(path.join(lakeRoot, rel)).then(
          (st) => st.size,
          () => undefined,
        );
        if (size !== undefined) out.push({ path: rel, sizeBytes: size });
      }
    }
  }
  return out;
}

/** Removes the dt directory when nothing but its manifest is left (rmdir: a file that arrives meanwhile keeps it). */
async function removeEmptyDtDir(lakeRoot: string, table: string, dt: string): Promise<boolean> {
  const dir = path.join(lakeRoot, TABLES_DIR, table, `dt=${dt}`);
  const entries = await readdir(dir).catch(() => undefined);
  if (entries === undefined || !dtDirRemovable(entries)) return false;
  if (entries.includes(MANIFEST_FILE)) {
    const manifest = path.join(dir, MANIFEST_FILE);
    try {
      if ((await lstat(manifest)).isFile()) await unlink(manifest);
    } catch (err) {
      // Another owner that finished the same dt at the same time removed it first.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  try {
    await rmdir(dir);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Expires the owner's units of the dts older than `retentionDays` at `nowMs`. Call only where the lake root passed
 * `assertSafeRoots` (a marked root), and where no commit of the owner renames into its units meanwhile.
 */
export async function expireOwnedFiles(
  settings: OwnerExpirySettings,
  owner: ExpiryOwner,
  nowMs: number,
): Promise<OwnerExpiryOutcome> {
  const { lakeRoot } = settings;
  const expires = (dt: string): boolean => dtExpires(dt, nowMs, settings.retentionDays);
  const plan = planOwnerExpiry(await listOwnedFiles(lakeRoot, owner, expires), owner, nowMs, settings.retentionDays);
  const outcome: OwnerExpiryOutcome = { dts: [], tables: [], files: 0, bytes: 0, dtDirsRemoved: 0 };
  if (plan.expiring.length === 0) return outcome;

  // The windows' frontier of what goes (`minute_end` in the footers), for a task that later starts without state.
  let aggEmittedUntilMs: number | undefined;
  for (const unit of plan.expiring.filter((u) => u.table === 'clickstream_agg'))
    for (const file of unit.files.filter((f) => f.endsWith('.parquet'))) {
      const summary = await readFooterSummary(path.join(lakeRoot, file), 'minute_end');
      if (summary.maxMs !== undefined) aggEmittedUntilMs = Math.max(aggEmittedUntilMs ?? -Infinity, summary.maxMs);
    }
  const name = ownerRecordName(owner);
  const record = mergeExpiry({
    previous: readOwnerExpiryRecord(lakeRoot, name) ?? emptyExpiryRecord(),
    deleted: plan.expiring,
    remaining: plan.remaining,
    topics: settings.topics,
    deletedAggEmittedUntilMs: aggEmittedUntilMs,
    nowMs,
    retentionDays: settings.retentionDays,
  });
  await writeOwnerExpiryRecord(lakeRoot, name, record, settings.writer);
  hitFault('retention-after-record');

  const byTable = new Map<string, { files: number; bytes: number }>();
  for (const [i, unit] of plan.expiring.entries()) {
    if (i > 0) hitFault('retention-between-units');
    // The files listed and recorded, not the unit whole: a file renamed in since (a member that lost the partition and
    // has not noticed yet, racing the new owner's roll of a late event) is not deleted unrecorded.
    const done = removeFilesInsideRoot(
      lakeRoot,
      path.join(TABLES_DIR, unit.table, `dt=${unit.dt}`, unit.unit),
      unit.files.map((f) => path.posix.basename(f)),
    );
    const t = byTable.get(unit.table) ?? { files: 0, bytes: 0 };
    byTable.set(unit.table, { files: t.files + done.files, bytes: t.bytes + done.bytes });
    outcome.files += done.files;
    outcome.bytes += done.bytes;
  }
  const dtsOfTables = new Set(plan.expiring.map((u) => `${u.table}\u0000${u.dt}`));
  for (const key of dtsOfTables) {
    const [table, dt] = key.split('\u0000') as [string, string];
    if (await removeEmptyDtDir(lakeRoot, table, dt)) outcome.dtDirsRemoved += 1;
  }
  outcome.dts = [...new Set(plan.expiring.map((u) => u.dt))].sort();
  outcome.tables = [...byTable].map(([table, t]) => ({ table, ...t })).sort((a, b) => a.table.localeCompare(b.table));
  return outcome;
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
}

/**
 * One owner's round: the lake root checked, `expireOwnedFiles`, a log line and the counters (lake/expiryTotals.ts)
 * when something went; a failure is logged at warn and counted, never thrown (the next interval tries again).
 */
export async function runExpiryRound(
  lakeRoot: string,
  settings: RetentionSettings,
  owner: ExpiryOwner,
  writer: string,
  logger: Logger,
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
  return { owner: label, dts: outcome.dts, files: outcome.files, failed: false };
}
