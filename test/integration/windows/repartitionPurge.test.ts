/**
 * The window stage deletes what it consumed of `<group>-pv-repartition` (architecture.md, "Windows across members"):
 * one members-mode ETL (etl.windows: members, a purge every 2 s) reads events spread over half an hour; afterwards
 * every repartition partition's log start has moved above 0 and stays at or below the group's committed offset of
 * that partition (a takeover resumes there, so nothing it would read is gone), and the windows are still each written
 * once with the raw table's counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { windowTopicNames } from '../../../src/kafka/admin/windowTopics.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { etlEnv } from '../helpers/etlProcess.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { clickEvent } from '../helpers/etlTestEvents.js';
import { groupOffsets, TestProducer, withAdmin } from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { type Sample, sampleValue, scrapeMetrics } from '../helpers/prometheusText.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';

const CLICKS = 3_000;

describe('the purge of the repartition topic', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-purge-'));
  let config: Config | undefined;

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (config) await deleteTopics(config, platformTopicNames(config));
  });

  it('moves each log start up to, never past, the committed offset; windows stay once', {
    timeout: 300_000,
  }, async () => {
    config = loadTestConfig({ etl: { windows: 'members' } });
    const lakeRoot = join(dir, 'lake');
    const checkpointRoot = join(dir, 'checkpoints');
    const env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__WINDOWS: 'members',
        SDP_ETL__MAX_FILE_AGE: '3s',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_ETL__REPARTITION_PURGE_INTERVAL: '2s',
      },
    });
    await createTopics(config, logger);
    const random = mulberry32(5);
    const startMs = Date.now() - 30 * 60_000;
    const runId = randomName('purge');
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      await producer.send(
        config.topics.clickstream,
        Array.from(
          { length: CLICKS },
          (_, index) =>
            clickEvent({
              runId,
              index,
              userCount: 200,
              partitions: config!.kafka.partitions,
              tsMs: startMs + index * 600,
              random,
            }).record,
        ),
      );
    } finally {
      await producer.disconnect();
    }
    // Caught up, then idle long enough for the marks to close the windows, stage 2 to commit and purges to follow.
    let metrics: Sample[] = [];
    await runEtlToEnd({
      config,
      logger,
      env,
      checkpointRoot,
      logFile: join(dir, 'etl.log'),
      settleMs: 10_000,
      beforeStop: async (etl) => {
        metrics = await scrapeMetrics(await etl.statusPort());
      },
    });

    const topic = windowTopicNames(config.etl.consumer_group).repartition;
    const logs = await withAdmin(config, logger, (admin) => admin.fetchTopicOffsets(topic));
    const committed = await groupOffsets(config, logger, config.etl.consumer_group, topic);
    console.info(
      `repartition purge: ${JSON.stringify(logs.map((o) => ({ ...o, committed: String(committed.get(o.partition)) })))}`,
    );
    expect(logs).toHaveLength(config.kafka.partitions);
    for (const o of logs) {
      const start = BigInt(o.low);
      const next = committed.get(o.partition) ?? -1n;
      expect(next, `partition ${o.partition}: committed`).toBeGreaterThan(0n);
      expect(start, `partition ${o.partition}: log start moved`).toBeGreaterThan(0n);
      expect(start, `partition ${o.partition}: log start at most the committed offset`).toBeLessThanOrEqual(next);
      // /metrics showed the purges (scraped before the stop: a purge may have followed, never gone backwards).
      const shown = sampleValue(metrics, 'sdp_repartition_purged_offset', { partition: String(o.partition) });
      expect(shown, `partition ${o.partition}: purged offset on /metrics`).toBeGreaterThan(0);
      expect(BigInt(shown!), `partition ${o.partition}: purged offset on /metrics`).toBeLessThanOrEqual(start);
    }
    expect(sampleValue(metrics, 'sdp_repartition_purges_total', { outcome: 'done' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'sdp_repartition_purges_total', { outcome: 'failed' })).toBeDefined();

    const lake = await openLake(lakeRoot);
    try {
      const agg = lake.table('clickstream_agg');
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
      expect(await lake.scalar(`SELECT count(*) FROM ${agg}`)).toBeGreaterThan(0);
      expect(
        await lake.rows(`SELECT minute_start::VARCHAR AS m, url FROM ${agg} GROUP BY ALL HAVING count(*) > 1 LIMIT 5`),
        'windows emitted twice',
      ).toEqual([]);
      const mismatches = await lake.rows(`
        WITH r AS (SELECT date_trunc('minute', ts) AS minute_start, url, count(*) AS n
                   FROM ${lake.table('clickstream')} GROUP BY ALL)
        SELECT a.minute_start::VARCHAR AS m, a.url, a.pv, r.n FROM ${agg} a LEFT JOIN r USING (minute_start, url)
        WHERE r.n IS NULL OR r.n <> a.pv LIMIT 5`);
      expect(mismatches, 'pv against the raw count').toEqual([]);
      // Every minute but the last (whose end the watermark has not passed) was emitted.
      const minutes = await lake.scalar(
        `SELECT count(DISTINCT date_trunc('minute', ts)) FROM ${lake.table('clickstream')}`,
      );
      expect(await lake.scalar(`SELECT count(DISTINCT minute_start) FROM ${agg}`)).toBeGreaterThanOrEqual(minutes - 1);
    } finally {
      lake.close();
    }
  });
});
