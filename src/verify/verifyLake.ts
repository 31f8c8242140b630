/**
 * `verify`: the lake proved against Kafka and the checkpoint store (architecture.md, "Verifying
 * the lake"). Read-only: the store through a read-only SQLite connection (storeReader.ts), never
 * its lock; the lake by listing and footers; Kafka by group-less fetches. Partitions are counted
 * one after another, so memory holds one partition's plan and one fetch at a time.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  aggSinkId,
  NO_OFFSET,
  pendingRenames,
  rawSinkId,
  type CheckpointState,
} from '../checkpoint/checkpointState.js';
import { readCheckpointStore } from '../checkpoint/storeReader.js';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { fetchPartitionLogs, type PartitionLog } from '../kafka/admin/partitionLeaders.js';
import { countCommittedInRanges, type RangeCount } from '../kafka/wire/committedRangeCount.js';
import { connectionSecurity } from '../kafka/security.js';
import { listLakeFiles } from '../lake/lakeFiles.js';
import { tableDir } from '../lake/layout.js';
import { TABLE_NAMES } from '../lake/tables.js';
import { readWithStableUnits } from '../lake/unitVersions.js';
import { repartitionTopicName } from '../windows/repartitionRecords.js';
import { expiredRangesOf, type ExpiryRecord } from '../lake/expiryRecord.js';
import { readExpiryRecord } from '../lake/expiryRecordFile.js';
import type { Logger } from '../log/logger.js';
import type { Finding } from './findings.js';
import { componentFiles, componentInScope, groupPartition, type Component } from './components.js';
import { readFooterRows } from './footerRows.js';
import { inventoryLake, type LakeInventory, type PartitionFile, type RawTable } from './lakeInventory.js';
import { checkManifests } from './manifestFacts.js';
import { judgePartition, planPartition } from './partitionCheck.js';
import { emptyCounts, verifyPassed, type VerifyCounts } from './summary.js';
import { readStageWindowState, type StageWindowState } from './stageWindowState.js';
import { collectWindowFacts } from './windowCheck.js';
import { dtsOutOfWindowAccounting, judgeWindows, type WindowComparison } from './windowRules.js';
import { withWindowsModeResolved } from '../etl/windowsModeCheck.js';

export type VerifyTable = 'clickstream' | 'iot' | 'clickstream_agg' | '_rejected';
export const VERIFY_TABLES: readonly VerifyTable[] = ['clickstream', 'iot', 'clickstream_agg', '_rejected'];

export interface VerifyOptions {
  storeFile: string;
  /** Only this table (`_rejected`: the partitions of both topics, where rejected rows are matched). */
  table: VerifyTable | undefined;
  /** Only dt partitions >= this day (YYYY-MM-DD). */
  since: string | undefined;
  windowSizeMs: number;
  nowMs: number;
}

export interface VerifyReport {
  counts: VerifyCounts;
  findings: Finding[];
  passed: boolean;
}

/**
 * A tmp file lives from a roll's encoding to its rename: seconds. Older than a roll's age plus this, it was left
 * behind.
 */
export const TMP_MARGIN_MS = 60_000;
const FETCH_MAX_BYTES = 4 * 1024 * 1024;
/** A checkpoint's renames follow its commit within milliseconds; wait this long for them at most. */
const RENAME_WAIT_MS = 3_000;

function tableOfPath(path: string): string {
  return path.split('/')[1] ?? path;
}

/** `tables/<t>/dt=D/[<unit>/]<name>`: tmp files lie in dt=D/, final ones in a unit or (before units) beside them. */
function dtOfPath(path: string): string | undefined {
  return /^tables\/[^/]+\/dt=(\d{4}-\d{2}-\d{2})\//.exec(path)?.[1];
}

