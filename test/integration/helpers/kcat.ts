import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KcatMetadata {
  controllerid: number;
  brokers: Array<{ id: number; name: string }>;
  topics: Array<{
    topic: string;
    error?: string;
    partitions: Array<{
      partition: number;
      leader: number;
      replicas: Array<{ id: number }>;
      isrs: Array<{ id: number }>;
    }>;
  }>;
}

/** Cluster metadata as kcat (librdkafka, a client independent of kafkajs) sees it: `kcat -L -J`. */
export async function kcatMetadata(broker: string, topic?: string): Promise<KcatMetadata> {
  const args = ['-b', broker, '-L', '-J', '-m', '10', ...(topic ? ['-t', topic] : [])];
  const { stdout } = await run('kcat', args, { timeout: 20_000 });
  return JSON.parse(stdout) as KcatMetadata;
}

/**
 * How many records kcat (librdkafka) reads from the beginning to the end of `topic` (every
 * partition) with the given isolation level: the independent count of committed records.
 */
export async function kcatCount(
  broker: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
): Promise<number> {
  const { stdout } = await run(
    'kcat',
    [
      '-C',
      '-b',
      broker,
      '-t',
      topic,
      '-X',
      `isolation.level=${isolation}`,
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%o\\n',
    ],
    {
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout.split('\n').filter((line) => line.length > 0).length;
}
