/**
 * The security material of a `kafka up --secure` cluster, generated once with openssl under
 * `<kafka.local.data_dir>/tls/` (mode 0700): a private CA, one broker certificate signed by it
 * for 127.0.0.1 and localhost (every local node listens on 127.0.0.1), a PKCS#12 keystore for the
 * brokers, and random passwords for the SCRAM users created when storage is formatted. No
 * password is ever printed: clients read client.password (kafka.sasl.password_file).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SdpError } from '../errors.js';
import type { ConnectionSecurity } from '../kafka/security.js';

/** The SCRAM user clients log in as, and the one brokers use between themselves. */
export const LOCAL_CLIENT_USER = 'sdp';
export const LOCAL_BROKER_USER = 'sdp-broker';
/** The SASL/PLAIN user: PLAIN keeps its passwords in the broker's file, so not the SCRAM user's password. */
export const LOCAL_PLAIN_USER = 'sdp-plain';
export const LOCAL_SASL_MECHANISM = 'scram-sha-512';

export interface LocalTls {
  dir: string;
  caCertFile: string;
  /** PKCS#12 keystore holding the broker key and certificate chain. */
  keystoreFile: string;
  clientPasswordFile: string;
  /** The client certificate (signed by the CA) and its key, for the mutual-TLS listener. */
  clientCertFile: string;
  clientKeyFile: string;
  /** The SASL/PLAIN user's password file and password. */
  plainPasswordFile: string;
  plainPassword: string;
  keystorePassword: string;
  brokerPassword: string;
  clientPassword: string;
}

function files(dataDir: string) {
  const dir = join(dataDir, 'tls');
  return {
    dir,
    caKey: join(dir, 'ca.key'),
    caCert: join(dir, 'ca.crt'),
    brokerKey: join(dir, 'broker.key'),
    brokerCsr: join(dir, 'broker.csr'),
    brokerCert: join(dir, 'broker.crt'),
    brokerExt: join(dir, 'broker.ext'),
    keystore: join(dir, 'broker.p12'),
    keystorePassword: join(dir, 'keystore.password'),
    brokerPassword: join(dir, 'broker.password'),
    clientPassword: join(dir, 'client.password'),
    plainPassword: join(dir, 'plain.password'),
    clientKey: join(dir, 'client.key'),
    clientCsr: join(dir, 'client.csr'),
    clientCert: join(dir, 'client.crt'),
    clientExt: join(dir, 'client.ext'),
  };
}

function openssl(args: readonly string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8', timeout: 60_000 });
  if (result.error || result.status !== 0) {
    const reason = result.error
      ? result.error.message
      : (result.stderr || result.stdout).trim().split('\n').slice(-5).join(' / ');
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_START,
      `generating the local cluster's certificates failed: openssl ${args[0] ?? ''} (${reason})`,
      ['the secured local cluster needs the openssl command (apt-get install openssl)'],
    );
  }
}

