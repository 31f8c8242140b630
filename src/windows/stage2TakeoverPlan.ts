/**
 * What the new owner of stage-2 task r does before it reads repartition partition r (architecture.md, "Windows across
 * members" and "The takeover order"), once it has fenced the previous holder (InitProducerId under
 * `<group>-<group>-pv-repartition-<r>`), read the committed offset and metadata stably and the state topic's latest
 * snapshot of r: complete the renames the last commit named, delete every other tmp file of r whoever wrote it, and
 * resume from the state and offset that commit wrote together. Pure: the caller does the I/O
 * (etl/stage2TaskTakeover.ts).
 *
 * The snapshot and the offset are written by one transaction, so after the fence they agree: the snapshot's last
 * applied offset + 1 is the committed offset. A disagreement (the state topic deleted or recreated under the group, an
 * operator resetting the group's offsets) stops the task with both numbers rather than count a record twice or never.
 *
 * Without metadata of ours (a new group, offsets expired or committed by another tool) the snapshot alone says where
 * the state stands (its offset + 1; the first offset when there is none), and, as in the rebuild from file names, a
 * tmp file whose range a committed file of r also has was committed and its rename interrupted; any other is deleted.
 * With no snapshot either, the task starts empty but for what the lake says was emitted already (`emittedUntilMs`):
 * the source partitions are read again from their start for the window stage, so every window ending by then counts
 * as emitted, its page views as late, and none is written a second time.
 *
 * A last commit that was a compaction (`m`, architecture.md "Compaction") whose merged tmp file is still there: that
 * file is kept out of the deletes and its unit's swap is completed before r is read (etl/stage2TaskTakeover.ts).
 */
import type { Rename } from '../checkpoint/checkpointState.js';
import type { CommittedMerge } from '../checkpoint/committedMerge.js';
import { ErrorCodes, SdpError } from '../errors.js';
import { type AggTaskFileName, parseAggTaskFileName } from '../lake/aggTaskFiles.js';
import { type Stage2CommitMetadata, stage2RenamesOf } from './stage2CommitMetadata.js';
import { createStage2State, restore, type Stage2Options, type Stage2State } from './stage2Windows.js';
import { tmpFilesFromNames } from '../checkpoint/tmpFilesFromNames.js';

export interface Stage2TakeoverInput {
  /** r, R and the window size of the task. */
  options: Stage2Options;
  committed: {
    /** The group's committed next offset of r; -1n none. */
    offset: bigint;
    /** decodeStage2CommitMetadata's answer: null when the commit carries none of ours. */
    metadata: Stage2CommitMetadata | null;
    /** The repartition topic's id now; null if unknown. */
    topicId: string | null;
  };
  /** The latest value of key stateKey(r) in `<group>-pv-state` (read_committed); null if none (or a tombstone). */
  snapshot: Buffer | string | null;
  /**
   * Lake-relative tmp and committed files of task r (lake/aggTaskFiles.ts); the committed ones are read only without
   * metadata.
   */
  tmpFiles: readonly string[];
  finalFiles: readonly string[];
  /** The largest `minute_end` in `clickstream_agg` (lake/aggEmittedUntil.ts); read only with neither commit nor snapshot. */
  emittedUntilMs?: number;
}

export interface Stage2TakeoverPlan {
  /** Named by the last commit (or found committed by name): completing an interrupted rename; idempotent. */
  renames: Rename[];
  /** Absent: no merge named, one exchanged already (its tmp link gone) or never committed (its tmp in `deletes`). */
  merge?: CommittedMerge;
  /** Every other tmp file of r, whoever wrote it. */
  deletes: string[];
  state: Stage2State;
  /** The next repartition offset to read. */
  resume: bigint;
  source: 'commit' | 'snapshot' | 'empty';
}

