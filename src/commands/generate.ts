import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { StreamName } from '../events/types.js';
import { assertTopicsReady } from '../kafka/admin/preflight.js';
import { Platform } from '../platform/supervisor.js';
import { STREAMS } from '../actors/producerPool.js';
import type { CommandContext } from './context.js';
import { createStopRequest, runUntilStopped } from './runUntilStopped.js';

interface GenerateOptions {
  clickstreamRate?: number;
  iotRate?: number;
  count?: number;
  duration?: number;
  only?: StreamName;
  threads?: number;
  batchSize?: number;
  seed?: number;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** Splits a total count over the streams in proportion to their rates (evenly if any is unlimited). */
export function splitCount(
  total: number,
  rates: Partial<Record<StreamName, number>>,
): Partial<Record<StreamName, number>> {
  const streams = STREAMS.filter((s) => rates[s] !== undefined);
  const weights = streams.map((s) => rates[s] ?? 0);
  const proportional = weights.every((w) => w > 0);
  const sum = proportional ? weights.reduce((a, b) => a + b, 0) : streams.length;
  const counts: Partial<Record<StreamName, number>> = {};
  let assigned = 0;
  streams.forEach((stream, i) => {
    const share =
      i === streams.length - 1 ? total - assigned : Math.floor((total * (proportional ? weights[i]! : 1)) / sum);
    counts[stream] = share;
    assigned += share;
  });
  return counts;
}

export function registerGenerateCommand(program: Command, context: CommandContext): void {
  program
    .command('generate')
    .description(
      'generate clickstream and IoT events into Kafka (LZ4, transactional batches) until stopped, --count or --duration',
    )
    .option('--clickstream-rate <n>', 'clickstream events per second (0 = as fast as possible)', nonNegativeInt)
    .option('--iot-rate <n>', 'IoT events per second (0 = as fast as possible)', nonNegativeInt)
    .option(
      '--count <n>',
      'stop after exactly n events are acknowledged (split over the streams by rate)',
      nonNegativeInt,
    )
    .option('--duration <seconds>', 'stop after this many seconds', positiveNumber)
    .option('--only <stream>', 'generate one stream only (clickstream or iot)', (v: string) => {
      if (v !== 'clickstream' && v !== 'iot') throw new InvalidArgumentError('expected clickstream or iot');
      return v as StreamName;
    })
    .option('--threads <n>', 'producer threads (default data_generator.threads)', nonNegativeInt)
    .option('--batch-size <n>', 'events per batch (default data_generator.batch_size)', nonNegativeInt)
    .option('--seed <n>', 'seed of the generators (default data_generator.seed)', nonNegativeInt)
    .action(async (opts: GenerateOptions) => {
      const { config } = context.config();
      const logger = context.logger();
      const configured = config.data_generator.events_per_second;
      const rates: Partial<Record<StreamName, number>> = {};
      for (const stream of STREAMS) {
        if (opts.only && opts.only !== stream) continue;
        rates[stream] = (stream === 'clickstream' ? opts.clickstreamRate : opts.iotRate) ?? configured[stream];
      }
      const topics = STREAMS.filter((s) => rates[s] !== undefined).map((s) => config.topics[s]);
      await assertTopicsReady(config, logger, topics);

      const stop = createStopRequest();
      const start = () =>
        Platform.start(config, logger, {
          producer: {
            rates,
            ...(opts.count !== undefined ? { counts: splitCount(opts.count, rates) } : {}),
            ...(opts.threads ? { threads: opts.threads } : {}),
            ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            onComplete: () => stop.request('count reached'),
          },
        });
      await runUntilStopped(start, logger, stop, opts.duration);
    });
}
