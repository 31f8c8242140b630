import type { PartitionTransactions, TaskOffset, TaskRecord } from '../../../../src/kafka/partitionTransactions.js';

/** A partition's transactional producer (kafka/partitionTransactions.ts) that keeps what each commit would send. */
export interface FakeTransactions extends PartitionTransactions {
  /** The offsets of every commit, in order. */
  commits: TaskOffset[][];
  /** The records of every commit, in order (same index as `commits`). */
  records: TaskRecord[][];
  /** The next commit rejects with this. */
  failNext?: Error;
  closed: boolean;
}

export function fakeTransactions(transactionalId: string): FakeTransactions {
  const fake: FakeTransactions = {
    transactionalId,
    commits: [],
    records: [],
    closed: false,
    async takeOver() {},
    async commit(records, offsets) {
      const failure = fake.failNext;
      fake.failNext = undefined;
      if (failure) throw failure;
      fake.commits.push([...offsets]);
      fake.records.push([...records]);
    },
    async close() {
      fake.closed = true;
    },
  };
  return fake;
}
