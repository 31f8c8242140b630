/**
 * One commit of stage-2 task r (architecture.md, "Windows across members", following "The per-partition commit"): the
 * rows of the windows it closed go to one tmp file per dt, `part-<r>-<first>-<last>.parquet.<writer>.tmp`, first..last
 * the repartition offsets the commit covers; then ONE Kafka transaction under r's transactional id writes the snapshot
 * of r's state to `<group>-pv-state` (key stateKey(r)) and commits offset last + 1 of r with metadata naming the files;
 * then the renames. The transaction is the commit point: state, offset and files move together or not at all.
 *
 * A refused transaction renames nothing. Fenced (another holder took r), the tmp files are nobody's and are deleted;
 * after any other failure they are left to the next takeover, which reads whether the commit happened after all (an
 * EndTxn whose answer was lost) and renames or deletes them.
 */
import { ErrorCodes, SdpError } from '../errors.js';
import { isFenced, type PartitionTransactions } from '../kafka/partitionTransactions.js';
import { ColumnBuffer } from '../lake/columnBuffer.js';
import { ensureDir, removeIfExists, renameDurable } from '../lake/durableFs.js';
import type { EncoderName } from '../lake/encoder.js';
import type { EncoderPool } from '../lake/encoderPool.js';
import { hitFault } from '../system/faults.js';
import { aggTaskFilePath, dtOfMs, partitionDir, tmpPathFor } from '../lake/layout.js';
import type { PageViewRow } from '../windows/pageViewWindows.js';
import { encodeStage2CommitMetadata, type Stage2CommitFiles } from '../windows/stage2CommitMetadata.js';
import { stateKey, type Stage2Snapshot } from '../windows/stage2Windows.js';

export interface Stage2CommitFacts {
  lakeRoot: string;
  encoderPool: EncoderPool;
  encoder: EncoderName;
  rowGroupRows: number;
  /** Hex id in the tmp file names (this process's checkpoint store id). */
  writer: string;
  /** The repartition topic's id, carried in the metadata; null if unknown. */
  topicId: string | null;
  repartitionTopic: string;
  stateTopic: string;
  transactions: PartitionTransactions;
  /** Asked right before the transaction: false (the task was dropped, the actor stopped) commits nothing. */
  stillOwned(): boolean;
}

export interface Stage2CommitJob {
  partition: number;
  /** The repartition offsets the commit covers: its first record applied and its last (the state's offset). */
  first: bigint;
  last: bigint;
  /** closeWindows's rows: windows oldest first, urls ascending. */
  rows: readonly PageViewRow[];
  snapshot: Stage2Snapshot;
}

export interface Stage2CommitResult {
  files: number;
  rows: number;
  /** The dts of the files published. */
  dts: string[];
  /** The files its metadata named (null: none), carried again by the task's compaction commits. */
  named: Stage2CommitFiles | null;
}

interface TmpFile {
  dt: string;
  tmp: string;
  final: string;
}

export async function commitStage2Task(facts: Stage2CommitFacts, job: Stage2CommitJob): Promise<Stage2CommitResult> {
  const { partition, first, last } = job;
  const files = await writeTmpFiles(facts, job);
  if (!facts.stillOwned()) {
    await removeAll(files);
    throw new SdpError(
      ErrorCodes.KAFKA_TRANSACTION_FAILED,
      `stage-2 task ${partition} was dropped before its commit of offsets ${first}..${last}: nothing committed`,
    );
  }
  if (files.length > 0) hitFault('window-task-after-tmp-before-commit');
  const dts = files.map((f) => f.dt).sort();
  const named = dts.length === 0 ? null : { first: first.toString(), last: last.toString(), dts };
  const metadata = encodeStage2CommitMetadata({ v: 1, topicId: facts.topicId, writer: facts.writer, files: named });
  try {
    await facts.transactions.commit(
      [{ topic: facts.stateTopic, partition, key: stateKey(partition), value: JSON.stringify(job.snapshot) }],
      [{ topic: facts.repartitionTopic, partition, offset: last + 1n, metadata }],
    );
  } catch (err) {
    // Fenced: the new owner's takeover may already have listed r's files; these are nobody's.
    if (isFenced(err)) await removeAll(files);
    throw err;
  }
  if (files.length > 0) hitFault('window-task-after-commit-before-rename');
  for (const f of files) await renameDurable(f.tmp, f.final);
  return { files: files.length, rows: job.rows.length, dts, named };
}

/** The rows as one tmp file per dt, fsynced; on a failure the ones written are removed. */
async function writeTmpFiles(facts: Stage2CommitFacts, job: Stage2CommitJob): Promise<TmpFile[]> {
  const byDt = new Map<string, ColumnBuffer<'clickstream_agg'>>();
  for (const row of job.rows) {
    const dt = dtOfMs(row.minuteStartMs);
    let buffer = byDt.get(dt);
    if (!buffer) byDt.set(dt, (buffer = new ColumnBuffer('clickstream_agg')));
    buffer.append({ minute_start: row.minuteStartMs, minute_end: row.minuteEndMs, url: row.url, pv: row.pv });
  }
  const files: TmpFile[] = [...byDt.keys()].sort().map((dt) => {
    const final = aggTaskFilePath(facts.lakeRoot, dt, job.partition, job.first, job.last);
    return { dt, final, tmp: tmpPathFor(final, facts.writer) };
  });
  const written = await Promise.allSettled(
    files.map(async (f) => {
      await ensureDir(partitionDir(facts.lakeRoot, 'clickstream_agg', f.dt));
      await facts.encoderPool.encode({
        encoder: facts.encoder,
        table: 'clickstream_agg',
        path: f.tmp,
        batch: byDt.get(f.dt)!.drain(),
        rowGroupRows: facts.rowGroupRows,
      });
    }),
  );
  const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (failed) {
    await removeAll(files);
    throw failed.reason;
  }
  return files;
}

async function removeAll(files: readonly TmpFile[]): Promise<void> {
  for (const f of files) await removeIfExists(f.tmp).catch(() => undefined);
}
