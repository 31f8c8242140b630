import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './projectRoot.js';

const run = promisify(execFile);

/** The test venv made by scripts/test-prereqs.d/20-python-kafka.sh (confluent-kafka). */
export const TEST_PYTHON = join(PROJECT_ROOT, '.venv-test', 'bin', 'python');

export interface InterleavedResult {
  committed_events: number;
  aborted_events: number;
  committed_transactions: number;
  /** Transaction numbers (the `tNNNN` in their event ids) that were aborted. */
  aborted_transactions: number[];
}

export interface InterleavedOptions {
  bootstrap: string;
  topic: string;
  partition: number;
  producers: number;
  transactions: number;
  eventsPerTransaction: number;
  seed: number;
  runId: string;
}

/**
 * test/python/interleaved_transactions.py: independent transactional producers (librdkafka) whose
 * transactions interleave on one partition, about a third aborted. Event ids are
 * `<runId>-t<txn>-e<index>`.
 */
export async function produceInterleavedTransactions(o: InterleavedOptions): Promise<InterleavedResult> {
  if (!existsSync(TEST_PYTHON))
    throw new Error(`${TEST_PYTHON} is missing: run bash scripts/test-prereqs.d/20-python-kafka.sh (make test does)`);
  const { stdout } = await run(
    TEST_PYTHON,
    [
      join(PROJECT_ROOT, 'test', 'python', 'interleaved_transactions.py'),
      '--bootstrap',
      o.bootstrap,
      '--topic',
      o.topic,
      '--partition',
      String(o.partition),
      '--producers',
      String(o.producers),
      '--transactions',
      String(o.transactions),
      '--events',
      String(o.eventsPerTransaction),
      '--seed',
      String(o.seed),
      '--run-id',
      o.runId,
    ],
    { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as InterleavedResult;
}
