import { expect } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import type { Logger } from '../../../src/log/logger.js';
import { isCaughtUp, readJournal } from './checkpointJournal.js';
import { EtlProcess } from './etlProcess.js';
import { endOffsets } from './kafkaTestData.js';
import { waitFor } from './waitFor.js';
import { windowsNotCaughtUp, windowsPollMs } from './windowsCaughtUp.js';

export interface EtlToEndOptions {
  config: Config;
  logger: Logger;
  env: Record<string, string>;
  checkpointRoot: string;
  logFile: string;
  /** Kept running after catching up, so that every partition turns idle and its windows are emitted. */
  settleMs: number;
  /** Runs after the settling, before the graceful stop (to scrape /metrics, say). */
  beforeStop?: (etl: EtlProcess) => Promise<void>;
}

/**
 * Starts `etl` (in `config.etl.windows`'s mode), waits until the checkpoint store holds everything below the topics'
 * current end offsets and every window they imply is emitted and committed (windowsCaughtUp.ts), lets it settle, stops
 * it gracefully and expects exit 0.
 */
export async function runEtlToEnd(o: EtlToEndOptions): Promise<EtlProcess> {
  const ends = {
    clickstream: await endOffsets(o.config, o.logger, o.config.topics.clickstream),
    iot: await endOffsets(o.config, o.logger, o.config.topics.iot),
  };
  const etl = EtlProcess.start(o.env, { logFile: o.logFile });
  try {
    // Its signal handlers first (installed before the store is locked): with the store already at the end offsets the
    // wait below passes at once, and a SIGTERM before them killed the process (signal SIGTERM, not exit 0).
    await etl.waitForLog((l) => l.msg === 'checkpoint store locked', 120_000, 'the etl to lock its store');
    let moving: string[] = [];
    await waitFor(
      async () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        const journal = readJournal(o.checkpointRoot);
        if (
          !isCaughtUp(journal, o.config.topics.clickstream, ends.clickstream) ||
          !isCaughtUp(journal, o.config.topics.iot, ends.iot)
        ) {
          moving = ['raw writers not at the end offsets'];
          return false;
        }
        moving = await windowsNotCaughtUp({
          config: o.config,
          logger: o.logger,
          checkpointRoot: o.checkpointRoot,
          clickstreamEnds: ends.clickstream,
        });
        return moving.length === 0;
      },
      240_000,
      'the checkpoint store to reach the end offsets and every window to be emitted',
      windowsPollMs(o.config),
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${moving.slice(0, 8).join('; ')}`, { cause: err });
    });
    await new Promise((r) => setTimeout(r, o.settleMs));
    await o.beforeStop?.(etl);
  } finally {
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
  }
  return etl;
}
