/**
 * Kafka's own view of what a producer wrote: `kafka.tools.DumpLogSegments` over the first segment
 * of one partition on the local cluster's disks (one replica), as batch header lines.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../../src/config/schema.js';
import { localDataDir } from '../../../src/localKafka/localCluster.js';
import { classpathFile } from '../../../src/localKafka/classpath.js';

const run = promisify(execFile);

export interface SegmentBatches {
  /** `baseOffset: …` lines of data batches. */
  data: string[];
  /** `baseOffset: …` lines of control batches (transaction commit or abort markers). */
  markers: string[];
}

export async function dumpFirstSegment(config: Config, topic: string, partition: number): Promise<SegmentBatches> {
  const dataDir = localDataDir(config);
  const classpath = readFileSync(classpathFile(dataDir, config.kafka.local.kafka_version), 'utf8').trim();
  const segments = readdirSync(dataDir)
    .filter((node) => node.startsWith('node-'))
    .map((node) => path.join(dataDir, node, 'data', `${topic}-${partition}`, '00000000000000000000.log'))
    .filter((file) => existsSync(file) && statSync(file).size > 0);
  if (segments.length === 0) return { data: [], markers: [] };
  const { stdout } = await run(
    'java',
    ['-Xmx256m', '-cp', classpath, 'kafka.tools.DumpLogSegments', '--files', segments[0]!, '--deep-iteration'],
    { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
  );
  const batches = stdout.split('\n').filter((line) => line.startsWith('baseOffset:'));
  return {
    data: batches.filter((line) => /isControl: false/.test(line)),
    markers: batches.filter((line) => /isControl: true/.test(line)),
  };
}

/** Records in data batch header lines (`count: N`). */
export function recordsIn(batchLines: readonly string[]): number {
  return batchLines.reduce((sum, line) => sum + Number(/count: (\d+)/.exec(line)?.[1] ?? 0), 0);
}
