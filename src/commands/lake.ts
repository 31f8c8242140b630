/**
 * `lake expire [--dry-run]`: retention (architecture.md, "Keeping the lake: retention"). Deletes the
 * whole dt partitions older than `lake.retention_days`, through the safe paths of `data clean`
 * (marked lake root only, symlinks never followed, nothing outside the root), after writing the
 * expiry record that the rebuild from file names and `verify` read. Refused while the platform runs:
 * only a partition's owner deletes its files (architecture.md, "Who rewrites a partition's files"), and
 * the running members expire theirs themselves, by the same rule of days (etl/ownerExpiry.ts). `--dry-run`
 * only lists, and may run beside it.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { compactLake, type CompactionOutcome } from '../lake/compaction.js';
import { emptyExpiryRecord, mergeExpiry } from '../lake/expiryRecord.js';
import { expiryRecordPath, readExpiryRecord, writeExpiryRecord } from '../lake/expiryRecordFile.js';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { readFooterSummary } from '../lake/parquetFooter.js';
import { planExpiry, type ExpiryPlan } from '../lake/retention.js';
import { sealPass, type SealPassResult } from '../lake/sealer.js';
import { TABLE_NAMES, type TableName } from '../lake/tables.js';
import { migrateToUnits } from '../lake/unitMigration.js';
import type { Logger } from '../log/logger.js';
import { CHECKPOINT_FILE } from '../platform/supervisor.js';
import { pidFilePath } from '../services/pidFile.js';
import { runningSigns } from '../services/platformRunning.js';
import { assertSafeRoots, removeDirInsideRoot } from '../storage/safeClean.js';
import type { CommandContext } from './context.js';
import { REPO_DIR } from './data.js';

export interface ExpireOptions {
  dryRun: boolean;
  nowMs: number;
}

export interface ExpireResult {
  plan: ExpiryPlan;
  deletedFiles: number;
  deletedBytes: number;
}

function mb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * @throws SdpError STORAGE_PLATFORM_RUNNING when the platform runs on these roots (services/platformRunning.ts).
 */
function refuseWhileRunning(config: Config, why: string, instead: string): void {
  const storeFile = join(resolve(config.storage.checkpoint_root), CHECKPOINT_FILE);
  const signs = runningSigns(storeFile, pidFilePath(resolve(config.services.run_dir)));
  if (signs.length > 0)
    throw new SdpError(ErrorCodes.STORAGE_PLATFORM_RUNNING, `the platform is running: ${why}`, [
      ...signs.map((s) => `${s.what}: ${s.stop}`),
      instead,
    ]);
}

