import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { renderConfigShow } from '../../../src/config/show.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';

function details(text: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parseConfig(text, 'x.yml', env);
  } catch (err) {
    if (err instanceof SdpError) {
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      return err.details;
    }
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('lake.retention_days', () => {
  it('is off (null) by default and shown by config show', () => {
    const loaded = parseConfig('', 'x.yml', {});
    expect(loaded.config.lake.retention_days).toBeNull();
    expect(renderConfigShow(loaded.effective, loaded.overriddenBy, loaded.sources)).toContain(
      'lake.retention_days = null   # default',
    );
  });

  it('takes a whole number of days from the file, off, or the environment', () => {
    expect(parseConfig('lake:\n  retention_days: 30\n', 'x.yml', {}).config.lake.retention_days).toBe(30);
    expect(parseConfig('lake:\n  retention_days: off\n', 'x.yml', {}).config.lake.retention_days).toBeNull();
    expect(parseConfig('', 'x.yml', { SDP_LAKE__RETENTION_DAYS: '7' }).config.lake.retention_days).toBe(7);
    expect(parseConfig('', 'x.yml', { SDP_LAKE__RETENTION_DAYS: 'null' }).config.lake.retention_days).toBeNull();
  });

  it.each(['0', '-3', '1.5', 'soon', 'true'])('rejects %s naming the key', (value) => {
    const found = details(`lake:\n  retention_days: ${value}\n`);
    expect(found).toEqual([expect.stringMatching(/^lake\.retention_days: expected a whole number of days/)]);
  });

  it('rejects a bad environment value naming the key, and an unknown key of the section', () => {
    expect(details('', { SDP_LAKE__RETENTION_DAYS: 'a week' })).toEqual([
      expect.stringMatching(/^lake\.retention_days: /),
    ]);
    expect(details('lake:\n  retention: 3\n')).toContain('lake.retention: unknown key');
  });
});
