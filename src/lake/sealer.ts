/**
 * One pass of the sealer (architecture.md, "Sealed days"): judges every day of the lake (lake/sealRule.ts) and writes
 * or replaces the manifests of the sealable and the already sealed ones (lake/dayManifest.ts). It only writes
 * manifests, never a Parquet file, so it runs beside the platform: `lake seal`, and every few minutes in the ETL.
 *
 * Cost: the dt directories and manifests, the footers of `clickstream_agg`'s newest dt; the compaction plan only when
 * an unsealed day is past the watermark (over that day and the later ones); then per sealed day a listing, and only
 * what changed since its manifest is read (lake files are written once, so a listed path of the same size keeps its
 * rows and checksum). A new seal reads its files whole once, for their sha256. All of it asynchronous: it runs on the
 * ETL's event loop.
 */
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { planCompaction, type UnitFile } from './compactionPlan.js';
import { buildManifest, nameFacts, type DayManifest, type ManifestEntry } from './dayManifest.js';
import { readManifest, removeStaleManifestTmp, sha256OfFile, writeManifest } from './dayManifestFile.js';
import { listDayFiles } from './dayFiles.js';
import { dirEntries, listDtFiles } from './dirEntries.js';
import { readExpiryRecord } from './expiryRecordFile.js';
import { partitionDir, TABLES_DIR } from './layout.js';
import { asNumber, scanColumns } from './parquetColumns.js';
import { readRowCount } from './parquetFooter.js';
import { dayEndMs, judgeSealable, type SealDecision } from './sealRule.js';
import { TABLE_NAMES, type TableName } from './tables.js';
import { watermarkBoundMs } from './watermarkBound.js';

export interface SealOptions {
  sealAfterMs: number;
  targetBytes: number;
  rawTopics: Record<'clickstream' | 'iot', string>;
  /** Only this day. */
  dt?: string;
  dryRun?: boolean;
  nowMs?: () => number;
}

/** One table's manifest of one day, after the pass. */
export interface SealedTable {
  table: TableName;
  dt: string;
  /** What this pass did: wrote the first seal, replaced it, found it current, or would have (dry run). */
  action: 'sealed' | 'replaced' | 'unchanged' | 'would_seal' | 'would_replace' | 'lost_rows';
  rows: number;
  files: number;
  lateRows: number;
  /** Late rows this pass added. */
  lateRowsAdded: number;
  revision: number;
}

export interface SealPassResult {
  watermarkBoundMs: number | undefined;
  decisions: SealDecision[];
  tables: SealedTable[];
}

/** A manifest tmp file older than this was left by a sealer that died mid-write. */
const STALE_TMP_MS = 10 * 60_000;
/** A dt whose files keep changing while its manifest is built is tried this many times in one pass. */
const LISTING_TRIES = 3;

const DT_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;

/** The committed files of one table's day, dt-relative (`<unit>/<name>`, or `<name>` before units), with sizes. */
async function listDay(lakeRoot: string, table: TableName, dt: string): Promise<Map<string, number>> {
  const files = await listDayFiles(partitionDir(lakeRoot, table, dt));
  return new Map(files.map((f) => [f.path, f.bytes]));
}

/** `_rejected` rows of `topic`'s partition with offsets in [first, last], over every dt. */
async function rejectedRowsIn(
  lakeRoot: string,
  rejected: readonly string[],
  topic: string,
  facts: { partition: number; first: string; last: string },
): Promise<number> {
  const lo = BigInt(facts.first);
  const hi = BigInt(facts.last);
  let rows = 0;
  for (const file of rejected) {
    const f = nameFacts('_rejected', file.split('/').slice(3).join('/'));
    if (!f || f.owner !== `${topic}:${facts.partition}`) continue;
    if (BigInt(f.last) < lo || BigInt(f.first) > hi) continue;
    const full = path.join(lakeRoot, file);
    if (BigInt(f.first) >= lo && BigInt(f.last) <= hi) {
      rows += await readRowCount(full);
      continue;
    }
    // A merged file reaching past the range: its offsets tell which rows are the range's.
    await scanColumns(full, ['offset'], ([offsets], n) => {
      for (let i = 0; i < n; i++) {
        const o = BigInt(asNumber(offsets![i]));
        if (o >= lo && o <= hi) rows += 1;
      }
    });
  }
  return rows;
}

