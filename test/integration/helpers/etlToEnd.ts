import { expect } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import type { Logger } from '../../../src/log/logger.js';
import { isCaughtUp, readJournal } from './checkpointJournal.js';
import { EtlProcess } from './etlProcess.js';
import { endOffsets } from './kafkaTestData.js';
import { waitFor } from './waitFor.js';

export interface EtlToEndOptions {
  config: Config;
  logger: Logger;
  env: Record<string, string>;
  checkpointRoot: string;
  logFile: string;
  /** Kept running after catching up, so that every partition turns idle and its windows are emitted. */
  settleMs: number;
  /** The window aggregator's offsets are in the store too (false with etl.windows: members: they are in Kafka). */
  windowsInStore?: boolean;
  /** Runs after the settling, before the graceful stop (to scrape /metrics, say). */
  beforeStop?: (etl: EtlProcess) => Promise<void>;
}

/**
 * Starts `etl`, waits until the checkpoint store holds everything below the topics' current end offsets (the
 * window aggregator's offsets included), lets it settle, stops it gracefully and expects exit 0.
 */
export async function runEtlToEnd(o: EtlToEndOptions): Promise<EtlProcess> {
  const ends = {
    clickstream: await endOffsets(o.config, o.logger, o.config.topics.clickstream),
    iot: await endOffsets(o.config, o.logger, o.config.topics.iot),
  };
  const etl = EtlProcess.start(o.env, { logFile: o.logFile });
  try {
    await waitFor(
      () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        const journal = readJournal(o.checkpointRoot);
        return (
          isCaughtUp(journal, o.config.topics.clickstream, ends.clickstream, o.windowsInStore ?? true) &&
          isCaughtUp(journal, o.config.topics.iot, ends.iot)
        );
      },
      240_000,
      'the checkpoint store to reach the end offsets',
      250,
    );
    await new Promise((r) => setTimeout(r, o.settleMs));
    await o.beforeStop?.(etl);
  } finally {
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
  }
  return etl;
}
