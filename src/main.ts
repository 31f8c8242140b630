#!/usr/bin/env node
/**
 * The command line: `node dist/main.js <command>`; no command means `run`.
 * Exit codes: 0 done, 1 failure at run time, 2 bad config or usage (nothing was started).
 */
// First, before anything loads kafkajs: see patches/consumerFixes.ts.
import './kafka/patches/consumerFixes.js';
import { Command, CommanderError } from 'commander';
import { registerConfigCommands } from './commands/config.js';
import { registerKafkaCommands } from './commands/kafka.js';
import { registerTopicsCommands } from './commands/topics.js';
import { registerEtlCommand } from './commands/etl.js';
import { registerGenerateCommand } from './commands/generate.js';
import { registerRunCommand } from './commands/run.js';
import { registerQueryCommand } from './commands/query.js';
import { registerServicesCommands } from './commands/services.js';
import { registerUiCommand } from './commands/ui.js';
import { createCommandContext } from './commands/context.js';
import { registerDataCommands } from './commands/data.js';
import { registerVerifyCommand } from './commands/verify.js';
import { registerLakeCommands } from './commands/lake.js';
import { ExitCodes, SdpError } from './errors.js';
import { armFaultFromEnv } from './system/faults.js';

function printError(err: SdpError): void {
  process.stderr.write(`error ${err.code}: ${err.message}\n`);
  for (const line of err.details) process.stderr.write(`  - ${line}\n`);
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof SdpError) {
    return err.code.startsWith('SDP_ERR_CONFIG') || err.code === 'SDP_ERR_USAGE' || err.code === 'SDP_ERR_QUERY_INVALID'
      ? ExitCodes.CONFIG
      : ExitCodes.FAILURE;
  }
  return ExitCodes.FAILURE;
}

async function main(argv: string[]): Promise<number> {
  try {
    // Crash points for tests, read once here (src/system/faults.ts); unset in production.
    armFaultFromEnv(process.env);
  } catch (err) {
    if (err instanceof SdpError) {
      printError(err);
      return exitCodeFor(err);
    }
    throw err;
  }
  const program = new Command();
  program
    .name('sdp')
    .description('Streaming Data Platform: generators → Kafka → exactly-once Parquet lake and event-time windows')
    .option('-c, --config <file>', 'config file (default: $SDP_CONFIG or ./config.yml)')
    .showHelpAfterError()
    .exitOverride();

  const context = createCommandContext({
    get configFile() {
      return program.opts<{ config?: string }>().config;
    },
  });
  registerConfigCommands(program, context);
  registerKafkaCommands(program, context);
  registerTopicsCommands(program, context);
  registerRunCommand(program, context);
  registerGenerateCommand(program, context);
  registerEtlCommand(program, context);
  registerQueryCommand(program, context);
  registerDataCommands(program, context);
  registerVerifyCommand(program, context);
  registerLakeCommands(program, context);
  registerServicesCommands(program, context);
  registerUiCommand(program, context);

  try {
    await program.parseAsync(argv);
    return ExitCodes.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return ExitCodes.OK;
      return ExitCodes.CONFIG;
    }
    if (err instanceof SdpError) {
      printError(err);
      return exitCodeFor(err);
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCodes.FAILURE;
  }
}

main(process.argv).then(
  (code) => {
    // A command that set its own exit code (run, etl, generate) wins; exit now rather than wait
    // for stray handles (a kafkajs reconnect timer, a worker) to let the event loop drain.
    process.exit(typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : code);
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${String(err)}\n`);
    process.exitCode = ExitCodes.FAILURE;
  },
);
