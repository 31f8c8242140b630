/**
 * Broker outages on the chaos run's own local cluster (src/localKafka/localCluster.ts): a node's JVM
 * is killed (SIGKILL to its process group: no controlled shutdown, its log is recovered at
 * start), left down, then started again by `main.js kafka up` (the caller's), which starts only
 * the nodes that are down and waits until every node lists every broker.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config/schema.js';
import { localDataDir } from '../../src/localKafka/localCluster.js';
import { isPidAlive, sleep } from '../../src/system/processes.js';

const run = promisify(execFile);

export async function killNode(config: Config, nodeId: number): Promise<number> {
  const pid = Number(readFileSync(join(localDataDir(config), `node-${nodeId}`, 'kafka.pid'), 'utf8').trim());
  if (!Number.isInteger(pid) || !isPidAlive(pid))
    throw new Error(`broker ${nodeId} is not running (pid file says ${pid})`);
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    process.kill(pid, 'SIGKILL');
  }
  const deadline = Date.now() + 30_000;
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`broker ${nodeId} (pid ${pid}) survived SIGKILL`);
    await sleep(100);
  }
  return pid;
}

/** Waits until every partition of `topics` has all its replicas in sync again (kcat metadata). */
export async function waitForFullIsr(bootstrap: string, topics: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run('kcat', ['-b', bootstrap, '-L', '-J', '-m', '10'], {
        timeout: 20_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      const meta = JSON.parse(stdout) as {
        topics: Array<{ topic: string; partitions: Array<{ replicas: unknown[]; isrs: unknown[] }> }>;
      };
      const wanted = meta.topics.filter((t) => topics.includes(t.topic));
      if (
        wanted.length === topics.length &&
        wanted.every((t) => t.partitions.every((p) => p.isrs.length === p.replicas.length))
      )
        return;
    } catch {
      // a broker still starting: ask again
    }
    if (Date.now() > deadline)
      throw new Error(`partitions of ${topics.join(', ')} did not get all replicas in sync within ${timeoutMs} ms`);
    await sleep(1_000);
  }
}
