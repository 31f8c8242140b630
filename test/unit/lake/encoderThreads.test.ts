import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { isSdpError } from '../../../src/errors.js';
import { resolveEncoderThreads } from '../../../src/lake/encoderThreads.js';

describe('resolveEncoderThreads', () => {
  it('auto: one fewer than the cores, at most 4, none on one core', () => {
    expect([1, 2, 3, 4, 8, 64].map((cpus) => resolveEncoderThreads('auto', cpus))).toEqual([0, 1, 2, 3, 4, 4]);
  });

  it('a number is taken as it is, 0 included', () => {
    expect(resolveEncoderThreads(0, 8)).toBe(0);
    expect(resolveEncoderThreads(3, 2)).toBe(3);
  });

  it('etl.encoder_threads takes auto or a count, from the file or the environment; anything else names the key', () => {
    expect(parseConfig('etl:\n  encoder_threads: auto\n', 'x.yml', {}).config.etl.encoder_threads).toBe('auto');
    expect(
      parseConfig('etl:\n  encoder_threads: auto\n', 'x.yml', { SDP_ETL__ENCODER_THREADS: '2' }).config.etl
        .encoder_threads,
    ).toBe(2);
    let err: unknown;
    try {
      parseConfig('etl:\n  encoder_threads: many\n', 'x.yml', {});
    } catch (e) {
      err = e;
    }
    expect(isSdpError(err)).toBe(true);
    expect(String((err as { details?: string[] }).details)).toContain('etl.encoder_threads');
  });
});
