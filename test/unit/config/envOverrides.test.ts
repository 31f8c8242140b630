import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/defaults.js';
import { readEnvOverrides, schemaAt } from '../../../src/config/envOverrides.js';
import { configSchema } from '../../../src/config/schema.js';
import { flattenConfig } from '../../../src/config/show.js';

function variableOf(path: string): string {
  return `SDP_${path.toUpperCase().split('.').join('__')}`;
}

/** How an override of `path` is parsed, told apart by what three probe values become. */
function kindByProbes(schema: z.ZodType, path: string): string {
  const variable = variableOf(path);
  const value = (raw: string): unknown => {
    const result = readEnvOverrides(schema, { [variable]: raw });
    if (result.problems.length > 0) throw new Error(result.problems.join('; '));
    return result.overrides[0]?.value;
  };
  const yes = value('yes');
  const seven = value('7');
  const object = value('{"a":1}');
  if (Array.isArray(seven)) return typeof seven[0] === 'number' ? 'numbers' : 'strings';
  if (seven === 7) return typeof object === 'object' ? 'object' : 'number';
  if (yes === true) return typeof object === 'object' ? 'boolean-or-object' : 'boolean';
  return 'text';
}

/** Every key of config.yml (and of its optional sasl and ssl objects) by how its override is parsed. */
const KINDS: Record<string, string[]> = {
  number: [
    'data_generator.batch_size',
    'data_generator.events_per_second.clickstream',
    'data_generator.events_per_second.iot',
    'data_generator.seed',
    'etl.max_buffered_rows',
    'etl.max_file_rows',
    'etl.row_group_rows',
    'etl.snapshot_every',
    'kafka.brokers',
    'kafka.min_insync_replicas',
    'kafka.partitions',
    'kafka.replication_factor',
    'services.log_files',
    'ui.kafka_ui_port',
    'ui.status_port',
  ],
  numbers: ['kafka.external_ports', 'kafka.local.controller_ports'],
  strings: ['kafka.bootstrap_servers'],
  boolean: ['kafka.ssl.reject_unauthorized', 'lake.compaction'],
  'boolean-or-object': ['kafka.ssl'],
  object: ['kafka.sasl'],
  text: [
    'data_generator.compression',
    'data_generator.linger',
    'data_generator.metrics_interval',
    'data_generator.thread_young_heap',
    'data_generator.threads',
    'data_generator.transactional_id_prefix',
    'etl.checkpoint_interval',
    'etl.consumer_group',
    'etl.encoder_heap',
    'etl.encoder_threads',
    'etl.fetch_max_bytes_per_partition',
    'etl.heap_soft_limit',
    'etl.idle_timeout',
    'etl.max_event_bytes',
    'etl.max_file_age',
    'etl.max_file_bytes',
    'etl.max_file_idle',
    'etl.max_future_skew',
    'etl.on_offset_out_of_range',
    'etl.parquet_encoder',
    'etl.repartition_purge_interval',
    'etl.shutdown_timeout',
    'etl.watermark_delay',
    'etl.window_partitions',
    'etl.windows',
    'kafka.client_id',
    'kafka.cluster_id',
    'kafka.connection_timeout',
    'kafka.local.data_dir',
    'kafka.local.heap',
    'kafka.local.kafka_version',
    'kafka.request_timeout',
    'kafka.sasl.mechanism',
    'kafka.sasl.password',
    'kafka.sasl.password_file',
    'kafka.sasl.username',
    'kafka.ssl.ca_file',
    'kafka.ssl.cert_file',
    'kafka.ssl.key_file',
    'kafka.unreachable_timeout',
    'lake.compaction_interval',
    'lake.retention_days',
    'lake.retention_interval',
    'lake.seal_after',
    'lake.target_file_bytes',
    'lake.vacuum_grace',
    'log.format',
    'log.level',
    'services.log_max_bytes',
    'services.ready_timeout',
    'services.run_dir',
    'storage.checkpoint_root',
    'storage.datalake_root',
    'topics.clickstream',
    'topics.iot',
    'ui.auth_token',
    'ui.kafka_ui',
    'ui.kafka_ui_host',
    'ui.status_host',
  ],
};

describe('environment overrides walk the config schema', () => {
  it('parse every config key by its type, as they did on the private zod walk', () => {
    const paths = [...flattenConfig(DEFAULT_CONFIG).map(([p]) => p), ...Object.values(KINDS).flat()];
    const actual: Record<string, string[]> = {};
    for (const path of [...new Set(paths)].sort()) (actual[kindByProbes(configSchema, path)] ??= []).push(path);
    expect(actual).toEqual(KINDS);
  });

  it('see through optional, nullable, default and pipe wrappers, and into a union object option', () => {
    const schema = z.strictObject({
      a: z.int().optional(),
      b: z.boolean().default(false),
      c: z.strictObject({ d: z.number() }).nullable().default(null),
      e: z.union([z.string(), z.number()]).transform(String),
      f: z.union([z.boolean(), z.strictObject({ g: z.array(z.int()) })]),
      h: z.strictObject({ i: z.int() }).default({ i: 1 }),
    });
    const { overrides, problems } = readEnvOverrides(schema, {
      SDP_A: '5',
      SDP_B: 'no',
      SDP_C__D: '2.5',
      SDP_E: '10s',
      SDP_F: 'true',
      SDP_F__G: '1, 2',
      SDP_H__I: '3',
    });
    expect(problems).toEqual([]);
    expect(Object.fromEntries(overrides.map((o) => [o.path.join('.'), o.value]))).toEqual({
      a: 5,
      b: false,
      'c.d': 2.5,
      e: '10s',
      f: true,
      'f.g': [1, 2],
      'h.i': 3,
    });
    expect(readEnvOverrides(schema, { SDP_F: '{"g":[4]}', SDP_C: 'null' }).overrides.map((o) => o.value)).toEqual([
      null,
      { g: [4] },
    ]);
  });

  it('report unknown keys, empty segments and keys below a scalar, and skip SDP_CONFIG and SDP_FAULT', () => {
    expect(schemaAt(configSchema, ['kafka', 'partitions'])).toBeDefined();
    expect(schemaAt(configSchema, ['kafka', 'partitions', 'x'])).toBeUndefined();
    expect(schemaAt(configSchema, ['kafka', 'tostring'])).toBeUndefined();
    const { overrides, problems } = readEnvOverrides(configSchema, {
      SDP_KAFKA__NOPE: '1',
      SDP_KAFKA____PARTITIONS: '1',
      SDP_KAFKA__CONSTRUCTOR: '1',
      SDP_CONFIG: 'x.yml',
      SDP_FAULT: 'crash',
    });
    expect(overrides).toEqual([]);
    expect(problems).toEqual([
      'kafka.constructor: unknown key (from environment variable SDP_KAFKA__CONSTRUCTOR)',
      'kafka.nope: unknown key (from environment variable SDP_KAFKA__NOPE)',
      'kafka..partitions: unknown key (from environment variable SDP_KAFKA____PARTITIONS)',
    ]);
  });

  it("are read without zod's private internals, which may change in any zod release", () => {
    const src = fileURLToPath(new URL('../../../src/', import.meta.url));
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => /\._zod\b/.test(readFileSync(join(src, f), 'utf8')))).toEqual([]);
  });
});
