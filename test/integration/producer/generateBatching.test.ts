/**
 * Batches fill at paced rates: at config.yml's 120 + 60 events/s, batch_size 50 and linger 500ms, a
 * transaction carries tens of events (a full batch of 50 clickstream events every ~0.42 s, ~30 IoT
 * events per linger), not the handful a short linger gave. Checked from the producer's own summary
 * and, independently, from Kafka's log: each transaction writes at most one data batch and one
 * commit marker per partition it touches.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { splitCount } from '../../../src/commands/generate.js';
import { freshTopicsPerBlock, logLines } from '../helpers/producerFixtures.js';
import { dumpFirstSegment, recordsIn } from '../helpers/logSegments.js';
import { runCli, type CliResult } from '../helpers/runCli.js';

const COUNT = 1_800;

describe('generate at the default rates (120 + 60 events/s, batch_size 50, linger 500ms)', () => {
  const freshTopics = freshTopicsPerBlock();
  let config: Config;
  let result: CliResult;
  let expected: { clickstream: number; iot: number };

  beforeAll(async () => {
    const fresh = await freshTopics();
    config = fresh.config;
    expect(config.data_generator.events_per_second).toEqual({ clickstream: 120, iot: 60 });
    expect(config.data_generator.batch_size).toBe(50);
    expect(config.data_generator.linger).toBe(500);
    expected = splitCount(COUNT, config.data_generator.events_per_second) as { clickstream: number; iot: number };
    result = await runCli(['generate', '--count', String(COUNT)], fresh.env);
  });

  it('sends tens of events per transaction, as the producer summary counts them', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = logLines(result.stdout).find((l) => l.msg === 'producer summary') as
      | Record<string, number>
      | undefined;
    expect(summary).toMatchObject({ clickstream_total: expected.clickstream, iot_total: expected.iot, errors: 0 });
    // 1,200 clickstream events in batches of 50 (plus a first batch that may be larger or a last one smaller).
    expect(expected.clickstream / summary!.clickstream_transactions!).toBeGreaterThanOrEqual(40);
    // 600 IoT events at 60/s: about 30 per 500 ms linger.
    expect(expected.iot / summary!.iot_transactions!).toBeGreaterThanOrEqual(24);
  });

  it('logs events per transaction and the ack latency in its metrics lines', () => {
    const metrics = logLines(result.stdout).filter((l) => l.msg === 'producer metrics');
    for (const stream of ['clickstream', 'iot']) {
      const last = metrics.filter((l) => l.stream === stream).pop();
      expect(last, stream).toBeDefined();
      expect(last!.transactions).toBeGreaterThan(0);
      expect(typeof last!.ack_latency_ms_p50).toBe('number');
      expect(typeof last!.ack_latency_ms_p99).toBe('number');
    }
  });

  it("leaves no more data batches and commit markers in a partition than the summary's transactions (Kafka's DumpLogSegments)", async () => {
    const summary = logLines(result.stdout).find((l) => l.msg === 'producer summary') as Record<string, number>;
    const { data, markers } = await dumpFirstSegment(config, config.topics.clickstream, 0);
    expect(data.length).toBeGreaterThan(0);
    expect(data.length).toBeLessThanOrEqual(summary.clickstream_transactions!);
    expect(markers.length).toBeLessThanOrEqual(summary.clickstream_transactions!);
    expect(recordsIn(data) / data.length).toBeGreaterThanOrEqual(8);
  });
});
