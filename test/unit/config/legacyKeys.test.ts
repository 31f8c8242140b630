import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKraftClusterId, translateLegacyConfig } from '../../../src/config/legacyKeys.js';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';

// A RECONSTRUCTION of the original platform's config.yml from its documentation (see the file's header).
const originalText = readFileSync(join(__dirname, 'fixtures/original-platform-config.yml'), 'utf8');
const fixedRandom = () => Buffer.alloc(16, 7);

describe("the original platform's config.yml", () => {
  it('loads, every renamed key read under its new name with a warning naming it', () => {
    const { config, warnings } = parseConfig(originalText, 'original.yml', {});
    expect(config.kafka.external_ports).toEqual([19092, 29092, 39092]);
    // Container host names are unreachable from the host: the host ports are used instead.
    expect(config.kafka.bootstrap_servers).toEqual(['127.0.0.1:19092', '127.0.0.1:29092', '127.0.0.1:39092']);
    expect(isKraftClusterId(config.kafka.cluster_id)).toBe(true);
    expect(config.data_generator.events_per_second).toEqual({ clickstream: 30, iot: 20 });
    const text = warnings.join('\n');
    expect(text).toMatch(
      /kafka\.kraft_cluster_id is now kafka\.cluster_id, and "unique-cluster-id" is not a KRaft cluster id/,
    );
    expect(text).toMatch(/kafka\.external_ports: broker_1\.\.3 read as the list \[19092,29092,39092\]/);
    expect(text).toMatch(/kafka\.bootstrap_servers: the comma-separated text is read as the list/);
    expect(text).toMatch(
      /kafka-1:9092, kafka-2:9092, kafka-3:9092 are container host names, reachable only inside Docker's network and unreachable from this host; using 127\.0\.0\.1:19092,127\.0\.0\.1:29092,127\.0\.0\.1:39092/,
    );
    expect(text).toMatch(/ui\.spark_master_ui_port: not used here/);
    expect(text).toMatch(/data_generator\.bootstrap_servers: not used here/);
    expect(text).toMatch(/^spark: not used here/m);
    expect(text).toMatch(
      /events_per_second: read as total rates .* multiplied them by 4 \(clickstream\) and 3 \(IoT\): for its load write {3}events_per_second: \{ clickstream: 120, iot: 60 \}/,
    );
  });

  it('gives the exact fix for a cluster id that is not a KRaft id', () => {
    const { warnings } = translateLegacyConfig(
      { kafka: { kraft_cluster_id: 'unique-cluster-id' } },
      [1, 2, 3],
      fixedRandom,
    );
    const id = Buffer.alloc(16, 7).toString('base64url');
    expect(isKraftClusterId(id)).toBe(true);
    expect(warnings[0]).toContain(`Fix: replace the line with   cluster_id: ${id}`);
  });

  it('moves a valid kraft_cluster_id to kafka.cluster_id', () => {
    const { doc, warnings } = translateLegacyConfig(
      { kafka: { kraft_cluster_id: 'qZanELgsau7iUtmb-1hAvw' } },
      [1],
      fixedRandom,
    );
    expect(doc).toEqual({ kafka: { cluster_id: 'qZanELgsau7iUtmb-1hAvw' } });
    expect(warnings).toEqual([
      'kafka.kraft_cluster_id is now kafka.cluster_id: read as kafka.cluster_id (rename the key)',
    ]);
  });

  it('leaves a file without old keys untouched and silent, rates included', () => {
    const input = {
      kafka: { bootstrap_servers: ['127.0.0.1:19092'] },
      data_generator: { events_per_second: { clickstream: 5, iot: 5 } },
    };
    expect(translateLegacyConfig(input, [19092])).toEqual({ doc: input, warnings: [], legacy: false });
  });

  it('keeps unknown keys errors, even in an old file (exit 2 naming the key)', () => {
    try {
      parseConfig(`${originalText}\netl:\n  trigger_interval: 10s\n`, 'original.yml', {});
    } catch (err) {
      expect(err).toBeInstanceOf(SdpError);
      expect((err as SdpError).code).toBe(ErrorCodes.CONFIG_INVALID);
      expect((err as SdpError).details).toEqual(['etl.trigger_interval: unknown key']);
      return;
    }
    throw new Error('expected a rejection');
  });
});
