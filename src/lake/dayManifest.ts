/**
 * The seal of one table's day: `tables/<t>/dt=D/_manifest.json` (architecture.md, "Sealed days"). Pure: the
 * manifest built from facts about the dt's files, the late rows since the previous manifest, the bytes on disk.
 *
 * An index derived from the lake: every field but the first seal's `sealed_at` and `watermark_bound` follows from the
 * files, so two sealers that agree write the same content, and a pass that finds the content unchanged writes
 * nothing. A manifest only grows: rows it listed stay listed (in their file, or in the merged file that replaced it);
 * a day that lost a listed file is not sealed again (`lost`), and `verify` names it.
 */
import { z } from 'zod';
import type { TableName } from './tables.js';
import { AGG_NAME_PATTERN } from './aggFileName.js';

export const MANIFEST_FILE = '_manifest.json';
export const MANIFEST_VERSION = 1;

/**
 * One committed file of the day. Offsets as decimal strings; an aggregator's `part-<checkpointId>` has first = last,
 * its merged `part-<firstId>-<lastId>` the ids (lake/aggFileName.ts).
 */
export interface ManifestEntry {
  /** Relative to the dt directory: `<unit>/<name>` (just `<name>` in a lake from before units). */
  path: string;
  rows: number;
  bytes: number;
  /** The Kafka partition the name carries (the input partition; a stage-2 task's r); null for `part-<seq>`. */
  partition: number | null;
  first: string;
  last: string;
  sha256: string;
  /** Raw tables: `_rejected` rows of the same partition in [first, last] (any dt). */
  rejected_rows?: number;
}

export interface DayManifest {
  version: typeof MANIFEST_VERSION;
  table: TableName;
  dt: string;
  /** ISO-8601: the first seal of this day; kept by every later revision. */
  sealed_at: string;
  /** ISO-8601: the watermark's lower bound that first seal saw (the newest `minute_end` in `clickstream_agg`). */
  watermark_bound: string;
  /** 1 at the first seal, one more at each replacement (late files, a merge of them). */
  revision: number;
  rows: number;
  files: number;
  bytes: number;
  /** Raw tables only: Σ `rejected_rows`. */
  rejected_rows?: number;
  /** Rows that arrived after a seal, over every revision: rows in offset ranges no earlier manifest covered. */
  late_rows: number;
  entries: ManifestEntry[];
}

/** What a name tells: who wrote the file (one writer's ranges never intersect) and its range. */
export interface NameFacts {
  /** `p<p>` raw, `<topic>:<p>` rejected, `r<r>` a stage-2 task, `agg` the process aggregator. */
  owner: string;
  partition: number | null;
  first: string;
  last: string;
}

const UNIT = '(?:[^/]+/)?';
const RAW = new RegExp(`^${UNIT}part-(\\d+)-(\\d{20})-(\\d{20})\\.parquet$`);
const REJECTED = new RegExp(`^${UNIT}part-(.+)-(\\d+)-(\\d{20})-(\\d{20})\\.parquet$`);
const AGG_SEQ = new RegExp(`^${UNIT}${AGG_NAME_PATTERN}$`);

const dec = (padded: string): string => BigInt(padded).toString();

/** The facts of a dt-relative path of `table`; undefined for a name no writer gives (not sealed; verify names it). */
export function nameFacts(table: TableName, relPath: string): NameFacts | undefined {
  if (table === '_rejected') {
    const m = REJECTED.exec(relPath);
    return m ? { owner: `${m[1]}:${m[2]}`, partition: Number(m[2]), first: dec(m[3]!), last: dec(m[4]!) } : undefined;
  }
  const m = RAW.exec(relPath);
  if (m) {
    const owner = table === 'clickstream_agg' ? `r${m[1]}` : `p${m[1]}`;
    return { owner, partition: Number(m[1]), first: dec(m[2]!), last: dec(m[3]!) };
  }
  const s = table === 'clickstream_agg' ? AGG_SEQ.exec(relPath) : null;
  return s ? { owner: 'agg', partition: null, first: dec(s[1]!), last: dec(s[2] ?? s[1]!) } : undefined;
}

export interface LateAccounting {
  /** Rows of the current files in ranges the previous manifest did not cover. */
  lateRows: number;
  /** Entries of the previous manifest that no current file holds: rows gone from a sealed day. */
  lost: ManifestEntry[];
}

const within = (inner: { first: string; last: string }, outer: { first: string; last: string }): boolean =>
  BigInt(inner.first) >= BigInt(outer.first) && BigInt(inner.last) <= BigInt(outer.last);

/**
 * Late rows between two listings of one table's day. Per writer, a current file's rows minus the rows of the previous
 * entries its range contains: a late file counts whole, a merge of sealed and late files counts only the late part,
 * a file listed before counts nothing. So compaction after a seal never counts a row late twice.
 */
