/**
 * One pass of the sealer (architecture.md, "Sealed days"): judges every day of the lake (lake/sealRule.ts) and writes
 * or replaces the manifests of the sealable and the already sealed ones (lake/dayManifest.ts). It only writes
 * manifests, never a Parquet file, so it runs beside the platform: `lake seal`, and every few minutes in the ETL.
 *
 * Cost: a listing, the footers of `clickstream_agg`'s newest dt, the compaction plan; then per sealed day only what
 * changed since its manifest is read (lake files are written once, so a listed path of the same size keeps its rows
 * and checksum). A new seal reads its files whole once, for their sha256.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log/logger.js';
import { footerRowCount } from '../verify/footerRows.js';
import { planCompaction } from './compactionPlan.js';
import { buildManifest, nameFacts, type DayManifest, type ManifestEntry } from './dayManifest.js';
import { readManifest, removeStaleManifestTmp, sha256OfFile, writeManifest } from './dayManifestFile.js';
import { dirEntries } from './dirEntries.js';
import { partitionDir, TABLES_DIR } from './layout.js';
import { listLakeFiles, type LakeEntry } from './lakeFiles.js';
import { asNumber, scanColumns } from './parquetColumns.js';
import { judgeSealable, type SealDecision } from './sealRule.js';
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

const DT_OF = /^tables\/([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\//;

/** The committed files of one table's day, dt-relative (`<unit>/<name>`, or `<name>` before units), with sizes. */
async function listDay(lakeRoot: string, table: TableName, dt: string): Promise<Map<string, number>> {
  const dir = partitionDir(lakeRoot, table, dt);
  const out = new Map<string, number>();
  const add = async (rel: string): Promise<void> => {
    const stat = await fs.lstat(path.join(dir, rel)).catch(() => undefined); // renamed meanwhile
    if (stat?.isFile()) out.set(rel, stat.size);
  };
  for (const entry of await dirEntries(dir)) {
    if (entry.isFile() && entry.name.endsWith('.parquet') && !entry.name.startsWith('.')) await add(entry.name);
    else if (entry.isDirectory())
      for (const inner of await dirEntries(path.join(dir, entry.name)))
        if (inner.isFile() && inner.name.endsWith('.parquet')) await add(`${entry.name}/${inner.name}`);
  }
  return out;
}

/** `_rejected` rows of `topic`'s partition with offsets in [first, last], over every dt. */
async function rejectedRowsIn(
  lakeRoot: string,
  rejected: readonly LakeEntry[],
  topic: string,
  facts: { partition: number; first: string; last: string },
): Promise<number> {
  const lo = BigInt(facts.first);
  const hi = BigInt(facts.last);
  let rows = 0;
  for (const file of rejected) {
    const f = nameFacts('_rejected', file.path.split('/').slice(3).join('/'));
    if (!f || f.owner !== `${topic}:${facts.partition}`) continue;
    if (BigInt(f.last) < lo || BigInt(f.first) > hi) continue;
    const full = path.join(lakeRoot, file.path);
    if (BigInt(f.first) >= lo && BigInt(f.last) <= hi) {
      rows += await footerRowCount(full);
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
  rejected: readonly LakeEntry[],
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
      rows: await footerRowCount(full),
      bytes,
      partition: facts.partition,
      first: facts.first,
      last: facts.last,
      sha256: await sha256OfFile(full),
    };
    if ((table === 'clickstream' || table === 'iot') && facts.partition !== null)
      entry.rejected_rows = await rejectedRowsIn(lakeRoot, rejected, rawTopics[table], {
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
  const listed = listLakeFiles(lakeRoot);
  const committed = listed.filter((f) => f.path.endsWith('.parquet'));
  const rejected = committed.filter((f) => f.path.startsWith(`${TABLES_DIR}/_rejected/`));
  const boundMs = await watermarkBoundMs(lakeRoot);

  const dtsOf = new Map<string, Set<TableName>>();
  for (const f of committed) {
    const m = DT_OF.exec(f.path);
    if (!m || !(TABLE_NAMES as readonly string[]).includes(m[1]!)) continue;
    if (options.dt !== undefined && m[2] !== options.dt) continue;
    const tables = dtsOf.get(m[2]!) ?? new Set<TableName>();
    tables.add(m[1] as TableName);
    dtsOf.set(m[2]!, tables);
  }
  const unmerged = new Set(planCompaction(committed, options.targetBytes, options.rawTopics).map((m) => m.dt));
  const dts = [...dtsOf.keys()].sort();
  const decisions = judgeSealable(
    dts.map((dt) => ({ dt, compacted: !unmerged.has(dt) })),
    boundMs,
    options.sealAfterMs,
  );

  const tables: SealedTable[] = [];
  for (const decision of decisions) {
    const { dt } = decision;
    const existing = new Map<TableName, DayManifest>();
    for (const table of TABLE_NAMES) {
      const onDisk = await readManifest(lakeRoot, table, dt);
      if (onDisk) existing.set(table, onDisk.manifest);
    }
    // Sealed once, kept current: late files may make the day unmerged again, and its manifest must take them in.
    if (!decision.sealable && existing.size === 0) continue;
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
        ).catch((err: unknown) => {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // compacted meanwhile
          throw err;
        });
        const again = await listDay(lakeRoot, table, dt);
        if (entries !== undefined && sameListing(files, again)) {
          outcome = buildManifest({
            table,
            dt,
            entries,
            previous,
            nowMs: now(),
            watermarkBoundMs: boundMs ?? decision.sealableFromMs,
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
