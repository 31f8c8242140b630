/**
 * The one place that builds kafkajs clients. Everything Kafka lives behind src/kafka/ so that
 * the client library can change without touching actors.
 */
// Before kafkajs loads: see patches/consumerFixes.ts.
import './patches/consumerFixes.js';
import kafkajs, { type KafkaConfig, type Kafka as KafkaClient, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { registerLz4Codec } from './lz4Codec.js';
import { installBrokerPoolFailover } from './patches/brokerPoolFailover.js';
import { reportConnectionFailure, saslCredentials, tlsOptions } from './security.js';

const { Kafka, logLevel } = kafkajs;
export type { KafkaClient };

function kafkajsLogCreator(logger: Logger, password: string | undefined) {
  const child = logger.child({ component: 'kafkajs' });
  // Whatever kafkajs puts in a line, the password never leaves this process in a log.
  const scrub = (text: string): string => (password ? text.split(password).join('[redacted]') : text);
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message: rawMessage, timestamp: _ts, logger: _lg, ...extra } = log;
      const message = scrub(rawMessage);
      const fields = { namespace, ...extra };
      if (
        namespace === 'Connection' &&
        level === logLevel.ERROR &&
        /^(Connection error|Failed to connect)/.test(message)
      )
        reportConnectionFailure(new Error(message));
      // kafkajs logs every error *response* at ERROR before its retrier handles it; what matters
      // is whether the operation fails in the end, which the caller logs. Keep those at debug.
      if (namespace === 'Connection' && message.startsWith('Response ')) child.debug(fields, message);
      // Our transactional producers bound retries on purpose: a failed transaction is aborted and
      // sent again as a new one, which keeps exactly-once (see transactionalProducer.ts).
      else if (message.startsWith('Limiting retries for the idempotent producer')) child.debug(fields, message);
      // CONCURRENT_TRANSACTIONS right after a commit (markers still being written): retried within ms.
      else if (message.includes('another concurrent operation on the same transaction')) child.debug(fields, message);
      else if (level === logLevel.ERROR) child.error(fields, message);
      else if (level === logLevel.WARN) child.warn(fields, message);
      else if (level === logLevel.INFO) child.info(fields, message);
      else child.debug(fields, message);
    };
}

export interface KafkaClientOptions {
  /** Overrides kafka.client_id, e.g. to tell producer threads apart. */
  clientId?: string;
  /** kafkajs's own log lines at and above this level (default WARN; they are chatty). */
  level?: 'error' | 'warn' | 'info' | 'debug';
  /** Retries of a failed request before it is reported (kafkajs default: 5). */
  retries?: number;
}

const LEVELS = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG } as const;

export function kafkaClientConfig(config: Config, logger: Logger, options: KafkaClientOptions = {}): KafkaConfig {
  const { kafka } = config;
  // The one place every kafkajs client gets its TLS and SASL settings (see security.ts).
  const sasl = saslCredentials(kafka.sasl) as SASLOptions | undefined;
  const ssl = tlsOptions(kafka.ssl);
  return {
    clientId: options.clientId ?? kafka.client_id,
    brokers: kafka.bootstrap_servers,
    connectionTimeout: kafka.connection_timeout,
    requestTimeout: kafka.request_timeout,
    ...(ssl ? { ssl } : {}),
    ...(sasl ? { sasl } : {}),
    logLevel: LEVELS[options.level ?? 'warn'],
    logCreator: kafkajsLogCreator(logger, kafka.sasl?.password),
    retry: { retries: options.retries ?? 5, initialRetryTime: 300, maxRetryTime: 5_000 },
  };
}

export function createKafkaClient(config: Config, logger: Logger, options: KafkaClientOptions = {}): KafkaClient {
  registerLz4Codec();
  installBrokerPoolFailover();
  return new Kafka(kafkaClientConfig(config, logger, options));
}
