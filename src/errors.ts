/**
 * Stable error codes (`SDP_ERR_<AREA>_<WHAT>`), as fastify does: tests and operators match on the
 * code, never on the message text.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'SDP_ERR_CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'SDP_ERR_CONFIG_NOT_FOUND',
  CONFIG_YAML: 'SDP_ERR_CONFIG_YAML',
  KAFKA_UNREACHABLE: 'SDP_ERR_KAFKA_UNREACHABLE',
  KAFKA_RF_TOO_HIGH: 'SDP_ERR_KAFKA_RF_TOO_HIGH',
  KAFKA_TOPIC_MISMATCH: 'SDP_ERR_KAFKA_TOPIC_MISMATCH',
  KAFKA_ADMIN_FAILED: 'SDP_ERR_KAFKA_ADMIN_FAILED',
  KAFKA_TOPIC_MISSING: 'SDP_ERR_KAFKA_TOPIC_MISSING',
  /** A kafkajs internal this project corrects (kafkajsConsumerFixes.ts) is not as expected: another version, or loaded too early. */
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
  LAKE_WRITE_FAILED: 'SDP_ERR_LAKE_WRITE_FAILED',
  LAKE_FILE_MISSING: 'SDP_ERR_LAKE_FILE_MISSING',
  WORKER_FILE_MISSING: 'SDP_ERR_WORKER_FILE_MISSING',
  SHUTDOWN_TIMEOUT: 'SDP_ERR_SHUTDOWN_TIMEOUT',
  WINDOW_INVALID_INPUT: 'SDP_ERR_WINDOW_INVALID_INPUT',
  WINDOW_SNAPSHOT_INVALID: 'SDP_ERR_WINDOW_SNAPSHOT_INVALID',
  USAGE: 'SDP_ERR_USAGE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Process exit codes: 2 is reserved for bad configuration or usage, before anything starts. */
export const ExitCodes = { OK: 0, FAILURE: 1, CONFIG: 2 } as const;

export class SdpError extends Error {
  readonly code: ErrorCode;
  /** Extra lines that explain the error (for example every invalid config key). */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, details: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SdpError';
    this.code = code;
    this.details = details;
  }
}

export function isSdpError(err: unknown, code?: ErrorCode): err is SdpError {
  return err instanceof SdpError && (code === undefined || err.code === code);
}
