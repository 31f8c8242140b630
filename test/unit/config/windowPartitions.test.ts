import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { renderConfigShow } from '../../../src/config/show.js';
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

describe('etl.window_partitions (R of the window stages)', () => {
  it('is auto by default and shown by config show', () => {
    const loaded = parseConfig('', 'x.yml', {});
    expect(loaded.config.etl.window_partitions).toBe('auto');
    expect(renderConfigShow(loaded.effective, loaded.overriddenBy, loaded.sources)).toContain(
      'etl.window_partitions = "auto"   # default',
    );
  });

  it('takes a whole number from the file or the environment', () => {
    expect(parseConfig('etl:\n  window_partitions: 6\n', 'x.yml', {}).config.etl.window_partitions).toBe(6);
    expect(parseConfig('', 'x.yml', { SDP_ETL__WINDOW_PARTITIONS: '3' }).config.etl.window_partitions).toBe(3);
    expect(parseConfig('', 'x.yml', { SDP_ETL__WINDOW_PARTITIONS: 'auto' }).config.etl.window_partitions).toBe('auto');
  });

  it.each(['0', '-2', '1.5', 'many', 'true', 'null'])(
    'rejects %s naming the key (SDP_ERR_CONFIG_INVALID: the CLI exits 2)',
    (value) => {
      const err = rejection(`etl:\n  window_partitions: ${value}\n`);
      expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
      expect(err.details).toEqual([
        expect.stringMatching(/^etl\.window_partitions: expected auto or a whole number of partitions, 1 or more/),
      ]);
    },
  );

  it('names the variable of a bad environment value', () => {
    expect(rejection('', { SDP_ETL__WINDOW_PARTITIONS: '0' }).details).toEqual([
      expect.stringMatching(/^etl\.window_partitions: .*SDP_ETL__WINDOW_PARTITIONS/),
    ]);
  });
});
