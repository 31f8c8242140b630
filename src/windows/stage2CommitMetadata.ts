/**
 * The metadata a stage-2 task commits with its repartition offset (`sendOffsets(next offset, metadata)` in the
 * transaction under `<group>-<group>-pv-repartition-<r>`; architecture.md, "Windows across members"): the files the
 * commit publishes, so that the next owner of r can finish its renames. The sibling of checkpoint/commitMetadata.ts
 * (input partitions), with its own prefix so that neither decoder takes the other's text for its own. Pure.
 *
 *   sdpw:1:{"t":<repartition topic id|null>,"id":"<writer>","f":null}                       no file (marks only)
 *   sdpw:1:{"t":…,"id":"<writer>","f":["<first>","<last>","<dts>"]}                          one file per dt
 *   sdpw:1:{"t":…,"id":"<writer>","l":["<first>","<last>"]}                                  the writer's tmp files
 *
 * A commit's files share one range (the input offsets it covers) and differ by dt, written as commitMetadata.ts writes
 * them (`20261201,1*29`). When even that exceeds MAX_COMMIT_METADATA_BYTES (a replay spanning years), `l` stands for
 * "every tmp file of this writer and range", listed by the next owner.
 *
 * A compaction commit of the task (architecture.md, "Compaction", "Inside the ETL") carries the offset and files of the
 * task's last commit again and adds `"m":["<YYYYMMDD>","<first>","<last>"]`: the merged file
 * `r<r>/part-<r>-<first>-<last>.parquet` of `clickstream_agg` in that dt (the writer's tmp file until its unit is
 * exchanged), replacing the unit's files inside [first, last]. Such a commit is written as version 2 (`sdpw:2:`), and
 * only it: a release before merges refuses it as newer (CHECKPOINT_METADATA_NEWER) instead of failing on `m`, while
 * every other commit stays version 1 and any release reads it. Both versions are read; `m` under version 1 is taken
 * too (written before the version bump).
 */
import { tmpPathFor } from '../lake/layout.js';
import { aggTaskFilePath } from '../lake/layout.js';
import { parseAggTaskFileName } from '../lake/aggTaskFiles.js';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Rename } from '../checkpoint/checkpointState.js';
import { decodeDtList, encodeDtList, MAX_COMMIT_METADATA_BYTES } from '../checkpoint/commitMetadata.js';

/** The newest version this release reads and writes: 2 for a compaction commit (`m`), 1 for every other. */
export const STAGE2_METADATA_VERSION = 2;
const PREFIX = 'sdpw:';
const WRITER = /^[0-9a-f]{1,32}$/;
const TOPIC_ID = /^[0-9a-f]{32}$/;
const INT64_MAX = 2n ** 63n - 1n;

/** The files of one commit: its input offset range, and the dts of its files (null: too many to name). */
export interface Stage2CommitFiles {
  first: string;
  last: string;
  dts: string[] | null;
}

export interface Stage2CommitMetadata {
  /** 2 exactly when `merge` is present (stage2MetadataVersion). */
  v: 1 | 2;
  /** The repartition topic's id when committed (a recreated topic is another log); null if unknown. */
  topicId: string | null;
  /** The writer id the commit's tmp file names carry. */
  writer: string;
  /** null: the commit published no file (it moved marks, late counts or windows still open only). */
  files: Stage2CommitFiles | null;
  /** A compaction commit's merged file in unit `r<r>`; absent on every other commit. */
  merge?: Stage2CommitMerge;
}

/** The merged file a compaction commit publishes: it replaces the files of its unit inside [first, last]. */
export interface Stage2CommitMerge {
  dt: string;
  first: string;
  last: string;
}

function canonicalOffset(text: unknown, what: string): string {
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text)) throw new RangeError(`${what}: not an offset: ${text}`);
  const value = BigInt(text);
  if (value > INT64_MAX) throw new RangeError(`${what}: beyond int64: ${text}`);
  return value.toString();
}

function range(first: unknown, last: unknown): [string, string] {
  const f = canonicalOffset(first, 'first');
  const l = canonicalOffset(last, 'last');
  if (BigInt(f) > BigInt(l)) throw new RangeError(`range ${f}-${l}: first > last`);
  return [f, l];
}

/** The version a commit is written as: 2 when it carries a merge (older releases refuse it clearly), else 1. */
export function stage2MetadataVersion(merge: Stage2CommitMerge | undefined): 1 | 2 {
  return merge === undefined ? 1 : 2;
}

/** The compact text, at most MAX_COMMIT_METADATA_BYTES long. Throws a RangeError on a value it cannot carry. */
export function encodeStage2CommitMetadata(m: Stage2CommitMetadata): string {
  const version = stage2MetadataVersion(m.merge);
  if (m.v !== version)
    throw new RangeError(`stage 2 commit metadata version ${m.v}: this one is written as ${version}`);
  const text = (body: object): string => `${PREFIX}${version}:${JSON.stringify(body)}`;
  if (m.topicId !== null && !TOPIC_ID.test(m.topicId)) throw new RangeError(`topic id: ${JSON.stringify(m.topicId)}`);
  if (!WRITER.test(m.writer)) throw new RangeError(`writer id (hex, 1..32 digits): ${JSON.stringify(m.writer)}`);
  const head = { t: m.topicId, id: m.writer, ...(m.merge === undefined ? {} : { m: encodeMerge(m.merge) }) };
  if (m.files === null) return text({ ...head, f: null });
  const [first, last] = range(m.files.first, m.files.last);
  if (m.files.dts !== null) {
    const listed = text({ ...head, f: [first, last, encodeDtList(m.files.dts)] });
    if (listed.length <= MAX_COMMIT_METADATA_BYTES) return listed;
  }
  // ASCII only (validated above): characters are bytes; this form is < 200 bytes.
  return text({ ...head, l: [first, last] });
}

