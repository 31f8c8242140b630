/**
 * Compaction of the lake (architecture.md, "Compaction"): merges each unit's small committed files into files of about
 * `lake.target_file_bytes` and exchanges the unit whole, so that a reader lists either the old files or the merged
 * one, never both (readerSafeSwap.ts). Runs as the owner of the partitions it compacts: with the platform stopped,
 * no member owns them (commands/lake.ts refuses otherwise).
 *
 * Crash safety, per merge: the merged tmp file and the unit's new version in `_swap` are invisible to readers, and
 * the exchange is the one step that publishes. Before it, `recoverCompaction` deletes what an attempt left (rolled
 * back); after it, the unit holds the merged file and the old version waits in `_swap` for `lake.vacuum_grace`
 * (completed). Offsets stay in the names, so nothing outside the lake records a compaction.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { hitFault, OWNER_MERGE_FAULTS } from '../system/faults.js';
import { type CompactionFilter, type PlannedMerge, planCompaction } from './compactionPlan.js';
import { dirEntries, listDtFiles } from './dirEntries.js';
import { fsyncDir, pathExists, removeIfExists } from './durableFs.js';
import { TABLES_DIR, tmpPathFor, unitPath } from './layout.js';
import { listLakeFiles } from './lakeFiles.js';
import { mergeParquetFiles } from './mergeParquet.js';
import { readFooterSummary } from './parquetFooter.js';
import { SWAP_DIR, swapPartitionFiles, swapStagingDir, vacuumSwaps } from './readerSafeSwap.js';
import { TABLE_NAMES, type TableName } from './tables.js';
import { unitOfFile } from './unitMigration.js';

/** The writer id of compaction's tmp files (`.<merged name>.c0.tmp`): never a checkpoint store's (those are longer). */
export const COMPACTION_WRITER = 'c0';

const TIME_COLUMN: Record<TableName, string> = {
  clickstream: 'ts',
  iot: 'ts',
  clickstream_agg: 'minute_end',
  _rejected: 'kafka_ts',
};

export interface CompactionOptions {
  targetBytes: number;
  vacuumGraceMs: number;
  rawTopics: Record<'clickstream' | 'iot', string>;
  filter?: CompactionFilter;
  dryRun?: boolean;
  nowMs?: () => number;
}

export interface CompactionOutcome {
  merges: PlannedMerge[];
  filesBefore: number;
  filesAfter: number;
  /** What an interrupted compaction left: merges finished (exchanged) and attempts discarded. */
  recovered: RecoveryOutcome;
  /** Old unit versions deleted from `_swap` after `lake.vacuum_grace`. */
  vacuumed: number;
}

export interface RecoveryOutcome {
  completed: number;
  rolledBack: number;
}

/**
 * Settles what an interrupted compaction left: a unit version in `_swap` whose unit does not hold its merged file was
 * never exchanged (deleted: hard links only); a compaction tmp file is deleted either way (after the exchange its
 * rows are in the unit under the merged name, the same inode).
 */
export async function recoverCompaction(lakeRoot: string): Promise<RecoveryOutcome> {
  const outcome: RecoveryOutcome = { completed: 0, rolledBack: 0 };
  for (const table of TABLE_NAMES) {
    for (const dt of await swapVersions(lakeRoot, table)) {
      for (const v of dt.versions) {
        const live = path.join(lakeRoot, TABLES_DIR, table, dt.dtName, v.unit, v.merged);
        if (await pathExists(live)) continue; // an old version, for the vacuum
        // Never exchanged; its merge is counted by its tmp file below.
        await fs.rm(path.join(dt.dir, v.name), { recursive: true, force: true });
        await fsyncDir(dt.dir);
      }
    }
    for (const { files } of await listDtFiles(lakeRoot, table, () => false)) {
      for (const file of files) {
        const name = path.basename(file);
        const suffix = `.${COMPACTION_WRITER}.tmp`;
        if (!name.startsWith('.') || !name.endsWith(suffix)) continue;
        const mergedName = name.slice(1, -suffix.length);
        const unit = unitOfFile(table, mergedName);
        const merged = unit && path.join(lakeRoot, path.dirname(file), unit, mergedName);
        if (merged !== undefined && (await pathExists(merged))) outcome.completed += 1;
        else outcome.rolledBack += 1;
        await removeIfExists(path.join(lakeRoot, file));
      }
    }
  }
  return outcome;
}

/**
 * `<unit>.<merged name without .parquet>` (readerSafeSwap.ts `swapStagingDir`) split back. A `_rejected` unit and its
 * merged name both hold the topic, which may hold dots: the split is the one whose merged name belongs in that unit.
 */
export function splitVersionName(table: TableName, name: string): { unit: string; merged: string } | undefined {
  for (let at = name.indexOf('.part-'); at > 0; at = name.indexOf('.part-', at + 1)) {
    const unit = name.slice(0, at);
    const merged = `${name.slice(at + 1)}.parquet`;
    if (unitOfFile(table, merged) === unit) return { unit, merged };
  }
  return undefined;
}

