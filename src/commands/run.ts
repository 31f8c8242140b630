import type { Command } from 'commander';
import { STREAMS } from '../etl/etlRuntime.js';
import { assertTopicsReady } from '../kafka/preflight.js';
import { Platform } from '../supervisor.js';
import type { CommandContext } from './context.js';
import { createStopRequest, runUntilStopped } from './runUntilStopped.js';

export function registerRunCommand(program: Command, context: CommandContext): void {
  program
    .command('run', { isDefault: true })
    .description('run the whole platform (the default): generators → Kafka → ETL → lake, until SIGTERM')
    .option('--duration <seconds>', 'stop gracefully after this many seconds', Number)
    .action(async (opts: { duration?: number }) => {
      const { config } = context.config();
      const logger = context.logger();
      await assertTopicsReady(config, logger, STREAMS.map((s) => config.topics[s]));
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
