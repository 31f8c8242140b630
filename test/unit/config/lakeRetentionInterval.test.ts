import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';

function rejection(text: string): SdpError {
  try {
    parseConfig(text, 'x.yml', {});
  } catch (err) {
    if (err instanceof SdpError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('lake.retention_interval', () => {
  it('is 1h by default, and takes a duration from the file or the environment', () => {
    expect(parseConfig('', 'x.yml', {}).config.lake.retention_interval).toBe(3_600_000);
    expect(parseConfig('lake:\n  retention_interval: 10m\n', 'x.yml', {}).config.lake.retention_interval).toBe(600_000);
    expect(parseConfig('', 'x.yml', { SDP_LAKE__RETENTION_INTERVAL: '2s' }).config.lake.retention_interval).toBe(2_000);
  });

  it.each(['0s', 'hourly', '-1h'])('rejects %s naming the key', (value) => {
    const err = rejection(`lake:\n  retention_interval: ${value}\n`);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.details).toEqual([expect.stringMatching(/^lake\.retention_interval: expected a duration/)]);
  });
});
