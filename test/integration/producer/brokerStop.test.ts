/**
 * One broker stopped (SIGTERM to its JVM: a controlled shutdown) while `generate` produces:
 * leaders and transaction coordinators move, the producers retry, and the run still ends with
 * exactly the requested events, none twice. The broker is started again afterwards (`kafka up`
 * starts only what is down), whatever happened, and the test waits until all three serve metadata.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { localDataDir } from '../../../src/localKafka/localCluster.js';
import { isPidAlive } from '../../../src/system/processes.js';
import { kcatMetadata } from '../helpers/kcat.js';
import {
  consumeAndDecode,
  duplicates,
  freshTopicsPerBlock,
  logLines,
  producerSummary,
  startCli,
} from '../helpers/producerFixtures.js';
import { runCli } from '../helpers/runCli.js';
import { waitFor } from '../helpers/waitFor.js';

const COUNT = 50_000;

async function brokersInMetadata(config: Config): Promise<number> {
  try {
    return (await kcatMetadata(config.kafka.bootstrap_servers.join(','))).brokers.length;
  } catch {
    return 0;
  }
}

/**
 * Starts whatever broker is down and waits until all of them serve metadata and our partitions have their replicas
 * back.
 */
async function restoreCluster(config: Config, topics: readonly string[]): Promise<void> {
  const up = await runCli(['kafka', 'up'], {}, 180_000);
  if (up.code !== 0) throw new Error(`kafka up failed (${String(up.code)}): ${up.stderr}`);
  await waitFor(
    async () => (await brokersInMetadata(config)) === config.kafka.brokers,
    120_000,
    'all brokers in metadata',
    500,
  );
  await waitFor(
    async () => {
      const meta = await kcatMetadata(config.kafka.bootstrap_servers.join(','));
      return topics.every(
        (t) =>
          meta.topics
            .find((x) => x.topic === t)
            ?.partitions.every((p) => p.isrs.length === config.kafka.replication_factor) ?? true,
      );
    },
    120_000,
    'the test topics to have full ISR again',
    1_000,
  );
}

describe('one broker stopped during production', () => {
  const freshTopics = freshTopicsPerBlock();

  it('completes --count 50000 with exit 0, exactly 50,000 events and none twice', async () => {
    const fresh = await freshTopics();
    const { config } = fresh;
    const topics = [config.topics.clickstream, config.topics.iot];
    // Stop a broker that leads a partition of the clickstream topic.
    const meta = await kcatMetadata(config.kafka.bootstrap_servers.join(','), config.topics.clickstream);
    const nodeId = meta.topics[0]!.partitions[0]!.leader;
    const pid = Number(readFileSync(path.join(localDataDir(config), `node-${nodeId}`, 'kafka.pid'), 'utf8').trim());
    expect(isPidAlive(pid)).toBe(true);

    try {
      const cli = startCli(
        ['generate', '--count', String(COUNT), '--clickstream-rate', '5000', '--iot-rate', '5000'],
        fresh.env,
        280_000,
      );
      await waitFor(
        () => logLines(cli.stdout()).some((l) => l.msg === 'producer pool started'),
        30_000,
        'the producer pool to start',
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      process.kill(pid, 'SIGTERM');
      await waitFor(() => !isPidAlive(pid), 60_000, `broker ${nodeId} (pid ${pid}) to stop`, 200);
      const exit = await cli.exited;

      expect(exit.code).toBe(0);
      const summary = producerSummary(exit.stdout);
      expect(summary).toBeDefined();
      expect(summary!.clickstream_total + summary!.iot_total).toBe(COUNT);

      const consumed = await consumeAndDecode(config);
      expect(consumed.invalid).toEqual([]);
      expect(consumed.messages.clickstream.length).toBe(summary!.clickstream_total);
      expect(consumed.messages.iot.length).toBe(summary!.iot_total);
      expect(consumed.messages.clickstream.length + consumed.messages.iot.length).toBe(COUNT);
      expect(duplicates(consumed.clickstream.map((r) => r.event_id))).toEqual([]);
    } finally {
      await restoreCluster(config, topics);
    }
  });
});