/** The entries of a day's files; what the previous manifest lists under the same path and size is taken from it. */
async function entriesOf(
  lakeRoot: string,
  table: TableName,
  dt: string,
  files: Map<string, number>,
  previous: DayManifest | undefined,
  rawTopics: Record<'clickstream' | 'iot', string>,
  rejected: () => Promise<readonly string[]>,
  logger: Logger,
): Promise<ManifestEntry[]> {
  const known = new Map((previous?.entries ?? []).map((e) => [e.path, e]));
  const dir = partitionDir(lakeRoot, table, dt);
  const entries: ManifestEntry[] = [];
  for (const [rel, bytes] of files) {
    const facts = nameFacts(table, rel);
    if (!facts) {
      logger.warn(
        { component: 'sealer', table, dt, file: rel },
        'a name no writer gives: not sealed (verify names it)',
      );
      continue;
    }
    const old = known.get(rel);
    if (old && old.bytes === bytes) {
      entries.push(old);
      continue;
    }
    const full = path.join(dir, rel);
    const entry: ManifestEntry = {
      path: rel,
      rows: await readRowCount(full),
      bytes,
      partition: facts.partition,
      first: facts.first,
      last: facts.last,
      sha256: await sha256OfFile(full),
    };
    if ((table === 'clickstream' || table === 'iot') && facts.partition !== null)
      entry.rejected_rows = await rejectedRowsIn(lakeRoot, await rejected(), rawTopics[table], {
        partition: facts.partition,
        first: facts.first,
        last: facts.last,
      });
    entries.push(entry);
  }
  return entries;
}

const sameListing = (a: Map<string, number>, b: Map<string, number>): boolean =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

