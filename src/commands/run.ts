import type { Command } from 'commander';
import { STREAMS } from '../platform/etlRuntime.js';
import { assertTopicsReady } from '../kafka/admin/preflight.js';
import { Platform } from '../platform/supervisor.js';
import type { CommandContext } from './context.js';
import { createLogger } from '../log/logger.js';
import { createStopRequest, runUntilStopped } from './runUntilStopped.js';

export function registerRunCommand(program: Command, context: CommandContext): void {
  program
    .command('run', { isDefault: true })
    .description('run the whole platform (the default): generators → Kafka → ETL → lake, until SIGTERM')
    .option('--duration <seconds>', 'stop gracefully after this many seconds', Number)
    .option(
      '--log-file <file>',
      'JSON log lines into this file, rolled at services.log_max_bytes (used by `services up`)',
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
      const start = () =>
        Platform.start(config, logger, {
          etl: true,
          status: true,
          kafkaUi: true,
          producer: { rates: { ...config.data_generator.events_per_second } },
        });
      await runUntilStopped(start, logger, createStopRequest(), opts.duration);
    });
}