function encodeMerge(merge: Stage2CommitMerge): [string, string, string] {
  const [first, last] = range(merge.first, merge.last);
  if (first === last) throw new RangeError(`merge range ${first}-${last}: a merge spans two offsets or more`);
  return [encodeDtList([merge.dt]), first, last];
}

function decodeMerge(value: unknown): Stage2CommitMerge {
  if (!Array.isArray(value) || value.length !== 3) throw new RangeError('merge');
  const dts = decodeDtList(value[0]);
  if (dts.length !== 1) throw new RangeError('merge: one dt');
  const [first, last] = range(value[1], value[2]);
  if (first === last) throw new RangeError(`merge range ${first}-${last}`);
  return { dt: dts[0]!, first, last };
}

/**
 * The metadata of a committed repartition offset; null when it is none of ours (null, '', another tool's text, or
 * an input partition's `sdp:` metadata). @throws SdpError CHECKPOINT_METADATA_NEWER for our prefix with a version this
 * release does not read, CHECKPOINT_METADATA_INVALID for ours malformed; `where` goes into the message.
 */
export function decodeStage2CommitMetadata(
  value: string | null | undefined,
  where = 'a repartition partition',
): Stage2CommitMetadata | null {
  if (value === null || value === undefined || !value.startsWith(PREFIX)) return null;
  const shown = value.length > 200 ? `${value.slice(0, 200)}…` : value;
  const version = /^sdpw:(\d{1,9}):/.exec(value);
  if (version && Number(version[1]) > STAGE2_METADATA_VERSION) {
    throw new SdpError(
      ErrorCodes.CHECKPOINT_METADATA_NEWER,
      `the commit metadata of ${where} has version ${version[1]}: a newer release wrote it (this one reads ` +
        `1 to ${STAGE2_METADATA_VERSION}); upgrade before it takes the partition over`,
      [shown],
    );
  }
  try {
    if (!version || Number(version[1]) < 1) throw new RangeError('no known version');
    return decodeBody(JSON.parse(value.slice(version[0].length)));
  } catch (err) {
    throw new SdpError(
      ErrorCodes.CHECKPOINT_METADATA_INVALID,
      `the commit metadata of ${where} is malformed (${(err as Error).message}): ${shown}`,
      [],
      { cause: err },
    );
  }
}

function decodeBody(body: unknown): Stage2CommitMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RangeError('not an object');
  const o = body as Record<string, unknown>;
  // `m` only on a compaction commit: metadata written before it has none.
  const keys = Object.keys(o)
    .filter((k) => k !== 'm')
    .sort()
    .join(',');
  if (keys !== 'f,id,t' && keys !== 'id,l,t') throw new RangeError(`keys ${keys}`);
  const topicId = o.t;
  if (topicId !== null && (typeof topicId !== 'string' || !TOPIC_ID.test(topicId))) throw new RangeError('topic id');
  const writer = o.id;
  if (typeof writer !== 'string' || !WRITER.test(writer)) throw new RangeError('writer id');
  let files: Stage2CommitFiles | null;
  if (o.l !== undefined) {
    if (!Array.isArray(o.l) || o.l.length !== 2) throw new RangeError('l');
    const [first, last] = range(o.l[0], o.l[1]);
    files = { first, last, dts: null };
  } else if (o.f === null) {
    files = null;
  } else {
    if (!Array.isArray(o.f) || o.f.length !== 3) throw new RangeError('f');
    const [first, last] = range(o.f[0], o.f[1]);
    files = { first, last, dts: decodeDtList(o.f[2]) };
  }
  const merge = o.m === undefined ? undefined : decodeMerge(o.m);
  return { v: stage2MetadataVersion(merge), topicId, writer, files, ...(merge === undefined ? {} : { merge }) };
}

/**
 * The lake-relative tmp → final renames the commit of task `partition` publishes. Listed by range, they are the
 * writer's tmp files of that range among `tmpFiles` (lake/aggTaskFiles.ts); otherwise derived from the names alone.
 */
export function stage2RenamesOf(m: Stage2CommitMetadata, partition: number, tmpFiles: readonly string[]): Rename[] {
  const files = m.files;
  if (files === null) return [];
  if (files.dts !== null) {
    return files.dts.map((dt) => {
      const final = aggTaskFilePath('', dt, partition, files.first, files.last);
      return { from: tmpPathFor(final, m.writer), to: final };
    });
  }
  const renames: Rename[] = [];
  for (const path of tmpFiles) {
    const name = parseAggTaskFileName(path, partition);
    if (name?.tmp && name.writer === m.writer && name.first === files.first && name.last === files.last)
      renames.push({ from: path, to: name.final });
  }
  return renames.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}
