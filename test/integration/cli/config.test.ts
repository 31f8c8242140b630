import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/projectRoot.js';
import { runCli } from '../helpers/runCli.js';

const baseConfig = readFileSync(join(PROJECT_ROOT, 'config.yml'), 'utf8');

function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'sdp-cli-config-')), 'config.yml');
  writeFileSync(file, text);
  return file;
}

describe('the CLI and its configuration', () => {
  it('lists every command with one line each in --help', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['run', 'generate', 'etl', 'topics', 'kafka', 'config']) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b.*\\S`, 'm'));
    }
  });

  it('prints the effective config as dotted keys and applies SDP_ overrides', async () => {
    const plain = await runCli(['config', 'show']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^kafka\.partitions = 4 {3}# file$/m);
    const overridden = await runCli(['config', 'show'], { SDP_KAFKA__PARTITIONS: '6' });
    expect(overridden.code).toBe(0);
    expect(overridden.stdout).toMatch(/^kafka\.partitions = 6 {3}# from SDP_KAFKA__PARTITIONS$/m);
  });

  it("reads a file holding only what differs, and the original platform's config.yml with a warning per renamed key", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-config-'));
    try {
      const small = join(dir, 'small.yml');
      writeFileSync(small, 'kafka:\n  partitions: 6\n');
      const shown = await runCli(['--config', small, 'config', 'show']);
      expect(shown.stderr).toBe('');
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/^kafka\.partitions = 6 {3}# file$/m);
      expect(shown.stdout).toMatch(/^etl\.encoder_heap = "64MB" {3}# default$/m);
      // A reconstruction of the original platform's file (see its header).
      const original = fileURLToPath(
        new URL('../../unit/config/fixtures/original-platform-config.yml', import.meta.url),
      );
      const old = await runCli(['--config', original, 'config', 'show']);
      expect(old.code).toBe(0);
      expect(old.stderr).toMatch(/^warning: kafka\.kraft_cluster_id is now kafka\.cluster_id/m);
      expect(old.stderr).toMatch(/^warning: spark: not used here/m);
      expect(old.stdout).toMatch(
        /^kafka\.bootstrap_servers = \["127\.0\.0\.1:19092","127\.0\.0\.1:29092","127\.0\.0\.1:39092"\] {3}# file$/m,
      );
      const unknown = join(dir, 'unknown.yml');
      writeFileSync(unknown, 'kafka:\n  partitons: 6\n');
      const bad = await runCli(['--config', unknown, 'config', 'show']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/kafka\.partitons: unknown key/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 naming both paths for a negative count and an unknown key, and starts nothing', async () => {
    const file = writeConfig(baseConfig.replace('  partitions: 4', '  partitions: -1\n  partitionz: 4'));
    const result = await runCli(['--config', file, 'etl']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SDP_ERR_CONFIG_INVALID');
    expect(result.stderr).toMatch(/kafka\.partitions: .*-1/);
    expect(result.stderr).toContain('kafka.partitionz: unknown key');
    expect(result.stdout).not.toContain('etl started');
  });

  it('exits 2 for malformed YAML and for a missing file', async () => {
    const malformed = await runCli(['--config', writeConfig('kafka: [1, 2\n'), 'config', 'show']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('SDP_ERR_CONFIG_YAML');
    const missing = await runCli(['--config', '/nonexistent/config.yml', 'config', 'show']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('SDP_ERR_CONFIG_NOT_FOUND');
  });

  it('exits 2 for an environment override of the wrong type, naming the variable', async () => {
    const result = await runCli(['config', 'show'], { SDP_DATA_GENERATOR__BATCH_SIZE: 'many' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'data_generator.batch_size: expected number (got "many") (from environment variable SDP_DATA_GENERATOR__BATCH_SIZE)',
    );
    // data_generator.threads takes auto or a number: its own message, still naming the variable.
    const threads = await runCli(['config', 'show'], { SDP_DATA_GENERATOR__THREADS: 'many' });
    expect(threads.code).toBe(2);
    expect(threads.stderr).toContain(
      'data_generator.threads: expected auto or a whole number of threads from 1 to 64, got "many" (from environment variable SDP_DATA_GENERATOR__THREADS)',
    );
  });

  it('never prints a secret', async () => {
    const result = await runCli(['config', 'show'], {
      SDP_KAFKA__SASL__MECHANISM: 'plain',
      SDP_KAFKA__SASL__USERNAME: 'svc',
      SDP_KAFKA__SASL__PASSWORD: 'do-not-print-me',
    });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('do-not-print-me');
    expect(result.stdout).toContain('kafka.sasl.password = "[redacted]"');
  });

  it('writes .env for the compose file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-cli-env-'));
    const result = await runCli(['config', 'env', '--output', join(dir, '.env')]);
    expect(result.code).toBe(0);
    const env = readFileSync(join(dir, '.env'), 'utf8');
    expect(env).toMatch(/^KAFKA_1_PORT=19092$/m);
    expect(env).toMatch(/^KAFKA_CLUSTER_ID=[A-Za-z0-9_-]{22}$/m);
  });
});
