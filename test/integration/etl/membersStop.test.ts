/**
 * A graceful stop with the windows across members (architecture.md, "Windows across members"): stage 1 commits
 * its last marks, then stage 2 reads on to the repartition ends before its last commit. So every record stage 1
 * committed is applied by stage 2's committed offsets when the ETL has exited: a stopped lake holds every window
 * those marks close, and the next start has nothing of this run left to apply. kcat (librdkafka) reads the
 * repartition topic read_committed for where its records end.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { repartitionTopicName } from '../../../src/windows/repartitionRecords.js';
import { clickEvent } from '../helpers/etlTestEvents.js';
import { groupOffsets } from '../helpers/kafkaTestData.js';
import { kcatLastOffsets } from '../helpers/kcat.js';
import { LiveEtl } from '../helpers/liveEtl.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';

describe('etl.windows: members: a graceful stop', () => {
  const logger = testLogger();
  const config = loadTestConfig({ etl: { windows: 'members' } });
  const live = new LiveEtl(config, logger, 'sdp-members-stop-');
  afterAll(() => live.close());

  it('leaves stage 2 committed through every record stage 1 committed', async () => {
    const { etl, producer } = await live.start({ SDP_ETL__CHECKPOINT_INTERVAL: '2s' });
    const runId = randomName('run');
    const random = mulberry32(11);
    // Event times spread evenly from `fromMs` over five minutes: the watermark passes the earlier minutes.
    const clicks = (from: number, count: number, fromMs: number) =>
      Array.from(
        { length: count },
        (_, i) =>
          clickEvent({
            runId,
            index: from + i,
            userCount: 100,
            partitions: config.kafka.partitions,
            tsMs: fromMs + Math.floor((i * 5 * 60_000) / count),
            random,
          }).record,
      );
    // Minutes ago, so the marks close windows; then, just before the stop, page views stage 1 has not sent yet.
    await producer.send(config.topics.clickstream, clicks(0, 2_000, Date.now() - 10 * 60_000));
    await etl.waitForLog(
      (l) => l.msg === 'windows committed' && Number(l.rows) > 0,
      60_000,
      'stage 2 to commit windows',
    );
    await producer.send(config.topics.clickstream, clicks(2_000, 500, Date.now() - 5 * 60_000));
    // Read within a second, counted by stage 1, not yet sent (its marks go every 2 s): the stop's last marks carry them.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const stopMs = Date.now();
    etl.child.kill('SIGTERM');
    const exit = await etl.exited;
    console.info(`members-mode stop: ${Date.now() - stopMs} ms from SIGTERM to exit`);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(etl.logsMatching((l) => String(l.msg).startsWith('drain: '))).toEqual([]);

    const repartition = repartitionTopicName(config.etl.consumer_group);
    const lastRecords = await kcatLastOffsets(config.kafka.bootstrap_servers[0]!, repartition);
    const committed = await groupOffsets(config, logger, config.etl.consumer_group, repartition);
    expect(lastRecords.size).toBeGreaterThan(0);
    for (const [partition, last] of lastRecords)
      expect({ partition, committed: committed.get(partition) }).toEqual({ partition, committed: last + 1n });
  });
});
