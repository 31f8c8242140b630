import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';

const PROJECT_CONFIG = join(__dirname, '../../../config.yml');
const baseText = readFileSync(PROJECT_CONFIG, 'utf8');

function parse(text: string, env: NodeJS.ProcessEnv = {}) {
  return parseConfig(text, 'test.yml', env);
}

function problems(text: string, env: NodeJS.ProcessEnv = {}): { code: string; details: readonly string[] } {
  try {
    parse(text, env);
  } catch (err) {
    if (err instanceof SdpError) return { code: err.code, details: err.details };
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

describe('config loading', () => {
  it('accepts the project config.yml with the values of the original platform', () => {
    const { config } = parse(baseText);
    expect(config.kafka.partitions).toBe(4);
    expect(config.kafka.replication_factor).toBe(2);
    expect(config.kafka.min_insync_replicas).toBe(1);
    expect(config.kafka.external_ports).toEqual([19092, 29092, 39092]);
    expect(config.data_generator.events_per_second).toEqual({ clickstream: 120, iot: 60 });
    expect(config.data_generator.threads).toBe('auto');
    expect(config.data_generator.batch_size).toBe(50);
    expect(config.data_generator.compression).toBe('lz4');
    expect(config.storage).toEqual({ datalake_root: './data/datalake', checkpoint_root: './data/checkpoints' });
    expect(config.topics).toEqual({ clickstream: 'clickstream', iot: 'iot' });
    expect(config.ui).toEqual({
      kafka_ui_port: 8080,
      status_port: 8081,
      status_host: '127.0.0.1',
      kafka_ui: 'auto',
      kafka_ui_host: '127.0.0.1',
      auth_token: null,
    });
  });

  it('turns durations into milliseconds and sizes into bytes', () => {
    const { config } = parse(baseText);
    expect(config.etl.watermark_delay).toBe(10_000);
    expect(config.etl.max_event_bytes).toBe(64 * 1024);
    expect(config.etl.max_file_bytes).toBe(64 * 1024 * 1024);
    expect(config.kafka.connection_timeout).toBe(3_000);
  });

  it('reports a negative count and an unknown key, naming both dotted paths', () => {
    const text = baseText.replace('  partitions: 4', '  partitions: -1\n  partitons_typo: 4');
    const { code, details } = problems(text);
    expect(code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(details.some((d) => d.startsWith('kafka.partitions:') && d.includes('-1'))).toBe(true);
    expect(details).toContain('kafka.partitons_typo: unknown key');
  });

  it('reports a wrong type with what was expected', () => {
    const { details } = problems(baseText.replace('  batch_size: 50', '  batch_size: "fifty"'));
    expect(details).toEqual([expect.stringMatching(/^data_generator\.batch_size: expected number \(got "fifty"\)$/)]);
  });

  it('reports every problem at once, with nested and top-level paths', () => {
    const text = baseText
      .replace('  threads: auto', '  threads: 0')
      .replace('  compression: lz4', '  compression: zstd')
      .replace('  watermark_delay: 10s', '  watermark_delay: soon')
      .concat('\nextra_section: {}\n');
    const { details } = problems(text);
    const paths = details.map((d) => d.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'data_generator.threads',
        'data_generator.compression',
        'etl.watermark_delay',
        'extra_section',
      ]),
    );
    expect(details.length).toBe(4);
  });

  it('takes data_generator.threads as auto or a whole number, from the file or the environment, and names the key otherwise', () => {
    expect(parse(baseText.replace('  threads: auto', '  threads: 3')).config.data_generator.threads).toBe(3);
    expect(parse(baseText, { SDP_DATA_GENERATOR__THREADS: '2' }).config.data_generator.threads).toBe(2);
    expect(
      parse(baseText.replace('  threads: auto', '  threads: 4'), { SDP_DATA_GENERATOR__THREADS: 'auto' }).config
        .data_generator.threads,
    ).toBe('auto');
    for (const bad of ['0', '65', '2.5', 'many']) {
      const { code, details } = problems(baseText.replace('  threads: auto', `  threads: ${bad}`));
      expect(code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(details).toEqual([
        expect.stringMatching(/^data_generator\.threads: expected auto or a whole number of threads from 1 to 64, got/),
      ]);
    }
  });

  it('gives a key the file leaves out its default, and says so', () => {
    const { config, sources } = parse(
      baseText.replace(/ {2}status_port: 8081\n/, '').replace(/ {2}encoder_heap: 64MB\n/, ''),
    );
    expect(config.ui.status_port).toBe(8081);
    expect(config.etl.encoder_heap).toBe(64 * 1024 * 1024);
    expect(sources['ui.status_port']).toBe('default');
    expect(sources['ui.kafka_ui_port']).toBe('file');
  });

  it('rejects a KRaft cluster id that is not a base64url 16-byte UUID', () => {
    const { details } = problems(baseText.replace(/cluster_id: .*/, 'cluster_id: unique-cluster-id'));
    expect(details[0]).toMatch(/^kafka\.cluster_id: expected a base64url-encoded 16-byte UUID/);
  });

  it('checks relations between keys (min ISR above RF, one port per broker)', () => {
    const { details } = problems(
      baseText
        .replace('  min_insync_replicas: 1', '  min_insync_replicas: 3')
        .replace('external_ports: [19092, 29092, 39092]', 'external_ports: [19092, 29092]'),
    );
    expect(details).toEqual(
      expect.arrayContaining([expect.stringMatching(/^kafka\.external_ports: expected one port per broker/)]),
    );
    const second = problems(baseText.replace('  min_insync_replicas: 1', '  min_insync_replicas: 3'));
    expect(second.details).toEqual([
      expect.stringMatching(/^kafka\.min_insync_replicas: expected at most kafka\.replication_factor \(2\), got 3/),
    ]);
  });

  it('reports malformed YAML with its position', () => {
    const { code, details } = problems('kafka:\n  partitions: [1, 2\n  brokers: 3\n');
    expect(code).toBe(ErrorCodes.CONFIG_YAML);
    expect(details.join('\n')).toMatch(/line \d+/);
  });

  it('reports a YAML document that is not a mapping', () => {
    expect(problems('- just\n- a list\n').code).toBe(ErrorCodes.CONFIG_INVALID);
  });

  it('reports a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-config-'));
    expect(() => loadConfig(join(dir, 'nope.yml'), {})).toThrowError(
      expect.objectContaining({ code: ErrorCodes.CONFIG_NOT_FOUND }),
    );
  });

  it('loads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-config-'));
    const file = join(dir, 'config.yml');
    writeFileSync(file, baseText);
    expect(loadConfig(file, {}).config.kafka.brokers).toBe(3);
  });
});

