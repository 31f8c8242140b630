import type { Command } from 'commander';
import { onShutdownSignals } from '../system/signals.js';
import { startKafkaBrowser } from '../ui/kafkaBrowserServer.js';
import type { CommandContext } from './context.js';

/** `ui`: the Kafka browser alone (when only Kafka runs), until SIGINT or SIGTERM. */
export function registerUiCommand(program: Command, context: CommandContext): void {
  program
    .command('ui')
    .description('serve the read-only Kafka browser on ui.kafka_ui_port alone (no platform), until SIGTERM')
    .option('--duration <seconds>', 'stop after this many seconds', Number)
    .action(async (opts: { duration?: number }) => {
      const { config } = context.config();
      const logger = context.logger();
      // Asked for explicitly: a taken port is an error here, whatever ui.kafka_ui says.
      const browser = (await startKafkaBrowser(config, logger, 'on'))!;
      process.stdout.write(`kafka browser on ${browser.server.url}\n`);
      await new Promise<void>((resolve) => {
        const remove = onShutdownSignals(logger, () => {
          remove();
          resolve();
        });
        if (opts.duration) setTimeout(resolve, opts.duration * 1000).unref();
      });
      await browser.close();
    });
}