export async function expireLake(
  config: Config,
  options: ExpireOptions,
  logger: Logger,
  out: (line: string) => void,
): Promise<ExpireResult | undefined> {
  const days = config.lake.retention_days;
  if (days === null) {
    out('lake.retention_days is off: nothing expires (set it in config.yml, or SDP_LAKE__RETENTION_DAYS)');
    return undefined;
  }
  const lakeRoot = resolve(config.storage.datalake_root);
  if (!options.dryRun)
    refuseWhileRunning(
      config,
      'its members own the partitions and expire their own files every lake.retention_interval; nothing was deleted',
      '`lake expire --dry-run` lists what would go, beside it',
    );
  assertSafeRoots([{ kind: 'datalake', configured: config.storage.datalake_root }], REPO_DIR, [
    config.storage.datalake_root,
    config.storage.checkpoint_root,
    config.kafka.local.data_dir,
  ]);

  const files = listLakeFiles(lakeRoot);
  const plan = planExpiry(files, options.nowMs, days);
  const totalFiles = plan.expiring.reduce((n, e) => n + e.files.length, 0);
  const totalBytes = plan.expiring.reduce((n, e) => n + e.bytes, 0);
  for (const e of plan.expiring)
    out(
      `${options.dryRun ? 'would delete' : 'deleting'} ${e.table} dt=${e.dt}: ${e.files.length} files, ${mb(e.bytes)}`,
    );
  for (const h of plan.held) out(`keeping dt=${h.dt} this time: ${h.reason}`);
  out(
    `retention ${days} days: ${new Set(plan.expiring.map((e) => e.dt)).size} dt partitions, ${totalFiles} files, ${mb(totalBytes)} ${options.dryRun ? 'would be deleted' : 'to delete'}`,
  );
  if (options.dryRun) {
    out('dry run: nothing deleted');
    return { plan, deletedFiles: 0, deletedBytes: 0 };
  }
  if (plan.expiring.length === 0) return { plan, deletedFiles: 0, deletedBytes: 0 };

  // The record first: a crash between it and the deletions leaves files the record already covers, which a
  // later expiry deletes; the other order could leave ranges gone and unrecorded, read again by a rebuild.
  const deletedPaths = new Set(plan.expiring.flatMap((e) => e.files));
  let aggEmittedUntilMs: number | undefined;
  for (const e of plan.expiring.filter((x) => x.table === 'clickstream_agg'))
    for (const path of e.files.filter((p) => p.endsWith('.parquet'))) {
      const summary = await readFooterSummary(join(lakeRoot, path), 'minute_end');
      if (summary.maxMs !== undefined) aggEmittedUntilMs = Math.max(aggEmittedUntilMs ?? -Infinity, summary.maxMs);
    }
  const record = mergeExpiry({
    previous: readExpiryRecord(lakeRoot) ?? emptyExpiryRecord(),
    deleted: plan.expiring,
    remaining: files.map((f) => f.path).filter((p) => p.endsWith('.parquet') && !deletedPaths.has(p)),
    topics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
    deletedAggEmittedUntilMs: aggEmittedUntilMs,
    nowMs: options.nowMs,
    retentionDays: days,
  });
  await writeExpiryRecord(lakeRoot, record);
  out(`expiry record written: ${expiryRecordPath(lakeRoot)}`);

  let deletedFiles = 0;
  let deletedBytes = 0;
  for (const e of plan.expiring) {
    const done = removeDirInsideRoot(lakeRoot, join('tables', e.table, `dt=${e.dt}`));
    deletedFiles += done.files;
    deletedBytes += done.bytes;
  }
  logger.info(
    {
      component: 'lake',
      retention_days: days,
      expired_dts: [...new Set(plan.expiring.map((e) => e.dt))],
      held_dts: plan.held.map((h) => h.dt),
      files: deletedFiles,
      bytes: deletedBytes,
    },
    'lake expire: dt partitions deleted',
  );
  out(`deleted ${deletedFiles} files (${mb(deletedBytes)}) in ${lakeRoot}`);
  return { plan, deletedFiles, deletedBytes };
}

export interface CompactCommandOptions {
  table?: string;
  dt?: string;
  dryRun: boolean;
}

/**
 * `lake compact`: merges each partition's small files of a day (lake/compaction.ts; architecture.md, "Compaction"),
 * as their owner: refused while the platform runs, whose members own the partitions. A dry run may run beside it.
 */
export async function compactLakeCommand(
  config: Config,
  options: CompactCommandOptions,
  logger: Logger,
  out: (line: string) => void,
): Promise<CompactionOutcome> {
  const lakeRoot = resolve(config.storage.datalake_root);
  if (options.table !== undefined && !(TABLE_NAMES as readonly string[]).includes(options.table))
    throw new SdpError(ErrorCodes.CONFIG_INVALID, `--table: no table ${JSON.stringify(options.table)}`, [
      `expected one of: ${TABLE_NAMES.join(', ')}`,
    ]);
  if (options.dt !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.dt))
    throw new SdpError(ErrorCodes.CONFIG_INVALID, `--dt: expected YYYY-MM-DD, got ${JSON.stringify(options.dt)}`);
  if (!options.dryRun) {
    refuseWhileRunning(
      config,
      "its members own the partitions, and only a partition's owner rewrites its files; nothing was compacted",
      '`lake compact --dry-run` lists what would be merged, beside it',
    );
    await migrateToUnits(lakeRoot, logger);
  }
  const outcome = await compactLake(
    lakeRoot,
    {
      targetBytes: config.lake.target_file_bytes,
      vacuumGraceMs: config.lake.vacuum_grace,
      rawTopics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
      filter: { table: options.table as TableName | undefined, dt: options.dt },
      dryRun: options.dryRun,
    },
    logger,
    out,
  );
  const { recovered } = outcome;
  if (recovered.completed + recovered.rolledBack > 0)
    out(
      `an interrupted compaction was settled: ${recovered.completed} merges completed, ${recovered.rolledBack} attempts discarded`,
    );
  out(
    `compact: merges=${outcome.merges.length} files_before=${outcome.filesBefore} files_after=${outcome.filesAfter} ` +
      `old_versions_vacuumed=${outcome.vacuumed}${options.dryRun ? ' (dry run: nothing changed)' : ''}`,
  );
  return outcome;
}

