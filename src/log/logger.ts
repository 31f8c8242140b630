import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import type PinoPretty from 'pino-pretty';
import { RotatingLogFile } from './rotatingLog.js';

export type { Logger };

export interface LoggerSettings {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go; commands that print results to stdout log to stderr (fd 2). */
  fd?: 1 | 2;
  /** JSON lines into a size-capped file instead of fd (the background platform of `services up`). */
  file?: { path: string; maxBytes: number; keep: number };
}

const require = createRequire(import.meta.url);

/**
 * pino-pretty, loaded only by a logger that prints pretty lines: the JSON loggers of the producer threads and
 * of a background platform never pay for its loading (architecture.md, "Data flow").
 */
const pretty = (options: PinoPretty.PrettyOptions): PinoPretty.PrettyStream =>
  (require('pino-pretty') as typeof PinoPretty)(options);

const base: LoggerOptions = {
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  // Stable field names: `component` names the part that logs, `err` carries errors.
  serializers: { err: pino.stdSerializers.err },
  // Secrets never reach a log line at any level, whoever logs an object that holds them
  // (a config, kafkajs/TLS options, SASL credentials).
  redact: {
    paths: [
      'password',
      '*.password',
      '*.*.password',
      'kafka.sasl.password',
      '*.kafka.sasl.password',
      'sasl.password',
      '*.sasl.password',
      'ssl.key',
      '*.ssl.key',
      'passphrase',
      '*.passphrase',
      'token',
      '*.token',
    ],
    censor: '[redacted]',
  },
};

/** JSON lines by default, pretty lines when the output is a terminal (or format: pretty). */
export function createLogger(settings: LoggerSettings): Logger {
  if (settings.file) {
    const { path, maxBytes, keep } = settings.file;
    return pino({ ...base, level: settings.level }, new RotatingLogFile(path, maxBytes, keep));
  }
  const fd = settings.fd ?? 1;
  const isTty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const usePretty = settings.format === 'pretty' || (settings.format === 'auto' && isTty === true);
  if (usePretty) {
    return pino({ ...base, level: settings.level }, pretty({ destination: fd, sync: true, colorize: isTty === true }));
  }
  return pino({ ...base, level: settings.level }, pino.destination({ dest: fd, sync: true }));
}

/** A logger for the moments before config is loaded, and for tests. */
export function createBootstrapLogger(fd: 1 | 2 = 2): Logger {
  return createLogger({ level: process.env.SDP_LOG__LEVEL ?? 'info', format: 'auto', fd });
}
