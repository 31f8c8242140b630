/**
 * The status page's "last checkpoint" in both window modes (architecture.md, "Services and operating", last checkpoint): a trickle of page views,
 * read as it comes (no backlog, so no file rolls before `etl.max_file_age`), must show a checkpoint within a few
 * `etl.checkpoint_interval`s. In process mode the aggregator's checkpoint is one; in members mode stage 1's marks are
 * the window checkpoint. Before they counted, a members-mode ETL showed none until its first roll (a minute by
 * default): `services ps` said "never" and the dashboard warned of a stale checkpoint on a healthy platform.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { DashboardStatus } from '../../../src/status/pipelineStatus.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { clickEvent } from '../helpers/etlTestEvents.js';
import { LiveEtl } from '../helpers/liveEtl.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const INTERVAL_S = 2;

describe.each(['process', 'members'] as const)(
  'etl.windows: %s: the status shows checkpoints before any roll',
  (mode) => {
    const config = loadTestConfig({ etl: { windows: mode } });
    const live = new LiveEtl(config, testLogger(), 'sdp-status-checkpoint-');
    afterAll(() => live.close());

    it('reports a checkpoint within a few intervals of reading, with no file rolled', async () => {
      const { etl, producer } = await live.start({
        SDP_ETL__CHECKPOINT_INTERVAL: `${INTERVAL_S}s`,
        SDP_ETL__MAX_FILE_AGE: '10m',
        SDP_ETL__MAX_FILE_IDLE: '10m',
      });
      const port = await etl.statusPort();
      const runId = randomName('run');
      const random = mulberry32(7);
      const status = async (): Promise<DashboardStatus> =>
        (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as DashboardStatus;

      // A trickle, paced as a producer keeps up: read as it comes, so no partition ends a backlog and rolls.
      let sent = 0;
      const firstSentMs = Date.now();
      let seen: DashboardStatus | undefined;
      await waitFor(
        async () => {
          const batch = Array.from(
            { length: 20 },
            (_, i) =>
              clickEvent({
                runId,
                index: sent + i,
                userCount: 50,
                partitions: config.kafka.partitions,
                tsMs: Date.now(),
                random,
              }).record,
          );
          await producer.send(config.topics.clickstream, batch);
          sent += batch.length;
          seen = await status();
          // A checkpoint after the events came: stage 1's first mark (of nothing) may come before them.
          return (seen.checkpoint?.total ?? 0) > 0 && (seen.etl?.lastCheckpointMs ?? 0) >= firstSentMs;
        },
        // Stage 1's first marks go out one interval after the takeover, then every interval.
        6 * INTERVAL_S * 1000 + 10_000,
        `a checkpoint on the status page (etl.windows: ${mode})`,
        500,
      );
      const tookMs = Date.now() - firstSentMs;
      console.info(`etl.windows ${mode}: first checkpoint on the status page ${tookMs} ms after the first events`);
      // What `services ps` shows, and the dashboard.
      expect(seen!.etl?.lastCheckpointMs).toBeGreaterThanOrEqual(firstSentMs);
      expect(seen!.checkpoint?.lastAtMs).not.toBeNull();
      expect(seen!.warnings.map((w) => w.message).join('\n')).not.toMatch(/checkpoint/i);
      // Not a roll's: none happened.
      expect(etl.logsMatching((l) => l.msg === 'roll committed')).toEqual([]);
    });
  },
);
