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

describe('lake.compaction and lake.compaction_interval', () => {
  it('are on every 10 minutes by default, shown by config show', () => {
    const loaded = parseConfig('', 'x.yml', {});
    expect(loaded.config.lake.compaction).toBe(true);
    expect(loaded.config.lake.compaction_interval).toBe(600_000);
    const shown = renderConfigShow(loaded.effective, loaded.overriddenBy, loaded.sources);
    expect(shown).toContain('lake.compaction = true   # default');
    expect(shown).toContain('lake.compaction_interval = "10m"   # default');
  });

  it('take values from the file and the environment', () => {
    const file = parseConfig('lake:\n  compaction: false\n  compaction_interval: 30s\n', 'x.yml', {}).config.lake;
    expect([file.compaction, file.compaction_interval]).toEqual([false, 30_000]);
    const env = parseConfig('', 'x.yml', { SDP_LAKE__COMPACTION: 'no', SDP_LAKE__COMPACTION_INTERVAL: '2s' }).config
      .lake;
    expect([env.compaction, env.compaction_interval]).toEqual([false, 2_000]);
  });

  it.each(['soon', '0s', '-1m'])('rejects the interval %s naming the key', (value) => {
    expect(details(`lake:\n  compaction_interval: ${value}\n`)).toEqual([
      expect.stringMatching(/^lake\.compaction_interval: expected a duration/),
    ]);
  });

  it('rejects a switch that is not a boolean, from the file or the environment, naming the key', () => {
    expect(details('lake:\n  compaction: sometimes\n')).toEqual([expect.stringMatching(/^lake\.compaction: /)]);
    expect(details('', { SDP_LAKE__COMPACTION: 'maybe' })).toEqual([expect.stringMatching(/^lake\.compaction: /)]);
  });
});