export function planStage2Takeover(input: Stage2TakeoverInput): Stage2TakeoverPlan {
  const r = input.options.partition;
  const tmp = input.tmpFiles.map((path) => parseOwn(r, path, true));
  let state = input.snapshot === null ? createStage2State(input.options) : restore(input.snapshot, input.options);
  const metadata = input.committed.metadata;
  if (metadata !== null) return fromCommit(input, metadata, state, tmp);

  const finals = input.finalFiles.map((path) => parseOwn(r, path, false));
  const { renames, deletes } = tmpFilesFromNames(tmp, finals);
  if (input.snapshot === null && input.emittedUntilMs !== undefined)
    state = { ...state, watermarkMs: input.emittedUntilMs, emittedFrontierMs: input.emittedUntilMs };
  let resume = 0n;
  if (state.offset !== null) resume = state.offset + 1n;
  else if (input.committed.offset >= 0n) resume = input.committed.offset;
  return { renames, deletes, state, resume, source: input.snapshot === null ? 'empty' : 'snapshot' };
}

function fromCommit(
  input: Stage2TakeoverInput,
  m: Stage2CommitMetadata,
  state: Stage2State,
  tmp: readonly AggTaskFileName[],
): Stage2TakeoverPlan {
  const r = input.options.partition;
  const where = `repartition partition ${r}`;
  const committed = input.committed.offset;
  const current = input.committed.topicId;
  // Same rule as an input partition's takeover (architecture.md, "Offsets never silently jump").
  if (m.topicId !== null && current !== null && m.topicId !== current) {
    throw new SdpError(
      ErrorCodes.KAFKA_OFFSET_OUT_OF_RANGE,
      `the repartition topic was deleted and recreated (topic id ${m.topicId} when ${where} was committed, ` +
        `${current} now): its committed offset ${committed} and file names belong to the old topic`,
    );
  }
  const invalid = (why: string): SdpError =>
    new SdpError(ErrorCodes.CHECKPOINT_METADATA_INVALID, `the commit of ${where} ${why}`);
  if (input.snapshot === null)
    throw invalid(
      `(next offset ${committed}) has no snapshot in the state topic: was the state topic deleted or recreated?`,
    );
  const stands = state.offset === null ? 'nothing applied' : `next offset ${state.offset + 1n}`;
  if (state.offset === null || state.offset + 1n !== committed)
    throw invalid(`says next offset ${committed}, but the state topic's snapshot of it says ${stands}`);
  if (m.files !== null && BigInt(m.files.last) >= committed)
    throw invalid(`names files up to offset ${m.files.last}, not below its next offset ${committed}`);
  if (m.merge !== undefined && BigInt(m.merge.last) >= committed)
    throw invalid(`merges files up to offset ${m.merge.last}, not below its next offset ${committed}`);
  const renames = stage2RenamesOf(m, r, input.tmpFiles);
  const merge = m.merge === undefined ? undefined : mergeToComplete(m, tmp);
  const named = new Set([...renames.map((x) => x.from), ...(merge ? [merge.tmpPath] : [])]);
  return {
    renames,
    ...(merge ? { merge } : {}),
    deletes: tmp
      .map((t) => t.path)
      .filter((p) => !named.has(p))
      .sort(compare),
    state,
    resume: committed,
    source: 'commit',
  };
}

/** The committed merge's tmp file among r's (the writer's tmp of the merged range), if it is there. */
function mergeToComplete(m: Stage2CommitMetadata, tmp: readonly AggTaskFileName[]): CommittedMerge | undefined {
  const merge = m.merge!;
  const found = tmp.find(
    (t) => t.dt === merge.dt && t.first === merge.first && t.last === merge.last && t.writer === m.writer,
  );
  if (found === undefined) return undefined;
  const slash = found.final.lastIndexOf('/');
  return {
    first: merge.first,
    last: merge.last,
    tmpPath: found.path,
    unitDir: found.final.slice(0, slash),
    mergedName: found.final.slice(slash + 1),
  };
}

/** A listed file must be one of task r's: anything else is the caller's mistake, never deleted. */
function parseOwn(partition: number, path: string, tmp: boolean): AggTaskFileName {
  const name = parseAggTaskFileName(path, partition);
  if (!name || name.tmp !== tmp)
    throw new RangeError(
      `${path} is not a ${tmp ? 'tmp' : 'committed'} clickstream_agg file of stage-2 task ${partition}`,
    );
  return name;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