/** The lake listed after the store was read, once the store's latest renames are done (they follow its commit). */
async function listAfterRenames(lakeRoot: string, state: CheckpointState, logger: Logger) {
  const deadline = Date.now() + RENAME_WAIT_MS;
  for (;;) {
    const files = listLakeFiles(lakeRoot);
    const paths = new Set(files.map((f) => f.path));
    const pending = pendingRenames(state).filter((r) => paths.has(r.from) && !paths.has(r.to));
    if (pending.length === 0 || Date.now() >= deadline) {
      if (pending.length > 0) logger.warn({ pending_renames: pending.length }, 'committed renames not done yet');
      return files;
    }
    await sleep(250);
  }
}

/**
 * The verification, run again when a unit was swapped while it read (architecture.md, "Compaction"): while the platform
 * runs, each partition's owner compacts its files, and a file listed before a swap is gone from its unit by the time its
 * footer is read. The store and Kafka are read again with the lake: every attempt is consistent in itself.
 */
export async function verifyLake(configured: Config, options: VerifyOptions, logger: Logger): Promise<VerifyReport> {
  // Where the windows' state is read from (`etl.windows: auto` asks the group, as the ETL does).
  const config = await withWindowsModeResolved(configured, logger, 'debug', options.storeFile);
  const lakeRoot = resolve(config.storage.datalake_root);
  const tableDirs = TABLE_NAMES.map((table) => tableDir(lakeRoot, table));
  const { value, attempts } = await readWithStableUnits(tableDirs, () => verifyLakeOnce(config, options, logger));
  if (attempts > 1) logger.info({ attempts }, 'a unit was compacted while verify read it: read again');
  return value;
}

