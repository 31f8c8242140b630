import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDotEnv } from '../../../src/config/dotenv.js';
import { parseConfig } from '../../../src/config/load.js';
import { REDACTED, renderConfigShow } from '../../../src/config/show.js';

const baseText = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');

describe('config show', () => {
  it('prints every key as a dotted path with its effective value', () => {
    const { effective, overriddenBy } = parseConfig(baseText, 'x.yml', { SDP_KAFKA__PARTITIONS: '6' });
    const text = renderConfigShow(effective, overriddenBy);
    expect(text).toContain('kafka.partitions = 6   # from SDP_KAFKA__PARTITIONS');
    expect(text).toContain('data_generator.events_per_second.clickstream = 120');
    expect(text).toContain('topics.iot = "iot"');
  });

  it('redacts secrets and never prints them', () => {
    const env = {
      SDP_KAFKA__SASL__MECHANISM: 'plain',
      SDP_KAFKA__SASL__USERNAME: 'svc',
      SDP_KAFKA__SASL__PASSWORD: 'hunter2-secret',
    };
    const { effective, overriddenBy } = parseConfig(baseText, 'x.yml', env);
    const text = renderConfigShow(effective, overriddenBy);
    expect(text).not.toContain('hunter2-secret');
    expect(text).toContain(`kafka.sasl.password = "${REDACTED}"`);
    expect(text).toContain('kafka.sasl.username = "svc"');
  });

  it('redacts ui.auth_token, and shows it as null when unset', () => {
    const set = parseConfig(baseText, 'x.yml', { SDP_UI__AUTH_TOKEN: 'a-secret-token-of-26-chars' });
    const text = renderConfigShow(set.effective, set.overriddenBy);
    expect(text).not.toContain('a-secret-token-of-26-chars');
    expect(text).toContain(`ui.auth_token = "${REDACTED}"`);
    const unset = parseConfig(baseText, 'x.yml', {});
    expect(renderConfigShow(unset.effective, unset.overriddenBy)).toContain('ui.auth_token = null');
  });
});

describe('config env', () => {
  it('writes the ports and cluster id the compose file reads', () => {
    const { config } = parseConfig(baseText, 'x.yml', { SDP_KAFKA__EXTERNAL_PORTS: '1,2,3' });
    const env = renderDotEnv(config);
    expect(env).toContain(`KAFKA_CLUSTER_ID=${config.kafka.cluster_id}`);
    expect(env).toMatch(/^KAFKA_1_PORT=1$/m);
    expect(env).toMatch(/^KAFKA_3_PORT=3$/m);
    expect(env).toMatch(/^KAFKA_UI_PORT=8080$/m);
  });
});
