import { z } from 'zod';
import { parseDurationMs, parseSizeBytes } from './units.js';

/**
 * The schema of config.yml. Every object is strict, so an unknown key is an error naming its
 * dotted path. Durations ("10s") become milliseconds and sizes ("64KB") bytes after parsing.
 */

const port = z.int().min(1).max(65535);
const positiveInt = z.int().positive();
const nonNegativeInt = z.int().nonnegative();

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as 500ms, 10s, 5m or 1h, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

const size = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const bytes = parseSizeBytes(value);
  if (bytes === undefined || bytes === 0) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 64KB or 128MB, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return bytes;
});

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A KRaft cluster id is a base64url-encoded 16-byte UUID: 22 characters, as `kafka-storage random-uuid` prints. */
const kraftClusterId = z
  .string()
  .refine((id) => /^[A-Za-z0-9_-]{22}$/.test(id) && Buffer.from(id, 'base64url').length === 16, {
    message: 'expected a base64url-encoded 16-byte UUID of 22 characters (as printed by kafka-storage random-uuid)',
  });

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

/**
 * SASL credentials. The password comes from config.yml, from SDP_KAFKA__SASL__PASSWORD (an
 * environment override of kafka.sasl.password), or from `password_file` (read at load time, see
 * config/secretFiles.ts): exactly one of password and password_file.
 */
const sasl = z
  .strictObject({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1).optional(),
    password_file: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.password === undefined && s.password_file === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message:
          'expected a password: kafka.sasl.password, the variable SDP_KAFKA__SASL__PASSWORD, or kafka.sasl.password_file',
      });
    }
    if (s.password !== undefined && s.password_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['password_file'],
        message:
          'expected either kafka.sasl.password (or SDP_KAFKA__SASL__PASSWORD) or kafka.sasl.password_file, not both',
      });
    }
  });

/**
 * TLS to the brokers: false (plaintext), true (verified against the system CAs), or PEM files: the
 * CA that signed the brokers' certificates and, for mutual TLS, a client certificate and key.
 */
const ssl = z.union([
  z.boolean(),
  z
    .strictObject({
      ca_file: z.string().min(1).optional(),
      cert_file: z.string().min(1).optional(),
      key_file: z.string().min(1).optional(),
      reject_unauthorized: z.boolean().default(true),
    })
    .superRefine((t, ctx) => {
      // A client certificate is useless without its key, and the reverse.
      if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [t.cert_file === undefined ? 'cert_file' : 'key_file'],
          message: 'expected both kafka.ssl.cert_file and kafka.ssl.key_file (mutual TLS), or neither',
        });
      }
    }),
]);

const kafka = z.strictObject({
  cluster_id: kraftClusterId,
  brokers: positiveInt,
  partitions: positiveInt,
  replication_factor: positiveInt,
  min_insync_replicas: positiveInt,
  external_ports: z.array(port).min(1),
  bootstrap_servers: z.array(hostPort).min(1),
  client_id: z.string().min(1),
  connection_timeout: duration,
  request_timeout: duration,
  /** How long a command may try to reach the cluster before it reports it unreachable. */
  unreachable_timeout: duration,
  ssl,
  sasl: sasl.nullable(),
  /** The Docker-free three-broker cluster built from Kafka's own jars (make kafka-up). */
  local: z.strictObject({
    kafka_version: z.string().regex(/^3\.9\.\d+$/, 'expected an Apache Kafka 3.9.x version'),
    controller_ports: z.array(port).min(1),
    heap: z.string().regex(/^\d+[mMgG]$/, 'expected a JVM heap size such as 512m'),
    data_dir: z.string().min(1),
  }),
});

/**
 * Producer threads: a whole number, or `auto` (sized from the rates, producer/threadSizing.ts).
 * Strings too: an environment override (SDP_DATA_GENERATOR__THREADS=2) arrives as text.
 */