async function verifyLakeOnce(config: Config, options: VerifyOptions, logger: Logger): Promise<VerifyReport> {
  const lakeRoot = resolve(config.storage.datalake_root);
  const topics: Record<RawTable, string> = { clickstream: config.topics.clickstream, iot: config.topics.iot };
  const findings: Finding[] = [];
  const counts = emptyCounts();
  const { since, table } = options;

  // The store first, then the lake: a file committed after this read is newer than the checkpoint, never missing from
  // it.
  const store = readCheckpointStore(options.storeFile);
  const files = await listAfterRenames(lakeRoot, store.state, logger);
  const inventory = inventoryLake(files, topics);
  // What retention deleted on purpose (architecture.md, "Keeping the lake: retention"): expired, never missing.
  const expiry = readExpiryRecord(lakeRoot);
  const wants = (t: string): boolean => table === undefined || table === t;

  const tmpMaxAgeMs = config.etl.max_file_age + TMP_MARGIN_MS;
  for (const tmp of inventory.tmpFiles) {
    const t = tableOfPath(tmp.path);
    const dt = dtOfPath(tmp.path);
    if (!wants(t) || (since !== undefined && dt !== undefined && dt < since)) continue;
    const ageMs = options.nowMs - tmp.mtimeMs;
    if (ageMs > tmpMaxAgeMs)
      findings.push({
        kind: 'tmp_left_behind',
        table: t,
        files: [tmp.path],
        message: `uncommitted file ${Math.round(ageMs / 1000)} s old, older than a roll (etl.max_file_age + ${TMP_MARGIN_MS / 1000} s)`,
      });
  }
  for (const f of inventory.misplaced)
    if (wants(f.table))
      findings.push({
        kind: 'wrong_unit',
        table: f.table,
        files: [f.path],
        message: `in unit ${f.unit}, but its name belongs to unit ${f.owner}: readers read it, yet only the owner of ${f.unit} writes there`,
      });
  for (const path of inventory.unknown)
    if (wants(tableOfPath(path)))
      findings.push({
        kind: 'unknown_file',
        table: tableOfPath(path),
        files: [path],
        message: 'a name no writer gives',
      });

  const rawTables = (['clickstream', 'iot'] as const).filter(
    (t) => table === undefined || table === t || table === '_rejected',
  );
  const footers = new Map<string, number>();
  const readFooters = async (paths: readonly string[]): Promise<void> => {
    for (const [path, result] of await readFooterRows(lakeRoot, paths)) {
      if (typeof result === 'number') {
        footers.set(path, result);
        counts.files += 1;
        counts.rows += result;
      } else {
        findings.push({ kind: 'footer_unreadable', table: tableOfPath(path), files: [path], message: result.error });
      }
    }
  };
  const rowsOf = (component: Component): { raw: number; rejected: number } | undefined => {
    let raw = 0;
    let rejected = 0;
    for (const f of component.rawFiles) {
      const n = footers.get(f);
      if (n === undefined) return undefined;
      raw += n;
    }
    for (const f of component.rejectedFiles) {
      const n = footers.get(f);
      if (n === undefined) return undefined;
      rejected += n;
    }
    return { raw, rejected };
  };

  if (rawTables.length > 0) {
    const wanted = rawTables.map((t) => topics[t]);
    let logs = await fetchPartitionLogs(config, logger, wanted);
    const security = connectionSecurity(config);
    for (const rawTable of rawTables) {
      const topic = topics[rawTable];
      const files = inventory.files.get(topic) ?? new Map<number, PartitionFile[]>();
      const partitions = new Set<number>(files.keys());
      for (const sink of Object.keys(store.state.offsets)) {
        const m = /^raw:(.+):(\d+)$/.exec(sink);
        if (m && m[1] === topic) partitions.add(Number(m[2]));
      }
      for (const p of expiry?.partitions.get(topic)?.keys() ?? []) partitions.add(p);
      const topicLogs = logs.get(topic);
      if (topicLogs === undefined) {
        if (partitions.size === 0) continue;
        throw new SdpError(
          ErrorCodes.KAFKA_TOPIC_MISSING,
          `topic ${topic} does not exist, but the lake or the checkpoint store holds its records: nothing to verify them against`,
        );
      }
      for (const l of topicLogs) partitions.add(l.partition);
      for (const partition of [...partitions].sort((a, b) => a - b)) {
        const log = topicLogs.find((l) => l.partition === partition);
        const partitionFiles = files.get(partition) ?? [];
        const expired = expiry === undefined ? [] : expiredRangesOf(expiry, topic, partition);
        const inScope = groupPartition(topic, partition, partitionFiles, expired).components.filter((c) =>
          componentInScope(c, since),
        );
        await readFooters(inScope.flatMap(componentFiles));
        if (!log) {
          findings.push({
            kind: 'kafka_range',
            table: rawTable,
            topic,
            partition,
            message: `topic ${topic} has no partition ${partition}, but the lake or the store names it`,
          });
          continue;
        }
        const offset = store.state.offsets[rawSinkId(topic, partition)]?.[partition];
        const checkpoint = offset === undefined || offset === NO_OFFSET ? undefined : BigInt(offset);
        const input = { table: rawTable, topic, partition, files: partitionFiles, checkpoint, since, expired };
        let plan = planPartition({ ...input, logStart: log.logStart });
        const startedMs = Date.now();
        let counted: RangeCount;
        const count = (l: PartitionLog): Promise<RangeCount> =>
          countCommittedInRanges({
            host: l.host,
            port: l.port,
            topic,
            partition,
            spans: plan.segments.map((s) => s.range),
            maxBytes: FETCH_MAX_BYTES,
            timeoutMs: config.kafka.request_timeout,
            clientId: `${config.kafka.client_id}-verify`,
            security,
          });
        try {
          counted = await count(log);
        } catch (first) {
          // A leader that moved, or a log start that moved past a range meanwhile (retention): look again, once.
          logger.info({ topic, partition, err: first }, 'verify: fetch failed, reading the partition leaders again');
          logs = await fetchPartitionLogs(config, logger, wanted);
          const again = logs.get(topic)?.find((l) => l.partition === partition);
          if (!again) throw first;
          plan = planPartition({ ...input, logStart: again.logStart });
          try {
            counted = await count(again);
          } catch (err) {
            throw new SdpError(
              ErrorCodes.KAFKA_UNREACHABLE,
              `reading ${topic}/${partition} from its leader ${again.host}:${again.port} failed: ${err instanceof Error ? err.message : String(err)}`,
              [],
              { cause: err },
            );
          }
        }
        const verdict = judgePartition(input, plan.segments, counted.counts, counted.readTo, rowsOf);
        findings.push(...plan.findings, ...verdict.findings);
        counts.gaps += verdict.gaps;
        counts.overlaps += plan.overlaps;
        counts.count_mismatches += verdict.countMismatches;
        counts.unverifiable_ranges += plan.unverifiable;
        counts.expired_ranges += plan.expired;
        logger.debug(
          {
            topic,
            partition,
            components: inScope.length,
            ranges: plan.segments.length,
            fetches: counted.fetches,
            fetched_bytes: counted.bytes,
            duration_ms: Date.now() - startedMs,
          },
          'verify: partition counted',
        );
      }
    }
  }

  if (wants('clickstream_agg'))
    await checkWindows(
      config,
      logger,
      options,
      inventory,
      store.state,
      lakeRoot,
      findings,
      counts,
      readFooters,
      footers,
      expiry,
    );

  // The sealed days: each manifest against its files (architecture.md, "Sealed days").
  const sealed = await checkManifests(lakeRoot, VERIFY_TABLES.filter(wants), since, expiry?.dts ?? {});
  counts.sealed_manifests = sealed.manifests;
  counts.manifest_mismatches = sealed.mismatches;
  counts.manifest_pending = sealed.pending;
  findings.push(...sealed.findings);

  return { counts, findings, passed: verifyPassed(findings) };
}

