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
  /** Set: the next commit waits until it resolves (a transaction under way). */
  gate?: Promise<void>;
  /** The most commits this instance had under way at once. */
  maxConcurrent: number;
}

export function fakeTransactions(transactionalId: string): FakeTransactions {
  let active = 0;
  const fake: FakeTransactions = {
    transactionalId,
    commits: [],
    records: [],
    closed: false,
    maxConcurrent: 0,
    async takeOver() {},
    async commit(records, offsets) {
      const gate = fake.gate;
      fake.gate = undefined;
      active += 1;
      fake.maxConcurrent = Math.max(fake.maxConcurrent, active);
      try {
        if (gate) await gate;
      } finally {
        active -= 1;
      }
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
