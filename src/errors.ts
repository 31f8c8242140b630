/**
 * Stable error codes (`SDP_ERR_<AREA>_<WHAT>`), as fastify does: tests and operators match on the
 * code, never on the message text.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'SDP_ERR_CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'SDP_ERR_CONFIG_NOT_FOUND',
  CONFIG_YAML: 'SDP_ERR_CONFIG_YAML',
  /** SDP_FAULT names no known crash point. */
  CONFIG_FAULT_UNKNOWN: 'SDP_ERR_CONFIG_FAULT_UNKNOWN',
  KAFKA_UNREACHABLE: 'SDP_ERR_KAFKA_UNREACHABLE',
  KAFKA_RF_TOO_HIGH: 'SDP_ERR_KAFKA_RF_TOO_HIGH',
  KAFKA_TOPIC_MISMATCH: 'SDP_ERR_KAFKA_TOPIC_MISMATCH',
  KAFKA_ADMIN_FAILED: 'SDP_ERR_KAFKA_ADMIN_FAILED',
  KAFKA_TOPIC_MISSING: 'SDP_ERR_KAFKA_TOPIC_MISSING',
  /** SASL authentication refused: wrong username or password, or a mechanism the broker does not enable. */
  KAFKA_AUTH_FAILED: 'SDP_ERR_KAFKA_AUTH_FAILED',
  /** The broker's certificate is not signed by a trusted CA (kafka.ssl.ca_file). */
  KAFKA_TLS_UNTRUSTED: 'SDP_ERR_KAFKA_TLS_UNTRUSTED',
  /** The broker's certificate is expired or not yet valid. */
  KAFKA_TLS_EXPIRED: 'SDP_ERR_KAFKA_TLS_EXPIRED',
  /** The broker's certificate does not name the host the client connected to. */
  KAFKA_TLS_WRONG_HOST: 'SDP_ERR_KAFKA_TLS_WRONG_HOST',
  /** Any other TLS failure: the port does not speak TLS, the broker refused the client certificate. */
  KAFKA_TLS_FAILED: 'SDP_ERR_KAFKA_TLS_FAILED',
  /**
   * A kafkajs internal this project corrects (patches/consumerFixes.ts) is not as expected: another version, or loaded
   * too early.
   */
  KAFKA_CLIENT_PATCH: 'SDP_ERR_KAFKA_CLIENT_PATCH',
  /** A checkpointed offset lies outside the partition's log (deleted records, or a recreated topic). */
  KAFKA_OFFSET_OUT_OF_RANGE: 'SDP_ERR_KAFKA_OFFSET_OUT_OF_RANGE',
  /** Another process holds the checkpoint store. */
  CHECKPOINT_LOCKED: 'SDP_ERR_CHECKPOINT_LOCKED',
  LOCAL_KAFKA_PORT_TAKEN: 'SDP_ERR_LOCAL_KAFKA_PORT_TAKEN',
  LOCAL_KAFKA_START: 'SDP_ERR_LOCAL_KAFKA_START',
  LOCAL_KAFKA_JARS: 'SDP_ERR_LOCAL_KAFKA_JARS',
  LOCAL_KAFKA_NOT_READY: 'SDP_ERR_LOCAL_KAFKA_NOT_READY',
  PRODUCER_FAILED: 'SDP_ERR_PRODUCER_FAILED',
  CHECKPOINT_FAILED: 'SDP_ERR_CHECKPOINT_FAILED',
  /** The checkpoint store (SQLite) could not open, read or write: disk full, locked, corrupt, closed. */
  CHECKPOINT_STORE: 'SDP_ERR_CHECKPOINT_STORE',
  /** A journal event whose sequence number is not after the key's last one: a second writer, or a bug. */
  CHECKPOINT_SEQUENCE: 'SDP_ERR_CHECKPOINT_SEQUENCE',
  /**
   * A partition's commit metadata (Kafka `sendOffsets`, architecture.md "Growing past one machine") is ours but
   * malformed, or disagrees with its committed offset: nothing of the partition is read over it.
   */
  CHECKPOINT_METADATA_INVALID: 'SDP_ERR_CHECKPOINT_METADATA_INVALID',
  /** A partition's commit metadata was written by a newer release (an unknown version): upgrade this one. */
  CHECKPOINT_METADATA_NEWER: 'SDP_ERR_CHECKPOINT_METADATA_NEWER',
  LAKE_WRITE_FAILED: 'SDP_ERR_LAKE_WRITE_FAILED',
  LAKE_FILE_MISSING: 'SDP_ERR_LAKE_FILE_MISSING',
  /** A lake file that cannot be read as a Parquet file of its table's schema: truncated, corrupt or foreign. */
  LAKE_FILE_INVALID: 'SDP_ERR_LAKE_FILE_INVALID',
  /**
   * The lake's file system cannot exchange two directories in one step (renameat2 RENAME_EXCHANGE: NFS, most FUSE
   * file systems, a kernel before 3.15): compaction's reader-safe swap is impossible there.
   */
  LAKE_SWAP_UNSUPPORTED: 'SDP_ERR_LAKE_SWAP_UNSUPPORTED',
  /**
   * The lake's expiry record (`_expired.json`) is not one this version reads: nothing is rebuilt or expired over it.
   */
  LAKE_EXPIRY_RECORD_INVALID: 'SDP_ERR_LAKE_EXPIRY_RECORD_INVALID',
  WORKER_FILE_MISSING: 'SDP_ERR_WORKER_FILE_MISSING',
  SHUTDOWN_TIMEOUT: 'SDP_ERR_SHUTDOWN_TIMEOUT',
  WINDOW_INVALID_INPUT: 'SDP_ERR_WINDOW_INVALID_INPUT',
  WINDOW_SNAPSHOT_INVALID: 'SDP_ERR_WINDOW_SNAPSHOT_INVALID',
  /**
   * A page-view repartition record (`<group>-pv-repartition`) is foreign, malformed, of a version this build does not
   * read, or written for another partition count or window size than its reader's.
   */
  WINDOW_RECORD_INVALID: 'SDP_ERR_WINDOW_RECORD_INVALID',
  USAGE: 'SDP_ERR_USAGE',
  /** `query`: DuckDB refused the statement (syntax, unknown table or column, bad cast); exit 2. */
  QUERY_INVALID: 'SDP_ERR_QUERY_INVALID',
  /** `query`: the statement needs a lake table that has no files yet; exit 1. */
  QUERY_NO_DATA: 'SDP_ERR_QUERY_NO_DATA',
  /** `query`: DuckDB failed while running it (I/O, memory, internal); exit 1. */
  QUERY_FAILED: 'SDP_ERR_QUERY_FAILED',

  /** A storage root cannot be used at start: it is (or lies under) a file, its disk is full, it is not writable. */
  STORAGE_UNUSABLE: 'SDP_ERR_STORAGE_UNUSABLE',
  /** The platform failed while starting for a reason no other code names (the message says which part). */
  PLATFORM_START_FAILED: 'SDP_ERR_PLATFORM_START_FAILED',
  /** A storage root carries another kind's `.sdp-root` marker. */
  STORAGE_ROOT_KIND: 'SDP_ERR_STORAGE_ROOT_KIND',
  /** A clean command refused a root (/, home, the repository, no marker, a symlink, a `..` escape); nothing deleted. */
  STORAGE_UNSAFE_ROOT: 'SDP_ERR_STORAGE_UNSAFE_ROOT',
  /** A clean command refused because the platform runs (pid file or checkpoint store lock). */
  STORAGE_PLATFORM_RUNNING: 'SDP_ERR_STORAGE_PLATFORM_RUNNING',
  /** A clean that would lose or strand data without --force (or an unanswered y/N); nothing deleted. */
  STORAGE_CLEAN_REFUSED: 'SDP_ERR_STORAGE_CLEAN_REFUSED',
  /** config.yml asks for fewer partitions than a topic has: Kafka cannot lower them. */
  KAFKA_PARTITIONS_LOWER: 'SDP_ERR_KAFKA_PARTITIONS_LOWER',

  /** `services up`: the platform exited during its start or was not ready within services.ready_timeout. */
  SERVICES_START_FAILED: 'SDP_ERR_SERVICES_START_FAILED',
  /** `services ps`: something is not up (the table says what). */
  SERVICES_NOT_ALL_UP: 'SDP_ERR_SERVICES_NOT_ALL_UP',
  /** `services setup`: a required tool is missing; `services logs`: no such log. */
  SERVICES_MISSING: 'SDP_ERR_SERVICES_MISSING',
  /** A storage path that must never be created, marked or deleted (/, the home directory, the repository). */
  SERVICES_UNSAFE_PATH: 'SDP_ERR_SERVICES_UNSAFE_PATH',
  /** A web page's port (ui.status_port, ui.kafka_ui_port) is taken by another process. */
  UI_PORT_IN_USE: 'SDP_ERR_UI_PORT_IN_USE',
  /**
   * The ETL's consumer of a topic could not start, or failed for good (kafkajs gave up, or offsets were deleted
   * unread).
   */
  KAFKA_CONSUMER_FAILED: 'SDP_ERR_KAFKA_CONSUMER_FAILED',
  /** A checkpoint that would move a sink's offset backwards (a second writer, or a bug); nothing of it is written. */
  CHECKPOINT_BACKWARDS: 'SDP_ERR_CHECKPOINT_BACKWARDS',
  /**
   * The Kafka browser (`ui`) could not answer a request: no such group, no leader, or Kafka failed or did not answer.
   */
  KAFKA_BROWSER_FAILED: 'SDP_ERR_KAFKA_BROWSER_FAILED',
  /** A stable OffsetFetch (committed offsets and metadata of a group) failed, or found no stable answer in time. */
  KAFKA_OFFSET_FETCH_FAILED: 'SDP_ERR_KAFKA_OFFSET_FETCH_FAILED',
  /** A partition's transaction did not commit (it is aborted, at the latest by the next takeover). */
  KAFKA_TRANSACTION_FAILED: 'SDP_ERR_KAFKA_TRANSACTION_FAILED',
  /** Another holder took the partition's transactional id: this one never commits again. */
  KAFKA_TRANSACTION_FENCED: 'SDP_ERR_KAFKA_TRANSACTION_FENCED',
  /** The latest snapshot of a stage-2 window task could not be read from `<group>-pv-state` in time. */
  KAFKA_STATE_READ_FAILED: 'SDP_ERR_KAFKA_STATE_READ_FAILED',
  /**
   * A stage-2 window task gave up: its takeover or its commits kept failing (architecture.md, "Windows across
   * members"); the ETL restarts from what Kafka holds.
   */
  WINDOW_TASK_FAILED: 'SDP_ERR_WINDOW_TASK_FAILED',
  /**
   * `etl.windows: members` over a checkpoint store whose `etl.windows: process` state has open windows, in the same
   * group: their page views would be lost (etl/windowsSwitch.ts); a new etl.consumer_group switches without loss.
   */
  ETL_WINDOWS_SWITCH_REFUSED: 'SDP_ERR_ETL_WINDOWS_SWITCH_REFUSED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Process exit codes: 2 is reserved for bad configuration or usage, before anything starts. */