async function checkWindows(
  config: Config,
  logger: Logger,
  options: VerifyOptions,
  inventory: LakeInventory,
  state: CheckpointState,
  lakeRoot: string,
  findings: Finding[],
  counts: VerifyCounts,
  readFooters: (paths: readonly string[]) => Promise<void>,
  footers: ReadonlyMap<string, number>,
  expiry: ExpiryRecord | undefined,
): Promise<void> {
  const { since } = options;
  const topic = config.topics.clickstream;
  const expiredDts = dtsOutOfWindowAccounting(expiry);
  const aggFiles = inventory.aggFiles
    .filter((f) => (since === undefined || f.dt >= since) && !expiredDts.has(f.dt))
    .map((f) => f.path);
  await readFooters(aggFiles);
  let agg = state.aggregators[aggSinkId(topic)]?.state as
    | {
        lateEventsTotal?: number;
        openWindows?: Array<{ startMs: number; counts: Array<{ url: string; count: number }> }>;
      }
    | undefined;
  const rawSinks = new Map<number, bigint>();
  for (const [sink, byPartition] of Object.entries(state.offsets)) {
    const m = /^raw:(.+):(\d+)$/.exec(sink);
    if (m && m[1] === topic) for (const [p, o] of Object.entries(byPartition)) rawSinks.set(Number(p), BigInt(o));
  }
  const aggSinks = new Map(
    Object.entries(state.offsets[aggSinkId(topic)] ?? {}).map(([p, o]) => [Number(p), BigInt(o)]),
  );
  // Windows across members keep their state in Kafka, not in the store: the stage-2 snapshots, and how far each
  // applied every clickstream partition (architecture.md, "Windows across members").
  const disagree: string[] = [];
  if (config.etl.windows === 'members') {
    const stages = await stageState(config, logger, options.windowSizeMs);
    agg = stages;
    aggSinks.clear();
    for (const [p, { min, max }] of stages?.through ?? []) {
      aggSinks.set(p, min);
      if (min !== max) disagree.push(`partition ${p}: window tasks at offsets ${min}..${max}`);
    }
  }
  // The raw files the store had committed when it was read; a roll committed since is beyond the aggregator's view.
  // A merged file reaching across the checkpointed offset (compacted after the store was read) holds rows of both.
  const rawFiles: string[] = [];
  let unreadable = false;
  const straddling: string[] = [];
  for (const [partition, partitionFiles] of inventory.files.get(topic) ?? new Map<number, PartitionFile[]>()) {
    const upTo = rawSinks.get(partition);
    for (const file of partitionFiles) {
      if (file.table === '_rejected') continue;
      if ((since !== undefined && file.dt < since) || expiredDts.has(file.dt)) continue;
      if (upTo !== undefined && file.last > upTo) {
        if (file.first <= upTo) straddling.push(file.path);
        continue;
      }
      const f = file.path;
      if (!footers.has(f)) {
        // Not read yet (--table clickstream_agg) or unreadable: the window check must not meet a broken file.
        await readFooters([f]);
        if (!footers.has(f)) unreadable = true;
      }
      if (footers.has(f)) rawFiles.push(f);
    }
  }
  let comparison: WindowComparison;
  const partitions = new Set([...rawSinks.keys(), ...aggSinks.keys()]);
  const behind: string[] = [];
  const ahead: string[] = [];
  for (const p of [...partitions].sort((a, b) => a - b)) {
    const r = rawSinks.get(p) ?? -1n;
    const a = aggSinks.get(p) ?? -1n;
    if (r < a) behind.push(`partition ${p}: raw table at offset ${r}, windows at ${a}`);
    else if (r > a) ahead.push(`partition ${p}: raw table at offset ${r}, windows at ${a}`);
  }
  const rerun = 'run verify again once the ETL is caught up or stopped';
  if (agg === undefined || typeof agg.lateEventsTotal !== 'number')
    comparison = {
      mode: 'none',
      reason:
        config.etl.windows === 'members'
          ? 'no window task has committed a snapshot yet'
          : 'the checkpoint store holds no window state',
    };
  else if (disagree.length > 0)
    // While other members run, or after a stop whose drain ran out of time, a task may not have fetched what another
    // applied (architecture.md, "Windows across members"): they agree again once the rest is applied.
    comparison = {
      mode: 'none',
      reason:
        `${disagree.join('; ')} (the window tasks have not all applied the same marks: run verify again once the ` +
        'ETL is caught up; after a stop, once its next run has applied the rest)',
    };
  else if (unreadable) comparison = { mode: 'none', reason: 'a clickstream file is unreadable' };
  else if (straddling.length > 0)
    comparison = {
      mode: 'none',
      reason: `${straddling.join(', ')} reach${straddling.length === 1 ? 'es' : ''} past the checkpointed offset read first (${rerun})`,
    };
  else if (behind.length > 0) comparison = { mode: 'none', reason: `${behind.join('; ')} (${rerun})` };
  else if (ahead.length > 0) comparison = { mode: 'raw-ahead', reason: `${ahead.join('; ')} (${rerun})` };
  else {
    // Late events of expired days are in the total but their raw rows are gone: the sum can only be bounded.
    comparison = {
      mode: since === undefined && expiredDts.size === 0 ? 'exact' : 'bounded',
      lateEventsTotal: agg.lateEventsTotal,
    };
  }
  if (aggFiles.length === 0 && rawFiles.length === 0) return;
  const facts = await collectWindowFacts({
    lakeRoot,
    aggFiles: aggFiles.filter((f) => footers.has(f)),
    rawFiles,
    openWindows: agg?.openWindows ?? [],
    windowSizeMs: options.windowSizeMs,
    sinceMs: since === undefined ? undefined : Date.parse(`${since}T00:00:00Z`),
  });
  const verdict = judgeWindows(facts, comparison);
  counts.windows += facts.windows;
  counts.window_mismatches += verdict.mismatches;
  findings.push(...verdict.findings);
}

/** The stage-2 tasks' state from `<group>-pv-state` (R from the repartition topic); undefined if none committed. */
async function stageState(config: Config, logger: Logger, windowSizeMs: number): Promise<StageWindowState | undefined> {
  const topic = repartitionTopicName(config.etl.consumer_group);
  const logs = (await fetchPartitionLogs(config, logger, [topic])).get(topic);
  if (logs === undefined || logs.length === 0) return undefined;
  return readStageWindowState(config, logger, logs.length, windowSizeMs);
}
