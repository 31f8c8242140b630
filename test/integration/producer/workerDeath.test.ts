/**
 * A producer thread that dies in the middle of a transaction (after sending, before the commit) is
 * replaced, and its batch is sent again: the topics end with exactly the requested events, none
 * twice, and the pool's summary says so. The dead thread's open transaction is aborted by its
 * replacement (same transactional ids), so read_committed readers are not held back.
 */
import { describe, expect, it } from 'vitest';
import { spawnProducerPool, type ProducerPoolMsg, type ProducerSummary } from '../../../src/actors/producerPool.js';
import { query, startSystem, stop, type Ref } from '../../../src/system/nact.js';
import { consumeAndDecodeAll, duplicates, freshTopicsPerBlock } from '../helpers/producerFixtures.js';
import { testLogger } from '../helpers/testLogger.js';

const COUNTS = { clickstream: 3_000, iot: 1_000 };

describe('a producer thread dying mid-transaction', () => {
  const freshTopics = freshTopicsPerBlock();

  it('is replaced and its batch sent again: exactly the requested events, none twice', async () => {
    const fresh = await freshTopics();
    const { config } = fresh;
    const system = startSystem(`worker-death-${Date.now()}`);
    let resolveComplete!: (summary: ProducerSummary) => void;
    const completed = new Promise<ProducerSummary>((resolve) => (resolveComplete = resolve));
    let fatal: Error | undefined;
    const pool: Ref<ProducerPoolMsg> = spawnProducerPool(system, {
      config,
      logger: testLogger(),
      // Fast enough to finish quickly, slow enough for many small transactions.
      rates: { clickstream: 3_000, iot: 1_000 },
      counts: COUNTS,
      threads: 2,
      // Two transactions per thread: a thread that dies may take another one down in the middle of its commit.
      tasksPerThread: 2,
      batchSize: 50,
      seed: 7,
      // Among the first batches: one or two threads die (two if the tasks ran on different threads).
      testFaults: { dieBeforeCommitOfTasks: [2, 3] },
      onComplete: (summary) => resolveComplete(summary),
      onFatal: (err) => (fatal = err),
    });
    try {
      query(pool, () => ({ type: 'start' }), 1_000).catch(() => undefined);
      const summary = await completed;
      expect(fatal).toBeUndefined();
      expect(summary.complete).toBe(true);
      expect(summary.totals).toEqual(COUNTS);
      // Both batches failed (killed, or taken down with their thread) and were sent again or found committed.
      expect(summary.errors.clickstream + summary.errors.iot).toBeGreaterThanOrEqual(2);
      const final = await query<ProducerPoolMsg, ProducerSummary>(pool, () => ({ type: 'stop' }), 60_000);
      expect(final.totals).toEqual(COUNTS);
    } finally {
      stop(system);
    }

    const consumed = await consumeAndDecodeAll(config, COUNTS.clickstream + COUNTS.iot);
    expect(consumed.invalid).toEqual([]);
    expect(consumed.messages.clickstream.length).toBe(COUNTS.clickstream);
    expect(consumed.messages.iot.length).toBe(COUNTS.iot);
    expect(duplicates(consumed.clickstream.map((r) => r.event_id))).toEqual([]);
  });
});