function writeSecret(file: string, value: string): void {
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function readSecret(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** Whether this data dir holds the material of a secured cluster. */
export function hasLocalTls(dataDir: string): boolean {
  const f = files(dataDir);
  return (
    existsSync(f.keystore) &&
    existsSync(f.caCert) &&
    existsSync(f.clientPassword) &&
    existsSync(f.brokerPassword) &&
    existsSync(f.keystorePassword)
  );
}

/** The material of this data dir, generated on first use (idempotent: kept across restarts). */
export function ensureLocalTls(dataDir: string): LocalTls {
  const f = files(dataDir);
  if (!hasLocalTls(dataDir)) {
    mkdirSync(f.dir, { recursive: true, mode: 0o700 });
    chmodSync(f.dir, 0o700);
    // Hex: no character that needs quoting in server.properties, JAAS or --add-scram.
    writeSecret(f.keystorePassword, randomBytes(16).toString('hex'));
    writeSecret(f.brokerPassword, randomBytes(16).toString('hex'));
    writeSecret(f.clientPassword, randomBytes(16).toString('hex'));
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f.caKey,
      '-out',
      f.caCert,
      '-days',
      '3650',
      '-subj',
      '/CN=sdp-local-ca',
    ]);
    openssl([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      f.brokerKey,
      '-out',
      f.brokerCsr,
      '-subj',
      '/CN=localhost',
    ]);
    writeFileSync(f.brokerExt, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
    openssl([
      'x509',
      '-req',
      '-in',
      f.brokerCsr,
      '-CA',
      f.caCert,
      '-CAkey',
      f.caKey,
      '-CAcreateserial',
      '-out',
      f.brokerCert,
      '-days',
      '825',
      '-sha256',
      '-extfile',
      f.brokerExt,
    ]);
    openssl([
      'pkcs12',
      '-export',
      '-in',
      f.brokerCert,
      '-inkey',
      f.brokerKey,
      '-certfile',
      f.caCert,
      '-name',
      'broker',
      '-out',
      f.keystore,
      '-passout',
      `file:${f.keystorePassword}`,
    ]);
    for (const key of [f.caKey, f.brokerKey, f.keystore]) chmodSync(key, 0o600);
  }
  // Also for a data dir secured before the mutual-TLS and PLAIN listeners existed.
  if (!existsSync(f.plainPassword)) writeSecret(f.plainPassword, randomBytes(16).toString('hex'));
  if (!existsSync(f.clientCert) || !existsSync(f.clientKey)) {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f.clientKey, '-out', f.clientCsr, '-subj', '/CN=sdp']);
    writeFileSync(f.clientExt, 'extendedKeyUsage=clientAuth\n');
    openssl([
      'x509',
      '-req',
      '-in',
      f.clientCsr,
      '-CA',
      f.caCert,
      '-CAkey',
      f.caKey,
      '-CAcreateserial',
      '-out',
      f.clientCert,
      '-days',
      '825',
      '-sha256',
      '-extfile',
      f.clientExt,
    ]);
    chmodSync(f.clientKey, 0o600);
  }
  return {
    dir: f.dir,
    caCertFile: f.caCert,
    keystoreFile: f.keystore,
    clientPasswordFile: f.clientPassword,
    clientCertFile: f.clientCert,
    clientKeyFile: f.clientKey,
    plainPasswordFile: f.plainPassword,
    plainPassword: readSecret(f.plainPassword),
    keystorePassword: readSecret(f.keystorePassword),
    brokerPassword: readSecret(f.brokerPassword),
    clientPassword: readSecret(f.clientPassword),
  };
}

/** How the local cluster's own probes (readiness, status) connect to a secured cluster. */
export function localProbeSecurity(tls: LocalTls): ConnectionSecurity {
  return {
    tls: { ca: [readFileSync(tls.caCertFile, 'utf8')], rejectUnauthorized: true },
    sasl: { mechanism: LOCAL_SASL_MECHANISM, username: LOCAL_CLIENT_USER, password: tls.clientPassword },
  };
}

/** The client settings to put in config.yml (the password stays in its file). */
export function localClientSettings(tls: LocalTls): string[] {
  return [
    `  ssl: { ca_file: ${tls.caCertFile} }`,
    `  sasl: { mechanism: ${LOCAL_SASL_MECHANISM}, username: ${LOCAL_CLIENT_USER}, password_file: ${tls.clientPasswordFile} }`,
  ];
}

/** The settings for the mutual-TLS listener (client port + 2): a client certificate, no SASL. */
export function localMtlsSettings(tls: LocalTls): string[] {
  return [
    `  ssl: { ca_file: ${tls.caCertFile}, cert_file: ${tls.clientCertFile}, key_file: ${tls.clientKeyFile} }`,
    '  sasl: null',
  ];
}

/** The settings for the SASL/PLAIN listener (client port + 3, over TLS). */
export function localPlainSettings(tls: LocalTls): string[] {
  return [
    `  ssl: { ca_file: ${tls.caCertFile} }`,
    `  sasl: { mechanism: plain, username: ${LOCAL_PLAIN_USER}, password_file: ${tls.plainPasswordFile} }`,
  ];
}