export interface SealCommandOptions {
  dt?: string;
  dryRun: boolean;
}

/**
 * `lake seal [--dt D] [--dry-run]`: writes the manifests of the days that are complete (lake/sealer.ts; architecture.md,
 * "Sealed days"). It only writes manifests, never a lake file, so it may run while the platform runs.
 */
export async function sealLakeCommand(
  config: Config,
  options: SealCommandOptions,
  logger: Logger,
  out: (line: string) => void,
): Promise<SealPassResult> {
  if (options.dt !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.dt))
    throw new SdpError(ErrorCodes.CONFIG_INVALID, `--dt: expected YYYY-MM-DD, got ${JSON.stringify(options.dt)}`);
  const result = await sealPass(
    resolve(config.storage.datalake_root),
    {
      sealAfterMs: config.lake.seal_after,
      targetBytes: config.lake.target_file_bytes,
      rawTopics: { clickstream: config.topics.clickstream, iot: config.topics.iot },
      ...(options.dt === undefined ? {} : { dt: options.dt }),
      dryRun: options.dryRun,
    },
    logger,
  );
  const bound = result.watermarkBoundMs;
  out(
    bound === undefined
      ? 'watermark bound: none (no window in clickstream_agg yet): no day can be sealed'
      : `watermark bound: ${new Date(bound).toISOString()} (the newest minute_end in clickstream_agg)`,
  );
  for (const d of result.decisions)
    if (!d.sealable && !result.tables.some((t) => t.dt === d.dt))
      out(
        `dt=${d.dt} not sealable: ${d.reason} (waits for the watermark to pass ${new Date(d.sealableFromMs).toISOString()})`,
      );
  for (const t of result.tables)
    out(
      `dt=${t.dt} ${t.table}: ${t.action} rows=${t.rows} files=${t.files} late_rows=${t.lateRows} revision=${t.revision}`,
    );
  const count = (...actions: string[]): number => result.tables.filter((t) => actions.includes(t.action)).length;
  out(
    `seal: days=${new Set(result.tables.map((t) => t.dt)).size} sealed=${count('sealed', 'would_seal')} replaced=${count('replaced', 'would_replace')} unchanged=${count('unchanged')} lost_rows=${count('lost_rows')}${options.dryRun ? ' (dry run: nothing written)' : ''}`,
  );
  if (count('lost_rows') > 0) process.exitCode = 1;
  return result;
}

export function registerLakeCommands(program: Command, context: CommandContext): void {
  const lake = program.command('lake').description('keeping the lake: compaction, sealed days and retention');
  lake
    .command('compact')
    .description(
      "merge each partition's small files of a day into files of about lake.target_file_bytes, swapped so no reader sees a row twice (platform stopped)",
    )
    .option('--table <table>', 'only this table')
    .option('--dt <YYYY-MM-DD>', 'only this day')
    .option('--dry-run', 'list what would be merged, change nothing (allowed while the platform runs)')
    .action(async (opts: { table?: string; dt?: string; dryRun?: boolean }) => {
      const { config } = context.config();
      await compactLakeCommand(
        config,
        { table: opts.table, dt: opts.dt, dryRun: opts.dryRun ?? false },
        context.logger(2),
        (line) => process.stdout.write(`${line}\n`),
      );
    });
  lake
    .command('seal')
    .description(
      'write tables/<t>/dt=D/_manifest.json for every complete day (watermark past its end + lake.seal_after, compacted); safe while the platform runs',
    )
    .option('--dt <YYYY-MM-DD>', 'only this day')
    .option('--dry-run', 'say what would be sealed, write nothing')
    .action(async (opts: { dt?: string; dryRun?: boolean }) => {
      const { config } = context.config();
      await sealLakeCommand(config, { dt: opts.dt, dryRun: opts.dryRun ?? false }, context.logger(2), (line) =>
        process.stdout.write(`${line}\n`),
      );
    });
  lake
    .command('expire')
    .description(
      'delete whole dt partitions older than lake.retention_days (marked lake root only, platform stopped: a running one expires them itself); the rebuild and verify honour what expired',
    )
    .option('--dry-run', 'list what would be deleted, delete nothing (allowed while the platform runs)')
    .action(async (opts: { dryRun?: boolean }) => {
      const { config } = context.config();
      await expireLake(config, { dryRun: opts.dryRun ?? false, nowMs: Date.now() }, context.logger(2), (line) =>
        process.stdout.write(`${line}\n`),
      );
    });
}