export const ExitCodes = { OK: 0, FAILURE: 1, CONFIG: 2 } as const;

export class SdpError extends Error {
  readonly code: ErrorCode;
  /** Extra lines that explain the error (for example every invalid config key). */
  readonly details: readonly string[];
  /**
   * Whether restarting the failed part may heal it, as kafkajs marks its errors: an ETL failure
   * is (the ETL restarts from the last checkpoint), a producer pool failure is not
   * (architecture.md, "Supervision"). Unset: not known to be.
   */
  retriable?: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    details: readonly string[] = [],
    options?: { cause?: unknown; retriable?: boolean },
  ) {
    super(message, options);
    this.name = 'SdpError';
    this.code = code;
    this.details = details;
    if (options?.retriable !== undefined) this.retriable = options.retriable;
  }
}

export function isSdpError(err: unknown, code?: ErrorCode): err is SdpError {
  return err instanceof SdpError && (code === undefined || err.code === code);
}

/** The error says a restart may heal it: `retriable: true`, on an SdpError or any error (kafkajs' too). */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/**
 * Marks an error as retriable where it leaves a part that restarts as a whole: an ETL actor's
 * failure escalates to the supervisor as this very object (nact passes it up unchanged). An
 * SdpError its thrower marked `retriable: false` stays so; any other flag (a kafkajs error's
 * speaks of one request, not of a restart) is overwritten.
 */
export function markRetriable(err: Error): Error {
  // nact hands on whatever was thrown: a primitive cannot carry the mark (and must not make onCrash throw).
  if (typeof err !== 'object' || err === null) return err;
  if (!(err instanceof SdpError && err.retriable === false)) (err as Error & { retriable?: boolean }).retriable = true;
  return err;
}
