import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';

function rejection(text: string, env: NodeJS.ProcessEnv = {}): SdpError {
  try {
    parseConfig(text, 'x.yml', env);
  } catch (err) {
    if (err instanceof SdpError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('lake.seal_after', () => {
  it('is 1h by default, and takes a duration from the file or the environment', () => {
    expect(parseConfig('', 'x.yml', {}).config.lake.seal_after).toBe(3_600_000);
    expect(parseConfig('lake:\n  seal_after: 10m\n', 'x.yml', {}).config.lake.seal_after).toBe(600_000);
    expect(parseConfig('', 'x.yml', { SDP_LAKE__SEAL_AFTER: '0s' }).config.lake.seal_after).toBe(0);
  });

  it.each(['soon', '-1h', 'true'])('rejects %s naming the key (SDP_ERR_CONFIG_INVALID: the CLI exits 2)', (value) => {
    const err = rejection(`lake:\n  seal_after: ${value}\n`);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.details).toEqual([expect.stringMatching(/^lake\.seal_after: expected a /)]);
  });
});