/** The unit versions in `_swap/<table>/dt=D/` (readerSafeSwap.ts `swapStagingDir`), per dt directory. */
async function swapVersions(
  lakeRoot: string,
  table: TableName,
): Promise<Array<{ dtName: string; dir: string; versions: Array<{ name: string; unit: string; merged: string }> }>> {
  const swapTable = path.join(lakeRoot, SWAP_DIR, table);
  const out = [];
  for (const dt of await dirEntries(swapTable)) {
    if (!dt.isDirectory()) continue;
    const dir = path.join(swapTable, dt.name);
    const versions = [];
    for (const version of await dirEntries(dir)) {
      const split = version.isDirectory() ? splitVersionName(table, version.name) : undefined;
      if (split !== undefined) versions.push({ name: version.name, ...split });
    }
    out.push({ dtName: dt.name, dir, versions });
  }
  return out;
}

/** Deletes the old unit versions in `_swap` that became old at least `graceMs` ago (readerSafeSwap.ts `vacuumSwaps`). */
export async function vacuumOldVersions(lakeRoot: string, graceMs: number, nowMs: number): Promise<number> {
  let removed = 0;
  for (const table of TABLE_NAMES) {
    for (const dt of await swapVersions(lakeRoot, table)) {
      for (const unit of new Set(dt.versions.map((v) => v.unit)))
        removed += (await vacuumSwaps(dt.dir, unit, graceMs, nowMs)).length;
      if ((await dirEntries(dt.dir)).length === 0) await fs.rmdir(dt.dir).catch(() => undefined);
    }
  }
  return removed;
}

/**
 * The merged tmp file of `merge` (`.<merged>.<writer>.tmp` in its dt directory), fsynced, its rows checked against the
 * inputs' footers; returns its path. On failure nothing of it stays. Shared by `lake compact` and the owner's
 * compaction inside the ETL (etl/ownerCompaction.ts).
 */
export async function writeMergedTmp(lakeRoot: string, merge: PlannedMerge, writer: string): Promise<string> {
  const liveDir = unitPath(lakeRoot, merge.table, merge.dt, merge.unit);
  const inputs = merge.inputs.map((name) => path.join(liveDir, name));
  const mergedTmp = tmpPathFor(path.join(liveDir, merge.merged), writer);
  let expected = 0;
  for (const input of inputs) expected += (await readFooterSummary(input, TIME_COLUMN[merge.table])).rows;
  const { rows } = await mergeParquetFiles(merge.table, inputs, mergedTmp);
  if (rows !== expected) {
    await removeIfExists(mergedTmp);
    throw new SdpError(
      ErrorCodes.LAKE_WRITE_FAILED,
      `compaction of ${liveDir}: the merged file holds ${rows} rows, its ${inputs.length} inputs ${expected}; nothing swapped`,
    );
  }
  return mergedTmp;
}

/** One merge: the merged tmp file, its rows checked against the inputs' footers, then the exchange of its unit. */
async function runMerge(lakeRoot: string, merge: PlannedMerge, nowMs: number): Promise<void> {
  const liveDir = unitPath(lakeRoot, merge.table, merge.dt, merge.unit);
  const mergedTmp = await writeMergedTmp(lakeRoot, merge, COMPACTION_WRITER);
  hitFault(OWNER_MERGE_FAULTS.mergedTmp);
  const stagingDir = swapStagingDir(lakeRoot, merge.table, merge.dt, merge.unit, merge.merged);
  try {
    await swapPartitionFiles(
      { liveDir, stagingDir, replaced: merge.inputs, mergedTmp, mergedName: merge.merged },
      nowMs,
      {
        built: () => hitFault(OWNER_MERGE_FAULTS.versionBuilt),
        exchanged: () => hitFault(OWNER_MERGE_FAULTS.exchange),
      },
    );
  } catch (err) {
    // Not exchanged (no exchange on this file system, a file gone): nothing of the attempt may stay behind. After an
    // exchange the version in _swap is the old one, kept for the readers that listed it.
    if (!(await pathExists(path.join(liveDir, merge.merged))))
      await fs.rm(stagingDir, { recursive: true, force: true });
    await removeIfExists(mergedTmp);
    throw err;
  }
}

/** Settles an interrupted compaction, merges what the plan says (unless a dry run), then vacuums old versions. */
export async function compactLake(
  lakeRoot: string,
  options: CompactionOptions,
  logger: Logger,
  out: (line: string) => void = () => undefined,
): Promise<CompactionOutcome> {
  const now = options.nowMs ?? Date.now;
  const recovered = options.dryRun ? { completed: 0, rolledBack: 0 } : await recoverCompaction(lakeRoot);
  const committed = listLakeFiles(lakeRoot).filter((f) => f.path.endsWith('.parquet'));
  const merges = planCompaction(committed, options.targetBytes, options.rawTopics, options.filter);
  const replaced = merges.reduce((n, m) => n + m.inputs.length, 0);
  for (const m of merges) {
    out(
      `${options.dryRun ? 'would merge' : 'merging'} ${m.table} dt=${m.dt} ${m.unit}: ${m.inputs.length} files ` +
        `(${(m.inputBytes / 1_048_576).toFixed(1)} MB) → ${m.merged}`,
    );
    if (options.dryRun) continue;
    const started = now();
    await runMerge(lakeRoot, m, now());
    logger.info(
      {
        component: 'compaction',
        table: m.table,
        dt: m.dt,
        unit: m.unit,
        files: m.inputs.length,
        bytes: m.inputBytes,
        merged: m.merged,
        ms: now() - started,
      },
      'unit compacted',
    );
  }
  const vacuumed = options.dryRun ? 0 : await vacuumOldVersions(lakeRoot, options.vacuumGraceMs, now());
  return {
    merges,
    filesBefore: committed.length,
    filesAfter: committed.length - replaced + merges.length,
    recovered,
    vacuumed,
  };
}
