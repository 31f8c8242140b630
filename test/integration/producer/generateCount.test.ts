/**
 * `generate --count N`: exactly N events in the topics, as an independent client (kcat) reads them
 * with read_committed; every one valid for the ETL, keyed as architecture.md says, none twice; and
 * Kafka's own log-segment dump shows the data batches compressed with LZ4.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { splitCount } from '../../../src/commands/generate.js';
import {
  consumeAndDecodeAll,
  duplicates,
  freshTopicsPerBlock,
  producerSummary,
  type DecodedStreams,
} from '../helpers/producerFixtures.js';
import { dumpFirstSegment, recordsIn } from '../helpers/logSegments.js';
import { runCli, type CliResult } from '../helpers/runCli.js';

const COUNT = 10_000;
const RATES = { clickstream: 4_000, iot: 2_000 };
// 6,666 clickstream and 3,334 IoT events: the count split in proportion to the rates.
const EXPECTED = splitCount(COUNT, RATES) as { clickstream: number; iot: number };

describe('generate --count 10000', () => {
  const freshTopics = freshTopicsPerBlock();
  let config: Config;
  let result: CliResult;
  let consumed: DecodedStreams;

  beforeAll(async () => {
    const fresh = await freshTopics();
    config = fresh.config;
    // Faster than the configured 120/60 per second, in the same 2:1 proportion.
    result = await runCli(
      [
        'generate',
        '--count',
        String(COUNT),
        '--clickstream-rate',
        String(RATES.clickstream),
        '--iot-rate',
        String(RATES.iot),
      ],
      fresh.env,
    );
    consumed = await consumeAndDecodeAll(config, COUNT);
  });

  it('exits 0 and reports every event acknowledged', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = producerSummary(result.stdout);
    expect(EXPECTED.clickstream + EXPECTED.iot).toBe(COUNT);
    expect(summary).toMatchObject({ clickstream_total: EXPECTED.clickstream, iot_total: EXPECTED.iot, errors: 0 });
  });

  it('puts exactly 10,000 events in the two topics, as kcat reads them (read_committed)', () => {
    expect(consumed.messages.clickstream.length + consumed.messages.iot.length).toBe(COUNT);
    expect(consumed.messages.clickstream.length).toBe(EXPECTED.clickstream);
    expect(consumed.messages.iot.length).toBe(EXPECTED.iot);
  });

  it('sends only events the ETL accepts, keyed by user_id / device_id, none twice', () => {
    expect(consumed.invalid).toEqual([]);
    expect(consumed.wrongKeys).toBe(0);
    expect(duplicates(consumed.clickstream.map((r) => r.event_id))).toEqual([]);
    // IoT readings carry no id (two readings of a device in one batch may even be equal): their count is the check.
    // Spread over every partition by key.
    for (const stream of ['clickstream', 'iot'] as const) {
      expect(new Set(consumed.messages[stream].map((m) => m.partition)).size).toBe(config.kafka.partitions);
    }
  });

  it("writes LZ4 record batches, as Kafka's own DumpLogSegments shows", async () => {
    const { data, markers } = await dumpFirstSegment(config, config.topics.clickstream, 0);
    expect(data.length).toBeGreaterThan(0);
    for (const line of data) {
      expect(line).toMatch(/compresscodec: LZ4/i);
      expect(line).toMatch(/isTransactional: true/);
    }
    // Every data batch was committed by a transaction marker.
    expect(markers.length).toBeGreaterThan(0);
    expect(recordsIn(data)).toBe(consumed.messages.clickstream.filter((m) => m.partition === 0).length);
  });
});
