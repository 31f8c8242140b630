import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from './projectRoot.js';
import { TEST_PYTHON } from './pythonProducers.js';

export interface PendingOffsetCommitOptions {
  bootstrap: string;
  transactionalId: string;
  group: string;
  topic: string;
  partition: number;
  offset: bigint;
  metadata: string;
  /** Also produce one record to this partition in the transaction, before the offsets. */
  produceTo?: { topic: string; partition: number };
}

export interface PendingOffsetCommit {
  /** Commits the transaction; resolves once librdkafka says it committed. */
  commit(): Promise<void>;
  /** Aborts it (also what happens when the process is left: stdin closes). */
  abort(): Promise<void>;
}

/**
 * test/python/pending_offset_commit.py: a librdkafka transactional producer that sends one
 * partition's offset to a group in a transaction (with one record, given `produceTo`) and keeps it open until told
 * to commit or abort.
 * Resolves once the offset commit is pending at the group coordinator.
 */
export async function startPendingOffsetCommit(o: PendingOffsetCommitOptions): Promise<PendingOffsetCommit> {
  if (!existsSync(TEST_PYTHON))
    throw new Error(`${TEST_PYTHON} is missing: run bash scripts/test-prereqs.d/20-python-kafka.sh (make test does)`);
  const child: ChildProcessWithoutNullStreams = spawn(TEST_PYTHON, [
    join(PROJECT_ROOT, 'test', 'python', 'pending_offset_commit.py'),
    '--bootstrap',
    o.bootstrap,
    '--transactional-id',
    o.transactionalId,
    '--group',
    o.group,
    '--topic',
    o.topic,
    '--partition',
    String(o.partition),
    '--offset',
    o.offset.toString(),
    '--metadata',
    o.metadata,
    ...(o.produceTo
      ? ['--produce-topic', o.produceTo.topic, '--produce-partition', String(o.produceTo.partition)]
      : []),
  ]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const nextLine = async (expected: string): Promise<void> => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    try {
      const { value, done } = await lines.next();
      if (done || value !== expected)
        throw new Error(`pending_offset_commit.py said ${done ? 'nothing' : JSON.stringify(value)}: ${stderr}`);
    } finally {
      clearTimeout(timer);
    }
  };
  await nextLine('pending');
  const end = async (command: 'commit' | 'abort'): Promise<void> => {
    child.stdin.end(`${command}\n`);
    await nextLine(command === 'commit' ? 'committed' : 'aborted');
    const code = await exited;
    if (code !== 0) throw new Error(`pending_offset_commit.py exited ${code}: ${stderr}`);
  };
  return { commit: () => end('commit'), abort: () => end('abort') };
}