describe('environment overrides', () => {
  it('overrides a number by its dotted path and parses it by the key type', () => {
    const loaded = parse(baseText, { SDP_KAFKA__PARTITIONS: '6' });
    expect(loaded.config.kafka.partitions).toBe(6);
    expect(loaded.overriddenBy['kafka.partitions']).toBe('SDP_KAFKA__PARTITIONS');
  });

  it('overrides nested keys, strings, lists and durations', () => {
    const { config } = parse(baseText, {
      SDP_DATA_GENERATOR__EVENTS_PER_SECOND__CLICKSTREAM: '500',
      SDP_STORAGE__DATALAKE_ROOT: '/tmp/lake',
      SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1,127.0.0.1:2',
      SDP_KAFKA__EXTERNAL_PORTS: '1,2,3',
      SDP_ETL__WATERMARK_DELAY: '2m',
      SDP_KAFKA__SSL: 'true',
    });
    expect(config.data_generator.events_per_second.clickstream).toBe(500);
    expect(config.storage.datalake_root).toBe('/tmp/lake');
    expect(config.kafka.bootstrap_servers).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    expect(config.kafka.external_ports).toEqual([1, 2, 3]);
    expect(config.etl.watermark_delay).toBe(120_000);
    expect(config.kafka.ssl).toBe(true);
  });

  it('fills an object that is null in the file (SASL credentials from the environment)', () => {
    const { config } = parse(baseText, {
      SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512',
      SDP_KAFKA__SASL__USERNAME: 'svc',
      SDP_KAFKA__SASL__PASSWORD: 's3cret',
    });
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'svc', password: 's3cret' });
  });

  it('reports an environment value of the wrong type, naming the variable', () => {
    const { details } = problems(baseText, { SDP_KAFKA__PARTITIONS: 'six' });
    expect(details).toEqual([
      'kafka.partitions: expected number (got "six") (from environment variable SDP_KAFKA__PARTITIONS)',
    ]);
  });

  it('reports an environment variable for an unknown key', () => {
    const { details } = problems(baseText, { SDP_KAFKA__PARTITONS: '6' });
    expect(details).toEqual(['kafka.partitons: unknown key (from environment variable SDP_KAFKA__PARTITONS)']);
  });

  it('ignores variables without the prefix and SDP_CONFIG', () => {
    expect(() => parse(baseText, { KAFKA__PARTITIONS: 'x', SDP_CONFIG: '/elsewhere.yml' })).not.toThrow();
  });
});

describe('ui safety', () => {
  it('a non-loopback ui host without ui.auth_token is an error naming ui.auth_token', () => {
    const yml = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');
    expect(() => parseConfig(yml, 'config.yml', { SDP_UI__STATUS_HOST: '0.0.0.0' })).toThrow(SdpError);
    try {
      parseConfig(yml, 'config.yml', { SDP_UI__KAFKA_UI_HOST: '192.168.1.5' });
      expect.unreachable();
    } catch (err) {
      expect((err as SdpError).code).toBe(ErrorCodes.CONFIG_INVALID);
      expect((err as SdpError).details.join('\n')).toMatch(/ui\.auth_token.*ui\.kafka_ui_host/);
    }
    expect(
      parseConfig(yml, 'config.yml', { SDP_UI__STATUS_HOST: '0.0.0.0', SDP_UI__AUTH_TOKEN: 'sixteen-chars-ok' }).config
        .ui.auth_token,
    ).toBe('sixteen-chars-ok');
    expect(parseConfig(yml, 'config.yml', { SDP_UI__STATUS_HOST: 'localhost' }).config.ui.status_host).toBe(
      'localhost',
    );
  });
});
