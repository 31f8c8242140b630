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

type Isolation = 'read_committed' | 'read_uncommitted';

/** One line per record kcat reads from the beginning to the end of every partition of `topic`, in `format`. */
async function kcatRead(broker: string, topic: string, isolation: Isolation, format: string): Promise<string[]> {
  const args = ['-C', '-b', broker, '-t', topic, '-X', `isolation.level=${isolation}`, '-o', 'beginning', '-e', '-q'];
  const { stdout } = await run('kcat', [...args, '-f', `${format}\\n`], {
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.split('\n').filter((line) => line.length > 0);
}

/**
 * How many records kcat (librdkafka) reads from the beginning to the end of `topic` (every
 * partition) with the given isolation level: the independent count of committed records.
 */
export async function kcatCount(broker: string, topic: string, isolation: Isolation): Promise<number> {
  return (await kcatRead(broker, topic, isolation, '%o')).length;
}

/**
 * partition → the offset of the last record kcat reads from `topic` read_committed (transaction markers and aborted
 * records are not records); a partition with none is absent.
 */
export async function kcatLastOffsets(broker: string, topic: string): Promise<Map<number, bigint>> {
  const last = new Map<number, bigint>();
  for (const line of await kcatRead(broker, topic, 'read_committed', '%p %o')) {
    const [p, o] = line.split(' ');
    const offset = BigInt(o!);
    if (offset > (last.get(Number(p)) ?? -1n)) last.set(Number(p), offset);
  }
  return last;
}
