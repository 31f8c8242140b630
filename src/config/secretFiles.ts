import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from './schema.js';

/**
 * The files named by kafka.ssl and kafka.sasl.password_file, checked when config is loaded, so a
 * missing or unreadable file is a config error (exit 2) naming its key, not a TLS failure later.
 * The password file is read here (trailing newline dropped): from then on the password lives
 * only in kafka.sasl.password, which is redacted everywhere (see SECRET_PATHS).
 */

type FileKind = 'pem-certificate' | 'pem-key' | 'text';

function readChecked(path: string, key: string, kind: FileKind, problems: string[]): string | undefined {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(
      `${key}: cannot read ${file} (${code}${code === 'ENOENT' ? ': no such file' : code === 'EACCES' ? ': permission denied' : ''})`,
    );
    return undefined;
  }
  if (kind === 'pem-certificate' && !text.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`${key}: ${file} holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)`);
    return undefined;
  }
  // The message never quotes the file: it may be a key.
  if (kind === 'pem-key' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    problems.push(`${key}: ${file} holds no PEM private key (expected a -----BEGIN ... PRIVATE KEY----- block)`);
    return undefined;
  }
  if (kind === 'text' && text.replace(/\r?\n$/, '') === '') {
    problems.push(`${key}: ${file} is empty (expected the password on its first line)`);
    return undefined;
  }
  return text;
}

/** Checks the TLS files and reads the password file into kafka.sasl.password; returns `key: problem` lines. */
export function resolveSecretFiles(config: Config): string[] {
  const problems: string[] = [];
  const { ssl, sasl } = config.kafka;
  if (typeof ssl === 'object') {
    if (ssl.ca_file !== undefined) readChecked(ssl.ca_file, 'kafka.ssl.ca_file', 'pem-certificate', problems);
    if (ssl.cert_file !== undefined) readChecked(ssl.cert_file, 'kafka.ssl.cert_file', 'pem-certificate', problems);
    if (ssl.key_file !== undefined) readChecked(ssl.key_file, 'kafka.ssl.key_file', 'pem-key', problems);
  }
  if (sasl !== null && sasl.password_file !== undefined) {
    const text = readChecked(sasl.password_file, 'kafka.sasl.password_file', 'text', problems);
    if (text !== undefined) sasl.password = text.split(/\r?\n/)[0] ?? '';
  }
  return problems;
}
