import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log/logger.js';
import type { ClusterBrowser } from '../../../src/kafka/browser/clusterBrowser.js';
import { kafkaBrowserHandler, parseMessageQuery, startKafkaBrowser } from '../../../src/ui/kafkaBrowserServer.js';

const q = (s: string) => parseMessageQuery(new URLSearchParams(s));

describe('parseMessageQuery', () => {
  it('reads the last N by default', () => {
    expect(q('topic=t')).toEqual({ topic: 't', partition: 0, from: 'last', limit: 20 });
    expect(q('topic=t&partition=3&limit=5&from=last')).toEqual({ topic: 't', partition: 3, from: 'last', limit: 5 });
  });

  it('reads from an offset (as a bigint) or a timestamp (ms or ISO)', () => {
    expect(q('topic=t&from=offset&offset=9007199254740993')).toMatchObject({
      from: 'offset',
      offset: 9007199254740993n,
    });
    expect(q('topic=t&from=timestamp&timestamp=1700000000000')).toMatchObject({
      from: 'timestamp',
      timestampMs: 1700000000000,
    });
    expect(q('topic=t&from=timestamp&timestamp=2026-12-01T00:00:00Z')).toMatchObject({
      from: 'timestamp',
      timestampMs: Date.parse('2026-12-01T00:00:00Z'),
    });
  });

  it('names what is wrong', () => {
    expect(q('')).toBe('topic is required');
    expect(q('topic=t&partition=-1')).toMatch(/partition/);
    expect(q('topic=t&limit=0')).toMatch(/limit/);
    expect(q('topic=t&from=offset&offset=abc')).toMatch(/offset/);
    expect(q('topic=t&from=timestamp&timestamp=yesterday')).toMatch(/timestamp/);
    expect(q('topic=t&from=middle')).toMatch(/from must be/);
  });
});

describe('startKafkaBrowser and ui.kafka_ui', () => {
  const yml = readFileSync(join(__dirname, '../../../config.yml'), 'utf8');
  const logger = createLogger({ level: 'silent', format: 'json' });

  async function withTakenPort(f: (port: number) => Promise<void>): Promise<void> {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      await f((blocker.address() as AddressInfo).port);
    } finally {
      blocker.close();
    }
  }

  it('auto: a taken port (the Docker Kafka UI) leaves ours off, without an error', async () => {
    await withTakenPort(async (port) => {
      const { config } = parseConfig(yml, 'config.yml', {
        SDP_UI__KAFKA_UI_PORT: String(port),
        SDP_UI__KAFKA_UI: 'auto',
      });
      expect(await startKafkaBrowser(config, logger)).toBeUndefined();
    });
  });

  it('on: a taken port is the one-line error naming ui.kafka_ui_port', async () => {
    await withTakenPort(async (port) => {
      const { config } = parseConfig(yml, 'config.yml', {
        SDP_UI__KAFKA_UI_PORT: String(port),
        SDP_UI__KAFKA_UI: 'on',
      });
      await expect(startKafkaBrowser(config, logger)).rejects.toMatchObject({
        code: ErrorCodes.UI_PORT_IN_USE,
        message: expect.stringMatching(new RegExp(`^ui\\.kafka_ui_port: port ${port} `)),
      });
    });
  });

  it('auto with a free port: serves the page', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    await new Promise<void>((r) => blocker.close(() => r()));
    const { config } = parseConfig(yml, 'config.yml', { SDP_UI__KAFKA_UI_PORT: String(port) });
    const started = await startKafkaBrowser(config, logger);
    try {
      expect(started?.server.port).toBe(port);
      const page = await fetch(started!.server.url);
      expect(await page.text()).toContain('/static/kafka.js');
    } finally {
      await started?.close();
    }
  });
});

describe('kafkaBrowserHandler failures', () => {
  const failing = (err: Error) =>
    kafkaBrowserHandler({
      topic: () => Promise.reject(err),
      groups: () => Promise.resolve([]),
    } as unknown as ClusterBrowser);
  const ask = (err: Error, path: string, query = '') => failing(err)({ path, query: new URLSearchParams(query) });

  it('answer JSON the page shows, with the SDP_ERR_* code (the page read no text body)', async () => {
    expect(
      await ask(new Error('fetchTopicMetadata: no answer from Kafka within 10 ms'), '/api/topic', 'name=t'),
    ).toEqual({
      status: 500,
      json: {
        error: 'SDP_ERR_KAFKA_BROWSER_FAILED: fetchTopicMetadata: no answer from Kafka within 10 ms',
        code: ErrorCodes.KAFKA_BROWSER_FAILED,
      },
    });
    expect(await ask(new SdpError(ErrorCodes.KAFKA_TOPIC_MISSING, 'no topic t'), '/api/topic', 'name=t')).toMatchObject(
      { status: 500, json: { code: ErrorCodes.KAFKA_TOPIC_MISSING } },
    );
    expect(await ask(new Error('unused'), '/api/groups')).toEqual({ json: [] });
  });
});