const producerThreads = z.union([z.string(), z.number()]).transform((value, ctx): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    ctx.addIssue({
      code: 'custom',
      message: `expected auto or a whole number of threads from 1 to 64, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return n;
});

const streamRates = z.strictObject({ clickstream: nonNegativeInt, iot: nonNegativeInt });

const dataGenerator = z.strictObject({
  /** Real total rates across all threads, events per second; 0 means as fast as possible. */
  events_per_second: streamRates,
  /** auto: one thread per AUTO_EVENTS_PER_THREAD of the total rate (producer/threadSizing.ts). */
  threads: producerThreads,
  /**
   * The young generation (V8 semi-spaces) of each producer thread, as a Worker resourceLimit.
   * V8's own default (48 MB at most) is memory a thread keeps once its allocation rate grew it.
   */
  thread_young_heap: size,
  batch_size: positiveInt,
  /**
   * A stream that keeps up waits at most this long for a batch to fill to batch_size before it
   * sends what is due (Kafka's linger.ms, per transaction): fewer, fuller transactions at low rates.
   */
  linger: duration,
  compression: z.enum(['lz4', 'gzip', 'none']),
  /** Log one metrics line per stream this often. */
  metrics_interval: duration,
  /** Transactional-id prefix of the producers; stable ids let a new producer fence a dead one. */
  transactional_id_prefix: z.string().min(1),
  seed: z.int().nullable(),
});

/** A thread count 0..16 or `auto`; from the environment the count arrives as text. */
const encoderThreads = z.unknown().transform((value, ctx): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 16) return n;
  ctx.addIssue({
    code: 'custom',
    message: `expected a whole number of threads from 0 to 16, or auto (got ${JSON.stringify(value) ?? 'nothing'})`,
  });
  return z.NEVER;
});

/**
 * The repartition topic's partition count R (architecture.md, "Windows across members"): `auto` (kafka.partitions
 * when the topic is created, its own count after) or a whole number; from the environment it arrives as text.
 */
const windowPartitions = z.unknown().transform((value, ctx): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1) return n;
  ctx.addIssue({
    code: 'custom',
    message: `expected auto or a whole number of partitions, 1 or more (got ${JSON.stringify(value) ?? 'nothing'})`,
  });
  return z.NEVER;
});

const etl = z.strictObject({
  consumer_group: z.string().min(1),
  /** Watermark of a partition = max event time seen minus this delay. */
  watermark_delay: duration,
  /** A partition with no data for this long does not hold the global watermark back. */
  idle_timeout: duration,
  /** The window aggregator checkpoints its state this often. */
  checkpoint_interval: duration,
  max_file_rows: positiveInt,
  /**
   * Rows all lake writers together may hold: from 3/4 of it they roll early, over it they pause fetching
   * (lake/bufferBudget.ts).
   */
  max_buffered_rows: positiveInt,
  max_file_bytes: size,
  max_file_age: duration,
  /** A buffer that has received nothing for this long is rolled: the end of a burst is soon visible. */
  max_file_idle: duration,
  max_event_bytes: size,
  /** An event time further ahead of the Kafka record's timestamp than this is rejected. */
  max_future_skew: duration,
  /** Journal events between two checkpointer snapshots. */
  snapshot_every: positiveInt,
  parquet_encoder: z.enum(['parquetjs-lite', 'hyparquet-writer']),
  /** Worker threads that encode Parquet files off the consuming thread. */
  /**
   * 0 encodes on the consuming thread (no copy to a worker, no parallelism); auto: cores - 1, at most 4
   * (lake/encoderThreads.ts).
   */
  encoder_threads: encoderThreads,
  /**
   * Old-generation heap of each encoder thread: the file it encodes must fit once unpacked (64MB holds a max_file_bytes
   * roll of 1 MB rejected payloads, test/unit/lake/encoderPool.test.ts).
   */
  encoder_heap: size,
  /** Kafka fetch size per partition: larger reads faster, costs memory per assigned partition. */
  fetch_max_bytes_per_partition: size,
  /** Heap in use above which a full garbage collection is asked for (keeps RSS near the live set). */
  heap_soft_limit: size,
  row_group_rows: positiveInt,
  shutdown_timeout: duration,
  /** A checkpointed offset before the log start: stop (fail), or skip to the log start or end. */
  on_offset_out_of_range: z.enum(['fail', 'earliest', 'latest']).default('fail'),
  /** R: partitions of `<group>-pv-repartition` and `<group>-pv-state`; fixed once window state exists. */
  window_partitions: windowPartitions,
  /**
   * Where the page-view windows are computed (architecture.md, "Windows across members"): `members`, the two window
   * stages through the group's internal topics, right with any number of members; `process`, one window aggregator
   * over the partitions this process owns (right only while the group has one member); `auto`, the default, decides
   * from the group in Kafka at each start (etl/windowsMode.ts): `process` for a group whose windows the one-process
   * aggregator already counts, else `members`.
   */
  windows: z.enum(['auto', 'process', 'members']).default('auto'),
  /**
   * How often, at most, the window stage deletes the records of `<group>-pv-repartition` its tasks committed past
   * (architecture.md, "Windows across members"; Kafka Streams' repartition.purge.interval.ms).
   */
  repartition_purge_interval: duration.default(30_000),
});

const storage = z.strictObject({
  datalake_root: z.string().min(1),
  checkpoint_root: z.string().min(1),
});

/**
 * Days a dt partition of the lake is kept after its day ended (architecture.md, "Keeping the lake: retention"):
 * null or `off` keeps everything; from the environment the number arrives as text.
 */
const retentionDays = z.unknown().transform((value, ctx): number | null => {
  if (value === null || value === 'off') return null;
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 1_000_000) return n;
  ctx.addIssue({
    code: 'custom',
    message: `expected a whole number of days (1 or more), or off/null (got ${JSON.stringify(value) ?? 'nothing'})`,
  });
  return z.NEVER;
});

const lake = z.strictObject({
  /**
   * Dt partitions whose day ended more than this many days ago (UTC) expire: deleted by their owners inside
   * `run`/`etl`, and by `lake expire` with the platform stopped.
   */
  retention_days: retentionDays,
  /**
   * With `retention_days` set, how often each owner inside `run`/`etl` deletes its files of the dts that expired
   * (architecture.md, "Keeping the lake: retention"); also once when it takes a partition over.
   */
  retention_interval: duration.refine((ms) => ms > 0, { message: 'expected a duration above 0, such as 1h' }),
  /** `lake compact` merges a unit's small files into files of about this size (architecture.md, "Compaction"). */
  target_file_bytes: size,
  /** How long a unit's old version stays in `<lake>/_swap` after a swap, for queries that listed its files. */
  vacuum_grace: duration,
  /**
   * How long after a UTC day ended (in event time, as the windows' watermark tells) its dt may be sealed with a
   * manifest (architecture.md, "Sealed days").
   */
  seal_after: duration,
  /**
   * Whether each partition's owner compacts its files inside `run`/`etl`, as one more commit of its own
   * (architecture.md, "Compaction"); `lake compact` works either way.
   */
  compaction: z.boolean(),
  /** How often each owner looks for small files of its partitions to merge. */
  compaction_interval: duration.refine((ms) => ms > 0, { message: 'expected a duration above 0, such as 10m' }),
});

const topics = z.strictObject({ clickstream: z.string().min(1), iot: z.string().min(1) });

const ui = z.strictObject({
  kafka_ui_port: port,
  /** 0 picks a free port (tests); the chosen one is logged. */
  status_port: z.int().min(0).max(65535),
  status_host: z.string().min(1),
  /** The Kafka browser: auto = on unless something already answers on ui.kafka_ui_port (the Docker Kafka UI). */
  kafka_ui: z.enum(['auto', 'on', 'off']).default('auto'),
  kafka_ui_host: z.string().min(1).default('127.0.0.1'),
  /** Required when either page binds a non-loopback address; every request must then carry it. */
  auth_token: z.string().min(16, 'expected at least 16 characters').nullable().default(null),
});

const log = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** auto: pretty when stdout is a terminal, JSON otherwise. */
  format: z.enum(['auto', 'json', 'pretty']),
});

/**
 * The background platform of `services up` (make up). The section may be left out: its default
 * is today's values (given as parsed output, as zod 4's `.default` expects).
 */
const services = z
  .strictObject({
    /** Pid file (sdp.pid), state file (services.json) and the platform's log (platform.log). */
    run_dir: z.string().min(1),
    /** The platform log rolls to .1, .2, … at this size. */
    log_max_bytes: size,
    /** Log files kept, the current one included: disk use stays under log_files × log_max_bytes. */
    log_files: positiveInt.max(20),
    /** How long `services up` waits for /readyz before it gives up. */
    ready_timeout: duration,
  })
  .default({ run_dir: './data', log_max_bytes: 10 * 1024 * 1024, log_files: 3, ready_timeout: 120_000 });

export const configSchema = z
  .strictObject({
    kafka,
    data_generator: dataGenerator,
    etl,
    storage,
    lake,
    topics,
    ui,
    log,
    services,
  })
  .superRefine((cfg, ctx) => {
    if (cfg.kafka.external_ports.length !== cfg.kafka.brokers) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'external_ports'],
        message: `expected one port per broker (${cfg.kafka.brokers}), got ${cfg.kafka.external_ports.length}`,
      });
    }
    if (cfg.kafka.local.controller_ports.length !== cfg.kafka.brokers) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'local', 'controller_ports'],
        message: `expected one port per broker (${cfg.kafka.brokers}), got ${cfg.kafka.local.controller_ports.length}`,
      });
    }
    if (cfg.kafka.min_insync_replicas > cfg.kafka.replication_factor) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'min_insync_replicas'],
        message: `expected at most kafka.replication_factor (${cfg.kafka.replication_factor}), got ${cfg.kafka.min_insync_replicas}`,
      });
    }
    for (const key of ['status_host', 'kafka_ui_host'] as const) {
      if (!isLoopbackHost(cfg.ui[key]) && cfg.ui.auth_token === null) {
        ctx.addIssue({
          code: 'custom',
          path: ['ui', 'auth_token'],
          message: `required when ui.${key} is ${cfg.ui[key]} (not a loopback address): set a token of at least 16 characters`,
        });
      }
    }
    if (cfg.topics.clickstream === cfg.topics.iot) {
      ctx.addIssue({
        code: 'custom',
        path: ['topics', 'iot'],
        message: 'expected a topic name different from topics.clickstream',
      });
    }
  });

/** The validated configuration, durations in ms and sizes in bytes. */
export type Config = z.output<typeof configSchema>;
/** The configuration as written in YAML (durations and sizes as text). */
export type ConfigInput = z.input<typeof configSchema>;

/** Dotted paths whose values are secrets: never logged, redacted by `config show`. */
export const SECRET_PATHS: readonly string[] = ['kafka.sasl.password', 'ui.auth_token'];

/** Whether the client connections use TLS or SASL (the bare wire-protocol probes must then do both). */
export function isSecured(kafka: Config['kafka']): boolean {
  return kafka.ssl !== false || kafka.sasl !== null;
}
