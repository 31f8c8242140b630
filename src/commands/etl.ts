import type { Command } from 'commander';
import { assertTopicsReady } from '../kafka/admin/preflight.js';
import { createLogger } from '../log/logger.js';
import { STREAMS } from '../platform/etlRuntime.js';
import { Platform } from '../platform/supervisor.js';
import type { CommandContext } from './context.js';
import { createStopRequest, runUntilStopped } from './runUntilStopped.js';

export function registerEtlCommand(program: Command, context: CommandContext): void {
  program
    .command('etl')
    .description(
      'run the streaming ETL alone: Kafka → exactly-once Parquet lake (clickstream, iot, _rejected) and page-view windows (clickstream_agg)',
    )
    .option('--duration <seconds>', 'stop gracefully after this many seconds', Number)
    .option(
      '--log-file <file>',
      'JSON log lines into this file, rolled at services.log_max_bytes (used by `services scale`)',
    )
    .action(async (opts: { duration?: number; logFile?: string }) => {
      const { config } = context.config();
      const logger = opts.logFile
        ? createLogger({
            level: config.log.level,
            format: 'json',
            file: { path: opts.logFile, maxBytes: config.services.log_max_bytes, keep: config.services.log_files },
          })
        : context.logger();
      await assertTopicsReady(
        config,
        logger,
        STREAMS.map((s) => config.topics[s]),
      );
      await runUntilStopped(
        () => Platform.start(config, logger, { etl: true, status: true }),
        logger,
        createStopRequest(),
        opts.duration,
      );
    });
}
