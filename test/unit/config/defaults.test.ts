import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, mergeOverDefaults } from '../../../src/config/defaults.js';
import { parseConfig } from '../../../src/config/load.js';
import { renderConfigShow } from '../../../src/config/show.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';

const projectText = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');

function rejection(text: string): SdpError {
  try {
    parseConfig(text, 'x.yml', {});
  } catch (err) {
    if (err instanceof SdpError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('config defaults', () => {
  it('are the values the project config.yml carries, key for key', () => {
    expect(parseDocument(projectText).toJS()).toEqual(DEFAULT_CONFIG);
  });

  it('make an empty file, or one holding only what differs, a whole valid config', () => {
    const empty = parseConfig('', 'x.yml', {});
    expect(empty.config.kafka.partitions).toBe(4);
    expect(Object.values(empty.sources).every((s) => s === 'default')).toBe(true);
    const small = parseConfig('kafka:\n  partitions: 6\netl:\n  watermark_delay: 5s\n', 'x.yml', {});
    expect(small.config.kafka.partitions).toBe(6);
    expect(small.config.kafka.replication_factor).toBe(2);
    expect(small.config.etl.watermark_delay).toBe(5_000);
    expect(small.config.etl.encoder_heap).toBe(64 * 1024 * 1024);
  });

  it('config show names the source of every value: default, file or the environment variable', () => {
    const loaded = parseConfig('kafka:\n  partitions: 6\n', 'x.yml', { SDP_ETL__IDLE_TIMEOUT: '5s' });
    const text = renderConfigShow(loaded.effective, loaded.overriddenBy, loaded.sources);
    expect(text).toContain('kafka.partitions = 6   # file');
    expect(text).toContain('kafka.replication_factor = 2   # default');
    expect(text).toContain('etl.idle_timeout = "5s"   # from SDP_ETL__IDLE_TIMEOUT');
    expect(text.split('\n').every((line) => / {3}# (default|file|from SDP_\w+)$/.test(line))).toBe(true);
  });

  it('still reject an unknown key, naming it (exit 2)', () => {
    const err = rejection('kafka:\n  partitons: 6\n');
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.details).toEqual(['kafka.partitons: unknown key']);
  });

  it('merge objects key by key; a list, a scalar or null in the file replaces the default', () => {
    expect(mergeOverDefaults({ a: { b: 1, c: [1, 2] }, d: { e: 1 } }, { a: { c: [3] }, d: null })).toEqual({
      a: { b: 1, c: [3] },
      d: null,
    });
  });
});
