import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { renderDotEnv } from '../config/dotenv.js';
import { renderConfigShow } from '../config/show.js';
import type { CommandContext } from './context.js';

export function registerConfigCommands(program: Command, context: CommandContext): void {
  const config = program
    .command('config')
    .description('show the effective config, or write .env for the Docker compose file');

  config
    .command('show')
    .description(
      'print every effective value (defaults, file, SDP_* environment) as dotted keys with its source, secrets redacted',
    )
    .action(() => {
      const { effective, overriddenBy, sources, file } = context.config();
      process.stdout.write(
        `# ${file} (each value's source: default, file, or the environment variable)\n${renderConfigShow(effective, overriddenBy, sources)}\n`,
      );
    });

  config
    .command('env')
    .description('write .env (ports, cluster id) for docker-compose.kafka.yml from config.yml')
    .option('-o, --output <file>', 'where to write', '.env')
    .action((opts: { output: string }) => {
      const target = resolve(opts.output);
      writeFileSync(target, renderDotEnv(context.config().config));
      process.stdout.write(`wrote ${target}\n`);
    });
}
