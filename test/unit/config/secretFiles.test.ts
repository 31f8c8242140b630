import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { renderDotEnv } from '../../../src/config/dotenv.js';
import { renderConfigShow } from '../../../src/config/show.js';
import { isSdpError } from '../../../src/errors.js';

const baseText = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'sdp-secret-files-'));
const ca = join(dir, 'ca.crt');
const key = join(dir, 'client.key');
const passwordFile = join(dir, 'password');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
writeFileSync(passwordFile, 's3cret-from-file\n');

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(baseText, 'x.yml', env);
  } catch (err) {
    if (isSdpError(err)) return [...err.details];
    throw err;
  }
  return [];
}

describe('kafka.ssl and kafka.sasl files', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts ssl as true, false or PEM files, reject_unauthorized defaulting to true', () => {
    expect(parseConfig(baseText, 'x.yml', { SDP_KAFKA__SSL: 'true' }).config.kafka.ssl).toBe(true);
    // Any boolean word, as for the plain boolean keys (the Python notebook helper reads them so too).
    for (const [word, value] of [
      ['yes', true],
      ['1', true],
      ['no', false],
      ['0', false],
      ['FALSE', false],
    ] as const) {
      expect(parseConfig(baseText, 'x.yml', { SDP_KAFKA__SSL: word }).config.kafka.ssl).toBe(value);
    }
    const files = parseConfig(baseText, 'x.yml', {
      SDP_KAFKA__SSL__CA_FILE: ca,
      SDP_KAFKA__SSL__CERT_FILE: ca,
      SDP_KAFKA__SSL__KEY_FILE: key,
    }).config.kafka.ssl;
    expect(files).toEqual({ ca_file: ca, cert_file: ca, key_file: key, reject_unauthorized: true });
  });

  it('names the key of a missing, unreadable or wrong file (config error)', () => {
    expect(problems({ SDP_KAFKA__SSL__CA_FILE: join(dir, 'nope.crt') })).toEqual([
      `kafka.ssl.ca_file: cannot read ${join(dir, 'nope.crt')} (ENOENT: no such file)`,
    ]);
    expect(problems({ SDP_KAFKA__SSL__CA_FILE: key })[0]).toMatch(/^kafka\.ssl\.ca_file: .* holds no PEM certificate/);
    expect(problems({ SDP_KAFKA__SSL__CERT_FILE: ca })).toEqual([
      'kafka.ssl.key_file: expected both kafka.ssl.cert_file and kafka.ssl.key_file (mutual TLS), or neither',
    ]);
    const locked = join(dir, 'locked');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    const lockedProblems = problems({
      SDP_KAFKA__SASL__MECHANISM: 'plain',
      SDP_KAFKA__SASL__USERNAME: 'u',
      SDP_KAFKA__SASL__PASSWORD_FILE: locked,
    });
    // root reads any file: then only the missing-file case can be checked
    if (process.getuid?.() !== 0)
      expect(lockedProblems).toEqual([`kafka.sasl.password_file: cannot read ${locked} (EACCES: permission denied)`]);
    expect(
      problems({
        SDP_KAFKA__SASL__MECHANISM: 'plain',
        SDP_KAFKA__SASL__USERNAME: 'u',
        SDP_KAFKA__SASL__PASSWORD_FILE: join(dir, 'gone'),
      })[0],
    ).toMatch(/^kafka\.sasl\.password_file: cannot read .* \(ENOENT/);
  });

  it('takes the password from the file, the environment or config, never two of them', () => {
    const fromFile = parseConfig(baseText, 'x.yml', {
      SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512',
      SDP_KAFKA__SASL__USERNAME: 'u',
      SDP_KAFKA__SASL__PASSWORD_FILE: passwordFile,
    });
    expect(fromFile.config.kafka.sasl?.password).toBe('s3cret-from-file');
    expect(renderConfigShow(fromFile.effective, fromFile.overriddenBy)).not.toContain('s3cret-from-file');
    expect(problems({ SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512', SDP_KAFKA__SASL__USERNAME: 'u' })[0]).toMatch(
      /^kafka\.sasl\.password: expected a password/,
    );
    expect(
      problems({
        SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512',
        SDP_KAFKA__SASL__USERNAME: 'u',
        SDP_KAFKA__SASL__PASSWORD: 'p',
        SDP_KAFKA__SASL__PASSWORD_FILE: passwordFile,
      })[0],
    ).toMatch(/^kafka\.sasl\.password_file: expected either/);
  });

  it('never echoes a value under kafka.sasl in a validation error', () => {
    const lines = problems({ SDP_KAFKA__SASL: '"hunter2-in-the-wrong-place"' });
    expect(lines.join('\n')).not.toContain('hunter2');
    expect(lines[0]).toMatch(/^kafka\.sasl: /);
  });

  it('writes a reference to the password variable into .env, never the password', () => {
    const { config } = parseConfig(baseText, 'x.yml', {
      SDP_KAFKA__SASL__MECHANISM: 'scram-sha-512',
      SDP_KAFKA__SASL__USERNAME: 'u',
      SDP_KAFKA__SASL__PASSWORD: 'hunter2-env',
    });
    const env = renderDotEnv(config);
    expect(env).not.toContain('hunter2-env');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Docker Compose variable reference, written as is
    expect(env).toContain('KAFKA_SASL_PASSWORD=${SDP_KAFKA__SASL__PASSWORD}');
  });
});
