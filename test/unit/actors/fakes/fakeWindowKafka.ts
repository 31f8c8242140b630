/**
 * A stand-in for what the window stage asks of Kafka (test helper, not a test file): the transactional producers of
 * its tasks (an epoch per transactional id: a takeover fences every earlier instance), the group's committed offsets
 * with their metadata, and the latest state snapshot per partition. A commit applies its records and offsets
 * together, as a transaction does; a test can make the next commit fail, lose its answer, or wait at a gate. The
 * DeleteRecords the stage sends are recorded (and can be made to fail).
 */
import { ErrorCodes, SdpError } from '../../../../src/errors.js';
import type { WindowStageKafka } from '../../../../src/actors/windowStage.js';
import type { PartitionTransactions, TaskOffset, TaskRecord } from '../../../../src/kafka/partitionTransactions.js';
import type { StableOffset } from '../../../../src/kafka/wire/offsetFetch.js';
import type { PurgeTarget } from '../../../../src/windows/repartitionPurgePlan.js';

export const TOPIC_ID = '0123456789abcdef0123456789abcdef';

/** failed: refused (not applied); lost: applied, but the answer says it failed (an EndTxn whose reply was lost). */
export type CommitFault = 'fenced' | 'failed' | 'lost';

export interface FakeCommit {
  transactionalId: string;
  records: TaskRecord[];
  offsets: TaskOffset[];
}

export class FakeWindowKafka {
  readonly committed = new Map<number, StableOffset>();
  readonly states = new Map<number, Buffer>();
  readonly commits: FakeCommit[] = [];
  /** Every DeleteRecords asked, failed or not, in order. */
  readonly purges: Array<{ targets: PurgeTarget[]; failed: boolean }> = [];
  /** The next DeleteRecords fail this many times (a leader moving). */
  failPurges = 0;
  /** What logEnds() answers (partition → high watermark); empty until set. */
  ends = new Map<number, string>();
  /** Every instance made, in order. */
  readonly instances: Array<{ transactionalId: string; takeOvers: number; closed: boolean }> = [];
  private readonly epochs = new Map<string, number>();
  private readonly faults: CommitFault[] = [];
  private gate?: Promise<void>;
  /** Commits sent and waiting at the gate of `holdCommits` (in flight, as far as the stage can tell). */
  commitsAtGate = 0;

  /** The next commits (of any task) meet these faults, in order. */
  failNextCommits(...faults: CommitFault[]): void {
    this.faults.push(...faults);
  }

  /** Commits wait for `gate` before they apply (a commit in flight while the test acts). */
  holdCommits(gate: Promise<void> | undefined): void {
    this.gate = gate;
  }

  takeOvers(partition: number): number {
    return this.instances
      .filter((i) => i.transactionalId.endsWith(`-${partition}`))
      .reduce((n, i) => n + i.takeOvers, 0);
  }

  kafka(): WindowStageKafka {
    return {
      createTransactions: (transactionalId) => this.transactions(transactionalId),
      fetchCommitted: async (partition) => this.committed.get(partition) ?? { offset: -1n, metadata: '' },
      readState: async (partition) => this.states.get(partition) ?? null,
      topicId: async () => TOPIC_ID,
      logEnds: async () => new Map(this.ends),
      deleteRecords: async (targets) => {
        const failed = this.failPurges > 0;
        this.purges.push({ targets: [...targets], failed });
        if (failed) {
          this.failPurges -= 1;
          throw new Error('This server is not the leader for that topic-partition');
        }
      },
    };
  }

  private transactions(transactionalId: string): PartitionTransactions {
    const info = { transactionalId, takeOvers: 0, closed: false };
    this.instances.push(info);
    let epoch: number | undefined;
    const fenced = (): SdpError =>
      new SdpError(ErrorCodes.KAFKA_TRANSACTION_FENCED, `${transactionalId} was taken by another holder`);
    return {
      transactionalId,
      takeOver: async () => {
        if (epoch !== undefined && this.epochs.get(transactionalId) !== epoch) throw fenced();
        epoch = (this.epochs.get(transactionalId) ?? 0) + 1;
        this.epochs.set(transactionalId, epoch);
        info.takeOvers += 1;
      },
      commit: async (records, offsets) => {
        if (epoch === undefined || info.closed)
          throw new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'commit needs takeOver() first');
        this.commitsAtGate += 1;
        try {
          await this.gate;
        } finally {
          this.commitsAtGate -= 1;
        }
        if (this.epochs.get(transactionalId) !== epoch) throw fenced();
        const fault = this.faults.shift();
        if (fault === 'fenced') {
          this.epochs.set(transactionalId, epoch + 1);
          throw fenced();
        }
        if (fault === 'failed') throw new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'broker unavailable');
        this.commits.push({ transactionalId, records: [...records], offsets: [...offsets] });
        for (const r of records) this.states.set(r.partition, Buffer.from(r.value));
        for (const o of offsets) this.committed.set(o.partition, { offset: o.offset, metadata: o.metadata });
        if (fault === 'lost')
          throw new SdpError(ErrorCodes.KAFKA_TRANSACTION_FAILED, 'EndTxn answer lost: may or may not have committed');
      },
      close: async () => {
        info.closed = true;
      },
    };
  }
}
