import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes } from '../../../src/errors.js';
import { classifySecurityError, scrubSecret, tlsOptions } from '../../../src/kafka/security.js';

const baseText = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');
const secured = parseConfig(baseText, 'x.yml', {
  SDP_KAFKA__SSL: 'true',
  SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512',
  SDP_KAFKA__SASL__USERNAME: 'svc',
  SDP_KAFKA__SASL__PASSWORD: 'p4ss-w0rd',
}).config;

/** kafkajs's shapes: a connection error carrying the socket's code, wrapped by the retrier. */
function kafkajsRetriesExceeded(message: string, code?: string): Error {
  const connection = Object.assign(new Error(`Connection error: ${message}`), { name: 'KafkaJSConnectionError', code });
  return Object.assign(new Error(connection.message), {
    name: 'KafkaJSNumberOfRetriesExceeded',
    cause: connection,
    originalError: connection,
  });
}

describe('classifySecurityError', () => {
  it('names a refused SASL login, never quoting the password', () => {
    const err = Object.assign(
      new Error(
        'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
      ),
      { name: 'KafkaJSSASLAuthenticationError' },
    );
    const classified = classifySecurityError(err, secured);
    expect(classified?.code).toBe(ErrorCodes.KAFKA_AUTH_FAILED);
    expect(classified?.message).toContain("user 'svc' (scram-sha-512)");
    expect(classified?.message).not.toContain('p4ss-w0rd');
  });

  it('tells an untrusted CA, an expired certificate and a wrong host apart, through kafkajs wrappers', () => {
    expect(
      classifySecurityError(
        kafkajsRetriesExceeded('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
        secured,
      )?.code,
    ).toBe(ErrorCodes.KAFKA_TLS_UNTRUSTED);
    expect(classifySecurityError(kafkajsRetriesExceeded('unable to verify the first certificate'), secured)?.code).toBe(
      ErrorCodes.KAFKA_TLS_UNTRUSTED,
    );
    expect(
      classifySecurityError(kafkajsRetriesExceeded('certificate has expired', 'CERT_HAS_EXPIRED'), secured)?.code,
    ).toBe(ErrorCodes.KAFKA_TLS_EXPIRED);
    expect(
      classifySecurityError(
        kafkajsRetriesExceeded(
          "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
          'ERR_TLS_CERT_ALTNAME_INVALID',
        ),
        secured,
      )?.code,
    ).toBe(ErrorCodes.KAFKA_TLS_WRONG_HOST);
    // The message form kafkajs logs, without a code.
    expect(classifySecurityError(new Error('Connection error: certificate has expired'), secured)?.code).toBe(
      ErrorCodes.KAFKA_TLS_EXPIRED,
    );
  });

  it('leaves other failures alone', () => {
    expect(
      classifySecurityError(kafkajsRetriesExceeded('connect ECONNREFUSED 127.0.0.1:19092', 'ECONNREFUSED'), secured),
    ).toBeUndefined();
    expect(classifySecurityError(new Error('Connection timeout'), secured)).toBeUndefined();
  });

  it('scrubs the password from any text', () => {
    expect(scrubSecret('login p4ss-w0rd failed (p4ss-w0rd)', secured)).toBe('login [redacted] failed ([redacted])');
  });
});

describe('tlsOptions', () => {
  it('maps false, true and reject_unauthorized onto Node TLS options', () => {
    expect(tlsOptions(false)).toBeUndefined();
    expect(tlsOptions(true)).toEqual({ rejectUnauthorized: true });
    expect(tlsOptions({ reject_unauthorized: false })).toEqual({ rejectUnauthorized: false });
  });
});