export function lateRowsSince(
  table: TableName,
  previous: readonly ManifestEntry[],
  current: readonly ManifestEntry[],
): LateAccounting {
  const ownerOf = (e: ManifestEntry): string => nameFacts(table, e.path)?.owner ?? e.path;
  const byOwner = new Map<string, ManifestEntry[]>();
  for (const e of previous) {
    const list = byOwner.get(ownerOf(e)) ?? [];
    list.push(e);
    byOwner.set(ownerOf(e), list);
  }
  const held = new Set<ManifestEntry>();
  let lateRows = 0;
  for (const file of current) {
    let covered = 0;
    for (const old of byOwner.get(ownerOf(file)) ?? []) {
      if (!within(old, file)) continue;
      covered += old.rows;
      held.add(old);
    }
    lateRows += Math.max(0, file.rows - covered);
  }
  return { lateRows, lost: previous.filter((e) => !held.has(e)) };
}

export interface BuildInput {
  table: TableName;
  dt: string;
  /** The dt's committed files now, any order. */
  entries: readonly ManifestEntry[];
  previous: DayManifest | undefined;
  nowMs: number;
  watermarkBoundMs: number;
}

export type BuildOutcome =
  | { kind: 'unchanged'; manifest: DayManifest }
  | { kind: 'write'; manifest: DayManifest; lateRowsAdded: number }
  | { kind: 'lost'; lost: ManifestEntry[] };

/** The manifest the dt's files make now, against the one on disk (if any). */
export function buildManifest(input: BuildInput): BuildOutcome {
  const { table, dt, previous } = input;
  const entries = [...input.entries]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((e) => ({ ...e }));
  const raw = table === 'clickstream' || table === 'iot';
  let lateRowsAdded = 0;
  if (previous) {
    const late = lateRowsSince(table, previous.entries, entries);
    if (late.lost.length > 0) return { kind: 'lost', lost: late.lost };
    lateRowsAdded = late.lateRows;
  }
  const manifest: DayManifest = {
    version: MANIFEST_VERSION,
    table,
    dt,
    sealed_at: previous?.sealed_at ?? new Date(input.nowMs).toISOString(),
    watermark_bound: previous?.watermark_bound ?? new Date(input.watermarkBoundMs).toISOString(),
    revision: previous?.revision ?? 1,
    rows: entries.reduce((n, e) => n + e.rows, 0),
    files: entries.length,
    bytes: entries.reduce((n, e) => n + e.bytes, 0),
    ...(raw ? { rejected_rows: entries.reduce((n, e) => n + (e.rejected_rows ?? 0), 0) } : {}),
    late_rows: (previous?.late_rows ?? 0) + lateRowsAdded,
    entries,
  };
  if (previous && encodeManifest(manifest) === encodeManifest(previous)) return { kind: 'unchanged', manifest };
  if (previous) manifest.revision = previous.revision + 1;
  return { kind: 'write', manifest, lateRowsAdded };
}

/** The bytes on disk: fixed key order, one entry a line, so equal manifests are equal bytes and diffs read well. */
export function encodeManifest(m: DayManifest): string {
  const { entries, ...head } = m;
  const ordered = {
    version: head.version,
    table: head.table,
    dt: head.dt,
    sealed_at: head.sealed_at,
    watermark_bound: head.watermark_bound,
    revision: head.revision,
    rows: head.rows,
    files: head.files,
    bytes: head.bytes,
    ...(head.rejected_rows === undefined ? {} : { rejected_rows: head.rejected_rows }),
    late_rows: head.late_rows,
  };
  const lines = entries.map((e) =>
    JSON.stringify({
      path: e.path,
      rows: e.rows,
      bytes: e.bytes,
      partition: e.partition,
      first: e.first,
      last: e.last,
      sha256: e.sha256,
      ...(e.rejected_rows === undefined ? {} : { rejected_rows: e.rejected_rows }),
    }),
  );
  const headText = JSON.stringify(ordered, null, 2).slice(0, -2);
  return `${headText},\n  "entries": [${lines.length === 0 ? '' : `\n    ${lines.join(',\n    ')}\n  `}]\n}\n`;
}

const decimal = z.string().regex(/^\d{1,19}$/);
const count = z.number().int().nonnegative();
const entrySchema = z.strictObject({
  path: z.string().min(1),
  rows: count,
  bytes: count,
  partition: z.number().int().nonnegative().nullable(),
  first: decimal,
  last: decimal,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rejected_rows: count.optional(),
});
const manifestSchema = z.strictObject({
  version: z.literal(MANIFEST_VERSION),
  table: z.enum(['clickstream', 'iot', '_rejected', 'clickstream_agg']),
  dt: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  sealed_at: z.iso.datetime(),
  watermark_bound: z.iso.datetime(),
  revision: z.number().int().positive(),
  rows: count,
  files: count,
  bytes: count,
  rejected_rows: count.optional(),
  late_rows: count,
  entries: z.array(entrySchema),
});

/** The manifest in `text`; throws with what is wrong (a manifest from a newer version, a hand edit gone bad). */
export function decodeManifest(text: string): DayManifest {
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return parsed.data as DayManifest;
}
