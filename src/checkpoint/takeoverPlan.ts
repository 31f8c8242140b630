/**
 * What the new owner of input partition p of topic t does before it reads (architecture.md, "Growing past one
 * machine, and who rewrites a partition's files" → Takeover): complete the renames the last commit named, delete
 * every other tmp file of the partition whoever wrote it, and resume each sink after its last durable offset. Pure:
 * the caller fetches the committed offset and its metadata, lists the partition's files
 * (lake/partitionTmpFiles.ts), then applies the plan (lake/durableFs.ts `completeRename`, `removeIfExists`).
 *
 * Without metadata of ours (a new or expired group, offsets committed by another tool or reset by kafkajs) the
 * partition is rebuilt from its file names as the whole lake is (architecture.md, "Rebuilding from the lake"): the
 * raw sink resumes after the largest `<last>` of its files (never below what retention deleted on purpose), a tmp
 * file of a roll that also left a final file is a committed one whose rename was interrupted, and the window stage,
 * whose progress no file name carries, gets the partition again from its start.
 */
import { ErrorCodes, SdpError } from '../errors.js';
import { type PartitionFileName, parsePartitionFileName } from '../lake/partitionFileName.js';
import type { TableName } from '../lake/tables.js';
import { NO_OFFSET, type Rename } from './checkpointState.js';
import { type CommitMerge, type CommitMetadata, finalPathOf, isListedByRange, renamesOf } from './commitMetadata.js';
import { tmpFilesFromNames } from './tmpFilesFromNames.js';

export interface TakeoverInput {
  topic: string;
  partition: number;
  /** The partition's tables: `['clickstream', '_rejected']` (its page views also feed the window stage) or iot's. */
  tables: readonly TableName[];
  committed: {
    /** The group's committed next offset; '-1' none. */
    offset: string;
    /** Decoded by `decodeCommitMetadata`: null when the commit carries none of ours. */
    metadata: CommitMetadata | null;
    /** The topic's id now; null if unknown. */
    topicId: string | null;
  };
  /** Lake-relative tmp files of this partition (lake/partitionTmpFiles.ts). */
  tmpFiles: readonly string[];
  /** Lake-relative committed files of this partition; read only when there is no metadata. */
  finalFiles: readonly string[];
  /**
   * The highest last offset of this partition's rolls that retention deleted (the expiry record's floor,
   * lake/expiryRecord.ts); read only when there is no metadata. Absent: nothing expired.
   */
  expiredFloor?: string;
}

/** A compaction the last commit named whose merged tmp file is still there: its unit's swap is completed. */
export interface MergeToComplete {
  merge: CommitMerge;
  /** Lake-relative: the merged tmp file (kept, not deleted) and the unit that gets the merged file. */
  tmpPath: string;
  unitDir: string;
  mergedName: string;
}

export interface TakeoverPlan {
  /** Named by the last commit: completing an interrupted rename; idempotent when already done. */
  renames: Rename[];
  /**
   * The last commit was a compaction and its merged tmp file is there (architecture.md, "Compaction"): exchange the
   * unit for the version with the merged file before reading, unless the unit holds it already. Absent otherwise:
   * a merge already exchanged (its tmp link is gone), or never committed (its tmp is one of `deletes`).
   */
  merge?: MergeToComplete;
  /** Every other tmp file of this partition, whoever wrote it. */
  deletes: string[];
  /** Last offsets durable per sink ('-1' none): raw lake, window stage (null without one). */
  resume: { raw: string; win: string | null };
  source: 'metadata' | 'file-names' | 'empty';
}

export function planTakeover(input: TakeoverInput): TakeoverPlan {
  const windowed = input.tables.includes('clickstream');
  const tmp = input.tmpFiles.map((path) => parseOwn(input, path, true));
  const metadata = input.committed.metadata;
  if (metadata !== null) return fromMetadata(input, metadata, windowed, tmp);

  // No metadata of ours: the file names are the truth, as in the whole-lake rebuild.
  const finals = input.finalFiles.map((path) => parseOwn(input, path, false));
  let raw = input.expiredFloor === undefined ? -1n : BigInt(input.expiredFloor);
  for (const f of finals) if (BigInt(f.last) > raw) raw = BigInt(f.last);
  const { renames, deletes } = tmpFilesFromNames(tmp, finals);
  const empty = input.committed.offset === NO_OFFSET && finals.length === 0 && input.expiredFloor === undefined;
  return {
    renames,
    deletes,
    resume: { raw: raw.toString(), win: windowed ? NO_OFFSET : null },
    source: empty ? 'empty' : 'file-names',
  };
}

