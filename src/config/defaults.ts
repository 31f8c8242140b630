/**
 * The value of every config key when config.yml leaves it out: a file holds only what differs.
 * These are the values the project's config.yml carried before defaults
 * existed; a unit test keeps the two equal. Written as in YAML (durations and sizes as text).
 */
import type { ConfigInput } from './schema.js';

export const DEFAULT_CONFIG: ConfigInput = {
  kafka: {
    cluster_id: 'qZanELgsau7iUtmb-1hAvw',
    brokers: 3,
    partitions: 4,
    replication_factor: 2,
    min_insync_replicas: 1,
    external_ports: [19092, 29092, 39092],
    bootstrap_servers: ['127.0.0.1:19092', '127.0.0.1:29092', '127.0.0.1:39092'],
    client_id: 'sdp',
    connection_timeout: '3s',
    request_timeout: '30s',
    unreachable_timeout: '20s',
    ssl: false,
    sasl: null,
    local: {
      kafka_version: '3.9.2',
      controller_ports: [19093, 29093, 39093],
      heap: '512m',
      data_dir: './data/kafka',
    },
  },
  data_generator: {
    events_per_second: { clickstream: 120, iot: 60 },
    threads: 'auto',
    thread_young_heap: '8MB',
    batch_size: 50,
    linger: '500ms',
    compression: 'lz4',
    metrics_interval: '10s',
    transactional_id_prefix: 'sdp-producer',
    seed: null,
  },
  etl: {
    consumer_group: 'sdp-etl',
    watermark_delay: '10s',
    idle_timeout: '30s',
    checkpoint_interval: '10s',
    max_file_rows: 50000,
    max_buffered_rows: 160000,
    max_file_bytes: '64MB',
    max_file_age: '60s',
    max_file_idle: '2s',
    max_event_bytes: '64KB',
    max_future_skew: '1h',
    snapshot_every: 100,
    parquet_encoder: 'hyparquet-writer',
    encoder_threads: 'auto',
    encoder_heap: '64MB',
    fetch_max_bytes_per_partition: '128KB',
    heap_soft_limit: '24MB',
    row_group_rows: 50000,
    shutdown_timeout: '30s',
    on_offset_out_of_range: 'fail',
    window_partitions: 'auto',
    windows: 'auto',
    repartition_purge_interval: '30s',
  },
  storage: {
    datalake_root: './data/datalake',
    checkpoint_root: './data/checkpoints',
  },
  lake: {
    retention_days: null,
    retention_interval: '1h',
    target_file_bytes: '128MB',
    vacuum_grace: '15m',
    seal_after: '1h',
    compaction: true,
    compaction_interval: '10m',
  },
  topics: { clickstream: 'clickstream', iot: 'iot' },
  ui: {
    kafka_ui_port: 8080,
    status_port: 8081,
    status_host: '127.0.0.1',
    kafka_ui: 'auto',
    kafka_ui_host: '127.0.0.1',
    auth_token: null,
  },
  log: { level: 'info', format: 'auto' },
  services: { run_dir: './data', log_max_bytes: '10MB', log_files: 3, ready_timeout: '120s' },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `file` over `defaults`: objects merge key by key, anything else (a list, a scalar, null) in the
 * file replaces the default. Keys the defaults do not know are kept, for the schema to report.
 */
export function mergeOverDefaults(defaults: unknown, file: unknown): unknown {
  if (!isPlainObject(defaults) || !isPlainObject(file)) return file === undefined ? structuredClone(defaults) : file;
  const out: Record<string, unknown> = structuredClone(defaults);
  for (const [key, value] of Object.entries(file))
    out[key] = key in defaults ? mergeOverDefaults(defaults[key], value) : value;
  return out;
}

/** Whether the document sets `path` (or a parent of it to a non-object, such as `sasl: null`). */
export function setsPath(doc: unknown, path: readonly string[]): boolean {
  let node = doc;
  for (const key of path) {
    if (!isPlainObject(node)) return true;
    if (!Object.hasOwn(node, key)) return false;
    node = node[key];
  }
  return true;
}