// Longer than 80 lines on purpose: the pass in its order (list, bound, judge, then per day and table build, check the
// listing held, write), each step's outcome logged and returned beside it.
export async function sealPass(lakeRoot: string, options: SealOptions, logger: Logger): Promise<SealPassResult> {
  const now = options.nowMs ?? Date.now;
  const boundMs = await watermarkBoundMs(lakeRoot);

  // The days of each table from their directories alone; then every manifest there is.
  // A day retention expired is being deleted owner by owner (architecture.md, "Keeping the lake: retention"): never
  // sealed again, its manifest goes with its last unit.
  const expired = readExpiryRecord(lakeRoot)?.dts ?? {};
  const daysOf = new Map<TableName, string[]>();
  for (const table of TABLE_NAMES) {
    const days: string[] = [];
    for (const entry of await dirEntries(path.join(lakeRoot, TABLES_DIR, table))) {
      const dt = DT_DIR.exec(entry.name)?.[1];
      if (entry.isDirectory() && dt !== undefined && !expired[table]?.includes(dt)) days.push(dt);
    }
    daysOf.set(table, days);
  }
  const dtsOf = new Map<string, Set<TableName>>();
  for (const [table, days] of daysOf)
    for (const dt of days) {
      if (options.dt !== undefined && dt !== options.dt) continue;
      dtsOf.set(dt, (dtsOf.get(dt) ?? new Set<TableName>()).add(table));
    }
  const dts = [...dtsOf.keys()].sort();
  const manifests = new Map<string, Map<TableName, DayManifest>>();
  for (const dt of dts)
    for (const table of dtsOf.get(dt)!) {
      const onDisk = await readManifest(lakeRoot, table, dt);
      if (!onDisk) continue;
      manifests.set(dt, (manifests.get(dt) ?? new Map<TableName, DayManifest>()).set(table, onDisk.manifest));
    }

  // Only unsealed days past the watermark need the compaction plan: their files and every later day's (a writer's
  // newest commit, never merged, lies there), not the whole lake.
  const unsealed = dts.filter((dt) => !manifests.has(dt));
  const due = judgeSealable(
    unsealed.map((dt) => ({ dt, compacted: true })),
    boundMs,
    options.sealAfterMs,
  ).filter((d) => d.sealable);
  const unmerged = new Set<string>();
  if (due.length > 0) {
    const from = due[0]!.dt;
    const files: UnitFile[] = [];
    // The files the running partition owners compact (architecture.md, "Compaction"). Not `clickstream_agg`'s: a day
    // seals without waiting for its window owners' merges (the aggregator's or the stage-2 tasks'), and a merge after
    // the seal only updates the manifest (a merged range counts no row late).
    for (const [table, days] of daysOf)
      for (const dt of table === 'clickstream_agg' ? [] : days.filter((d) => d >= from))
        for (const [rel, sizeBytes] of await listDay(lakeRoot, table, dt))
          files.push({ path: `${TABLES_DIR}/${table}/dt=${dt}/${rel}`, sizeBytes });
    for (const merge of planCompaction(files, options.targetBytes, options.rawTopics)) unmerged.add(merge.dt);
  }
  const decisions = judgeSealable(
    unsealed.map((dt) => ({ dt, compacted: !unmerged.has(dt) })),
    boundMs,
    options.sealAfterMs,
  );
  const decisionOf = new Map(decisions.map((d) => [d.dt, d]));

  let rejectedFiles: Promise<string[]> | undefined;
  const rejected = (): Promise<string[]> =>
    (rejectedFiles ??= listDtFiles(lakeRoot, '_rejected').then((days) =>
      days.flatMap((d) => d.files.filter((f) => f.endsWith('.parquet'))),
    ));

  const tables: SealedTable[] = [];
  for (const dt of dts) {
    const existing = manifests.get(dt) ?? new Map<TableName, DayManifest>();
    const decision = decisionOf.get(dt);
    // Sealed once, kept current: late files may make the day unmerged again, and its manifest must take them in.
    if (existing.size === 0 && !decision?.sealable) continue;
    const boundUsed = boundMs ?? dayEndMs(dt) + options.sealAfterMs;
    const sibling = existing.values().next().value;
    for (const table of TABLE_NAMES) {
      if (!dtsOf.get(dt)?.has(table) && !existing.has(table)) continue;
      if (!options.dryRun) await removeStaleManifestTmp(partitionDir(lakeRoot, table, dt), STALE_TMP_MS, now());
      // A table with no manifest in a day already sealed: every row of it arrived after the seal.
      const previous =
        existing.get(table) ??
        (sibling && {
          ...sibling,
          table,
          revision: 0,
          rows: 0,
          files: 0,
          bytes: 0,
          late_rows: 0,
          entries: [],
          ...(table === 'clickstream' || table === 'iot' ? { rejected_rows: 0 } : { rejected_rows: undefined }),
        });
      let files = await listDay(lakeRoot, table, dt);
      if (files.size === 0 && !existing.has(table)) continue; // only tmp files yet: nothing to seal
      let outcome: ReturnType<typeof buildManifest> | undefined;
      for (let attempt = 1; attempt <= LISTING_TRIES; attempt++) {
        const entries = await entriesOf(
          lakeRoot,
          table,
          dt,
          files,
          previous,
          options.rawTopics,
          rejected,
          logger,
        ).catch((err: unknown): undefined => {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          rejectedFiles = undefined; // compacted meanwhile: list again, `_rejected` too
          return undefined;
        });
        const again = await listDay(lakeRoot, table, dt);
        if (entries !== undefined && sameListing(files, again)) {
          outcome = buildManifest({
            table,
            dt,
            entries,
            previous,
            nowMs: now(),
            watermarkBoundMs: boundUsed,
          });
          break;
        }
        files = again;
      }
      if (outcome === undefined) {
        logger.warn({ component: 'sealer', table, dt }, 'files kept changing while the manifest was built: next pass');
        continue;
      }
      if (outcome.kind === 'lost') {
        logger.warn(
          { component: 'sealer', table, dt, lost: outcome.lost.map((e) => e.path) },
          'rows listed by the seal are gone: the manifest is kept as it is (verify names the files)',
        );
        const m = existing.get(table)!;
        tables.push({
          table,
          dt,
          action: 'lost_rows',
          rows: m.rows,
          files: m.files,
          lateRows: m.late_rows,
          lateRowsAdded: 0,
          revision: m.revision,
        });
        continue;
      }
      const first = !existing.has(table);
      let action: SealedTable['action'] = 'unchanged';
      if (outcome.kind === 'write') {
        action = options.dryRun ? (first ? 'would_seal' : 'would_replace') : first ? 'sealed' : 'replaced';
        if (!options.dryRun) await writeManifest(lakeRoot, outcome.manifest);
      }
      const m = outcome.manifest;
      const added = outcome.kind === 'write' ? outcome.lateRowsAdded : 0;
      if (action === 'sealed' || action === 'replaced')
        logger.info(
          {
            component: 'sealer',
            table,
            dt,
            action,
            rows: m.rows,
            files: m.files,
            late_rows: m.late_rows,
            late_rows_added: added,
            revision: m.revision,
          },
          action === 'sealed' ? 'day sealed' : 'day manifest replaced',
        );
      tables.push({
        table,
        dt,
        action,
        rows: m.rows,
        files: m.files,
        lateRows: m.late_rows,
        lateRowsAdded: added,
        revision: m.revision,
      });
    }
  }
  return { watermarkBoundMs: boundMs, decisions, tables };
}