function fromMetadata(
  input: TakeoverInput,
  m: CommitMetadata,
  windowed: boolean,
  tmp: readonly PartitionFileName[],
): TakeoverPlan {
  const where = `${input.topic}[${input.partition}]`;
  const current = input.committed.topicId;
  // Same rule as the start's offset guard (architecture.md, "Offsets never silently jump").
  if (m.topicId !== null && current !== null && m.topicId !== current) {
    throw new SdpError(
      ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE,
      `topic ${input.topic} was deleted and recreated (topic id ${m.topicId} when ${where} was committed, ` +
        `${current} now): its committed offset ${input.committed.offset} and file names belong to the old topic`,
    );
  }
  const invalid = (why: string): SdpError =>
    new SdpError(ErrorCodes.CHECKPOINT_METADATA_INVALID, `the commit metadata of ${where} ${why}`);
  if (windowed !== (m.win !== null)) {
    throw invalid(
      windowed
        ? 'has no window-stage offset, but its page views feed the window stage'
        : `has a window-stage offset (${m.win}), but its topic feeds no window stage`,
    );
  }
  const raw = BigInt(m.raw);
  const durable = m.win === null || raw <= BigInt(m.win) ? raw : BigInt(m.win);
  const expected = (durable + 1n).toString();
  if (input.committed.offset !== expected) {
    throw invalid(
      `says raw ${m.raw}${m.win === null ? '' : `, window ${m.win}`} (next offset ${expected}), but the committed ` +
        `offset is ${input.committed.offset}`,
    );
  }
  const ranges = isListedByRange(m.files)
    ? [{ table: undefined, ...m.files.listedByRange }]
    : m.files.map((f) => ({ table: f.table as TableName | undefined, first: f.first, last: f.last }));
  for (const f of ranges) {
    if (BigInt(f.last) > raw) throw invalid(`names files up to offset ${f.last}, beyond its raw offset ${m.raw}`);
    if (f.table !== undefined && !input.tables.includes(f.table))
      throw invalid(`names a ${f.table} file, not a table of this partition`);
  }
  if (m.merge !== undefined) {
    if (BigInt(m.merge.last) > raw) throw invalid(`merges files up to offset ${m.merge.last}, beyond its raw offset`);
    if (!input.tables.includes(m.merge.table))
      throw invalid(`merges ${m.merge.table} files, not a table of this partition`);
  }
  const renames = renamesOf(m, input.topic, input.partition, input.tmpFiles);
  const merge = m.merge === undefined ? undefined : mergeToComplete(m.merge, m.writer, input, tmp);
  const named = new Set([...renames.map((r) => r.from), ...(merge ? [merge.tmpPath] : [])]);
  return {
    renames,
    ...(merge ? { merge } : {}),
    deletes: tmp
      .map((t) => t.path)
      .filter((p) => !named.has(p))
      .sort(compare),
    resume: { raw: m.raw, win: m.win },
    source: 'metadata',
  };
}

/** The committed merge's tmp file among the partition's (the writer's tmp of the merged name), if it is there. */
function mergeToComplete(
  merge: CommitMerge,
  writer: string,
  input: TakeoverInput,
  tmp: readonly PartitionFileName[],
): MergeToComplete | undefined {
  const final = finalPathOf({ ...merge }, input.topic, input.partition);
  const found = tmp.find((t) => t.final === final && t.writer === writer);
  if (found === undefined) return undefined;
  const slash = final.lastIndexOf('/');
  return { merge, tmpPath: found.path, unitDir: final.slice(0, slash), mergedName: final.slice(slash + 1) };
}

/** A listed file must be one of this partition's: anything else is the caller's mistake, never deleted. */
function parseOwn(input: TakeoverInput, path: string, tmp: boolean): PartitionFileName {
  const name = parsePartitionFileName(path, input.topic, input.partition, input.tables);
  if (!name || name.tmp !== tmp) {
    throw new RangeError(
      `${path} is not a ${tmp ? 'tmp' : 'committed'} file of ${input.topic}[${input.partition}] ` +
        `in ${input.tables.join(', ')}`,
    );
  }
  return name;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
