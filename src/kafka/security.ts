/**
 * How clients secure their connections, built from kafka.ssl and kafka.sasl in one place: kafkajs
 * clients (client.ts) and the bare wire-protocol probes (wireProtocol.ts) both take it from here.
 * Also turns a TLS or SASL failure into a one-line error that says which (see architecture.md,
 * "Security"), instead of the generic "unreachable".
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import type { Config } from '../config/schema.js';
import { ErrorCodes, SdpError } from '../errors.js';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslCredentials {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

/** What a connection needs besides host and port: TLS options (undefined: plaintext) and SASL credentials. */
export interface ConnectionSecurity {
  tls: ConnectionOptions | undefined;
  sasl: SaslCredentials | undefined;
}

/** Node TLS options from kafka.ssl; the files were checked when config was loaded (config/secretFiles.ts). */
export function tlsOptions(ssl: Config['kafka']['ssl']): ConnectionOptions | undefined {
  if (ssl === false) return undefined;
  if (ssl === true) return { rejectUnauthorized: true };
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(resolve(file), 'utf8'));
  const ca = read(ssl.ca_file);
  const cert = read(ssl.cert_file);
  const key = read(ssl.key_file);
  return {
    rejectUnauthorized: ssl.reject_unauthorized,
    ...(ca ? { ca: [ca] } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

export function saslCredentials(sasl: Config['kafka']['sasl']): SaslCredentials | undefined {
  if (sasl === null) return undefined;
  // load.ts has read password_file into password; a Config built by hand may lack both.
  if (sasl.password === undefined)
    throw new SdpError(ErrorCodes.CONFIG_INVALID, 'kafka.sasl has no password', [
      'kafka.sasl.password: expected a password (or SDP_KAFKA__SASL__PASSWORD, or kafka.sasl.password_file)',
    ]);
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password };
}

export function connectionSecurity(config: Config): ConnectionSecurity {
  return { tls: tlsOptions(config.kafka.ssl), sasl: saslCredentials(config.kafka.sasl) };
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const WRONG_HOST = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  type?: string;
  cause?: unknown;
  originalError?: unknown;
}

/** The error and everything it wraps (kafkajs nests the socket error in retries and causes). */
function chain(err: unknown): ErrorLike[] {
  const seen: ErrorLike[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.length < 20) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.includes(e as ErrorLike)) continue;
    const like = e as ErrorLike;
    seen.push(like);
    queue.push(like.cause, like.originalError);
  }
  return seen;
}

/** A message safe to show: the password never appears, whatever a library put in it. */
export function scrubSecret(text: string, config: Config): string {
  const password = config.kafka.sasl?.password;
  return password ? text.split(password).join('[redacted]') : text;
}

/**
 * The security failure behind `err`, as an SdpError that names it (wrong password, untrusted CA,
 * expired certificate, wrong host, other TLS failure); undefined when `err` is something else.
 */
export function classifySecurityError(
  err: unknown,
  config: Config,
  where = config.kafka.bootstrap_servers.join(','),
): SdpError | undefined {
  const errors = chain(err);
  const tlsConfigured = config.kafka.ssl !== false;
  for (const e of errors) {
    const code = e.code ?? '';
    // One line: openssl's messages end in a newline and carry the source location after a colon chain.
    const reason = scrubSecret(e.message ?? code, config)
      .replace(/^Connection error: /, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (
      e.name === 'KafkaJSSASLAuthenticationError' ||
      code === 'SASL_AUTHENTICATION_FAILED' ||
      /SASL .*authentication failed|Authentication failed during authentication/i.test(e.message ?? '')
    ) {
      const sasl = config.kafka.sasl;
      return new SdpError(
        ErrorCodes.KAFKA_AUTH_FAILED,
        `Kafka at ${where} refused the SASL login of user '${sasl?.username ?? '?'}' (${sasl?.mechanism ?? '?'}): wrong username or password, or the mechanism is not enabled on the broker`,
        [
          'check kafka.sasl.username and the password (kafka.sasl.password, SDP_KAFKA__SASL__PASSWORD or kafka.sasl.password_file) and kafka.sasl.mechanism',
        ],
        { cause: err },
      );
    }
    if (
      UNTRUSTED.has(code) ||
      (tlsConfigured &&
        /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate/i.test(
          reason,
        ))
    ) {
      return new SdpError(
        ErrorCodes.KAFKA_TLS_UNTRUSTED,
        `the TLS certificate of Kafka at ${where} is not signed by a trusted CA (${reason})`,
        [
          "set kafka.ssl.ca_file to the PEM file of the CA that signed the brokers' certificates (for `kafka up --secure`: <data_dir>/tls/ca.crt)",
        ],
        { cause: err },
      );
    }
    if (EXPIRED.has(code) || /certificate has expired|certificate is not yet valid/i.test(reason)) {
      return new SdpError(
        ErrorCodes.KAFKA_TLS_EXPIRED,
        `the TLS certificate of Kafka at ${where} is expired or not yet valid (${reason})`,
        ['the broker needs a renewed certificate (or the clock of this machine is wrong)'],
        { cause: err },
      );
    }
    if (WRONG_HOST.has(code) || /Hostname\/IP does not match certificate's altnames/i.test(reason)) {
      return new SdpError(
        ErrorCodes.KAFKA_TLS_WRONG_HOST,
        `the TLS certificate of Kafka at ${where} does not name the host connected to (${reason})`,
        [
          "connect with a host name the certificate lists (kafka.bootstrap_servers and the brokers' advertised listeners), or reissue the certificate with that name",
        ],
        { cause: err },
      );
    }
    if (
      tlsConfigured &&
      (code.startsWith('ERR_SSL_') ||
        code.startsWith('ERR_TLS_') ||
        /wrong version number|SSL routines|tlsv1 alert|packet length too long/i.test(reason))
    ) {
      return new SdpError(
        ErrorCodes.KAFKA_TLS_FAILED,
        `the TLS handshake with Kafka at ${where} failed (${reason})`,
        [
          "is that port a TLS listener? check kafka.ssl against the broker's listener (SSL or SASL_SSL), and the client certificate if the broker asks for one",
        ],
        { cause: err },
      );
    }
  }
  return undefined;
}

type FailureListener = (err: Error) => void;
const failureListeners = new Set<FailureListener>();

/**
 * kafkajs retries a failed TLS handshake like any connection error, so a command would only learn
 * the reason once its retries run out. client.ts reports each connection failure kafkajs logs here;
 * withKafkaDeadline listens and stops at the first one that is a certificate problem.
 */
export function reportConnectionFailure(err: Error): void {
  for (const listener of failureListeners) listener(err);
}

export function onConnectionFailure(listener: FailureListener): () => void {
  failureListeners.add(listener);
  return () => failureListeners.delete(listener);
}
