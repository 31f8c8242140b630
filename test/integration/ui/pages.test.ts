/**
 * Both web pages in headless Chromium (Debian's chromium, driven by playwright-core) against the
 * shared cluster and a running platform (`etl`, which serves the dashboard) plus the Kafka browser
 * (`ui`): the figures the pages show equal /api/status and kcat's answers at a quiescent point, a
 * message produced by kcat is shown, a value that is HTML stays text, the token is enforced, and a
 * taken port is one line naming its key. Screenshots go to docs/ (the README shows them).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { repartitionTopicName } from '../../../src/windows/repartitionRecords.js';
import { EtlProcess, etlEnv } from '../helpers/etlProcess.js';
import { createTestTopics, deleteTestTopics, groupOffsets, withAdmin } from '../helpers/kafkaTestData.js';
import { loadTestConfig, windowsModeOf } from '../helpers/loadTestConfig.js';
import { CLI, PROJECT_ROOT } from '../helpers/projectRoot.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const run = promisify(execFile);
const BROKER = '127.0.0.1:19092';
const STATUS_PORT = 25081;
const KAFKA_UI_PORT = 25080;
const TOKEN_UI_PORT = 25082;
const TOKEN = 'i11-test-token-0123456789';
const XSS = '<img src=x onerror=alert(1)>';
const DOCS = join(PROJECT_ROOT, 'docs');

interface StatusPartition {
  topic: string;
  partition: number;
  logStartOffset: string | null;
  logEndOffset: string | null;
  durableNextOffset: string | null;
  lagEvents: number | null;
  lagExact: boolean;
  validEvents: number;
  rejectedEvents: number;
}
interface Status {
  partitions: StatusPartition[];
  etl?: {
    aggregator: { windowsOpen: number; windowsEmittedTotal: number; lateEventsTotal: number };
    rejectedTotal: Record<string, number>;
  };
  lake: Array<{ table: string; files: number }>;
  actors: Array<{ name: string; children: unknown[] }>;
  warnings: Array<{ id: string }>;
  group: {
    id: string;
    state: string;
    members: Array<{ memberId: string; clientId: string; assignment: Array<{ topic: string; partitions: number[] }> }>;
  };
}

async function kcatOffset(topic: string, partition: number, which: -1 | -2): Promise<string> {
  const { stdout } = await run('kcat', ['-b', BROKER, '-Q', '-t', `${topic}:${partition}:${which}`], {
    timeout: 20_000,
  });
  const m = /\[(\d+)\] offset (-?\d+)/.exec(stdout);
  if (!m) throw new Error(`kcat -Q answered ${stdout}`);
  return m[2]!;
}

/** Records at and after `from` as kcat (read_committed, librdkafka) reads them. */
async function kcatCountFrom(topic: string, partition: number, from: string): Promise<number> {
  const { stdout } = await run(
    'kcat',
    [
      '-b',
      BROKER,
      '-C',
      '-t',
      topic,
      '-p',
      String(partition),
      '-o',
      from,
      '-e',
      '-q',
      '-f',
      '%o\\n',
      '-X',
      'isolation.level=read_committed',
    ],
    { timeout: 30_000 },
  );
  return stdout.split('\n').filter((l) => l.trim() !== '').length;
}

function kcatProduce(topic: string, partition: number, value: string, extra: string[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', BROKER, '-t', topic, '-p', String(partition), '-P', ...extra], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`kcat -P exited ${code}: ${err}`))));
    child.stdin.end(`${value}\n`);
  });
}

/** Sum of the topic's `*.log` segment files in every broker's log.dirs (the cluster runs on this machine). */
async function bytesOnDisk(config: Config, topic: string): Promise<number> {
  const logger = testLogger();
  const dirs = await withAdmin(config, logger, async (admin) => {
    const { brokers } = await admin.describeCluster();
    const described = await admin.describeConfigs({
      resources: brokers.map((b) => ({
        type: kafkajs.ConfigResourceTypes.BROKER,
        name: String(b.nodeId),
        configNames: ['log.dirs'],
      })),
      includeSynonyms: false,
    });
    return described.resources.flatMap((r) =>
      r.configEntries.filter((c) => c.configName === 'log.dirs').flatMap((c) => (c.configValue ?? '').split(',')),
    );
  });
  let total = 0;
  for (const dir of dirs) {
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(`${topic}-`) || !/^\d+$/.test(name.slice(topic.length + 1))) continue;
      for (const file of readdirSync(join(dir, name)))
        if (file.endsWith('.log')) total += statSync(join(dir, name, file)).size;
    }
  }
  return total;
}

function startUi(config: Config, port: number, extra: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, 'ui'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
      SDP_TOPICS__IOT: config.topics.iot,
      SDP_UI__KAFKA_UI_PORT: String(port),
      SDP_LOG__FORMAT: 'json',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function answers(url: string, headers: Record<string, string> = {}): Promise<number> {
  try {
    return (await fetch(url, { headers })).status;
  } catch {
    return 0;
  }
}

/** A page that records console errors, page errors and dialogs. */
async function openPage(browser: Browser): Promise<{ page: Page; problems: string[]; dialogs: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { page, problems, dialogs };
}

describe('web pages in a real browser', () => {
  const logger = testLogger();
  const config = loadTestConfig({ etl: { checkpoint_interval: '2s', max_file_idle: '1s' } as never });
  const root = mkdtempSync(join(tmpdir(), 'sdp-ui-'));
  let etl: EtlProcess;
  let ui: ChildProcess;
  let browser: Browser;
  let groupsBefore: Set<string>;
  const status = async (): Promise<Status> =>
    (await (await fetch(`http://127.0.0.1:${STATUS_PORT}/api/status`)).json()) as Status;

  beforeAll(async () => {
    mkdirSync(DOCS, { recursive: true });
    await createTestTopics(config, logger);
    groupsBefore = new Set(
      await withAdmin(config, logger, async (a) => (await a.listGroups()).groups.map((g) => g.groupId)),
    );
    etl = EtlProcess.start(
      etlEnv(config, {
        lakeRoot: join(root, 'lake'),
        checkpointRoot: join(root, 'ck'),
        extra: {
          SDP_UI__STATUS_PORT: String(STATUS_PORT),
          SDP_ETL__CHECKPOINT_INTERVAL: '2s',
          SDP_ETL__MAX_FILE_IDLE: '1s',
        },
      }),
    );
    ui = startUi(config, KAFKA_UI_PORT);
    await etl.waitForAssignments([config.topics.clickstream, config.topics.iot]);
    await waitFor(
      async () => (await answers(`http://127.0.0.1:${KAFKA_UI_PORT}/api/brokers`)) === 200,
      60_000,
      'the kafka browser',
    );
    const env = {
      SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
      SDP_TOPICS__IOT: config.topics.iot,
      SDP_LOG__FORMAT: 'json',
    };
    const generated = await runCli(['generate', '--count', '600', '--threads', '2'], env);
    expect(generated.code).toBe(0);
    await kcatProduce(config.topics.clickstream, 0, XSS);
    await kcatProduce(config.topics.clickstream, 1, '{"hello":"from kcat","n":1}', [
      '-k',
      'kcat-key',
      '-H',
      'origin=kcat',
    ]);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // Quiescent: every record durable in the lake (lag 0, counted exactly).
    await waitFor(
      async () => {
        const s = await status();
        return s.partitions.length === 8 && s.partitions.every((p) => p.lagExact && p.lagEvents === 0);
      },
      120_000,
      'lag 0 on every partition',
      1_000,
    );
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    ui?.kill('SIGTERM');
    await etl?.terminate();
    await deleteTestTopics(config, logger).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }, 180_000);

  it('dashboard: shows the offsets, lag and counts of /api/status and kcat, with no console error', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`http://127.0.0.1:${STATUS_PORT}/`);
    await page.waitForSelector('body[data-loaded="true"]');
    await page.waitForTimeout(2_500); // one more refresh: the charts have two samples
    const shown = await page.$$eval('#partitions tbody tr', (rows) =>
      rows.map((r) => {
        const cell = (f: string) => r.querySelector(`[data-field="${f}"]`)?.textContent ?? '';
        return {
          key: r.getAttribute('data-partition'),
          end: cell('logEndOffset'),
          durable: cell('durableNextOffset'),
          lag: cell('lagEvents'),
          valid: cell('validEvents'),
          rejected: cell('rejectedEvents'),
          assigned: cell('assigned'),
        };
      }),
    );
    const s = await status();
    expect(shown).toHaveLength(8);
    for (const p of s.partitions) {
      const row = shown.find((r) => r.key === `${p.topic}/${p.partition}`)!;
      expect(row).toMatchObject({
        end: p.logEndOffset,
        durable: p.durableNextOffset,
        lag: String(p.lagEvents),
        valid: String(p.validEvents),
        rejected: String(p.rejectedEvents),
        assigned: 'yes',
      });
      // kcat (librdkafka) agrees on the log end, and finds no record at or after the durable offset.
      expect(await kcatOffset(p.topic, p.partition, -1)).toBe(p.logEndOffset);
      expect(await kcatCountFrom(p.topic, p.partition, p.durableNextOffset!)).toBe(0);
    }
    // Every event reached the ETL: 600 generated valid events, the two kcat messages rejected.
    expect(s.partitions.reduce((a, p) => a + p.validEvents, 0)).toBe(600);
    expect(s.partitions.reduce((a, p) => a + p.rejectedEvents, 0)).toBe(2);
    expect(await page.textContent('[data-testid="windows-emitted"] .v')).toBe(
      s.etl!.aggregator.windowsEmittedTotal.toLocaleString('en-US'),
    );
    expect(await page.textContent('[data-testid="late-events"] .v')).toBe(String(s.etl!.aggregator.lateEventsTotal));
    expect(await page.$$eval('#rejected tbody tr[data-reason]', (rows) => rows.length)).toBe(
      Object.keys(s.etl!.rejectedTotal).length,
    );
    expect(await page.textContent('#lake tr[data-table="clickstream"] [data-field="files"]')).not.toBe('0');
    // The consumer group as Kafka describes it: this ETL's consumer per input topic, holding every partition, and
    // with the windows across members (architecture.md, "Windows across members") its window stage's consumer of
    // `<group>-pv-repartition`, holding every one of its R partitions.
    expect(s.group).toMatchObject({ id: config.etl.consumer_group, state: 'Stable' });
    const repartition = repartitionTopicName(config.etl.consumer_group);
    const consumed = [config.topics.clickstream, config.topics.iot];
    if (windowsModeOf(config) === 'members') consumed.push(repartition);
    expect(s.group.members.map((m) => m.clientId).sort()).toEqual(
      consumed.map((t) => `${config.kafka.client_id}-etl-${t}`).sort(),
    );
    const held = s.group.members.flatMap((m) =>
      m.assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`)),
    );
    const repartitionHeld =
      windowsModeOf(config) === 'members'
        ? await withAdmin(config, logger, async (a) =>
            (await a.fetchTopicMetadata({ topics: [repartition] })).topics[0]!.partitions.map(
              (p) => `${repartition}/${p.partitionId}`,
            ),
          )
        : [];
    expect(held.sort()).toEqual([...s.partitions.map((p) => `${p.topic}/${p.partition}`), ...repartitionHeld].sort());
    const memberRows = await page.$$eval('#group tbody tr[data-member]', (rows) =>
      rows.map((r) => ({
        id: r.getAttribute('data-member'),
        clientId: r.querySelector('[data-field="clientId"]')?.textContent,
        partitions: r.querySelector('[data-field="partitions"]')?.textContent,
      })),
    );
    expect(memberRows).toEqual(
      s.group.members.map((m) => ({
        id: m.memberId,
        clientId: m.clientId,
        partitions: m.assignment.map((a) => `${a.topic} ${a.partitions.join(',')}`).join(' · '),
      })),
    );
    expect(await page.$$eval('#actors li[data-actor^="lake-writer-"]', (l) => l.length)).toBe(8);
    expect(await page.$$eval('.chart canvas', (c) => c.length)).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: join(DOCS, 'dashboard.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('kafka browser: brokers, topics, partitions and group offsets equal kcat and the admin API', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(`http://127.0.0.1:${KAFKA_UI_PORT}/`);
    await page.waitForSelector('#topics');
    expect(await page.$$eval('#brokers tbody tr', (r) => r.map((x) => x.textContent))).toHaveLength(3);
    await page.screenshot({ path: join(DOCS, 'kafka-browser.png'), fullPage: false });
    const topic = config.topics.clickstream;
    // Size: the brokers' own segment files for the topic, summed over every replica on disk.
    const shownBytes = await page.getAttribute(`#topics tr[data-topic="${topic}"] [data-field="bytes"]`, 'title');
    expect(shownBytes).toBe(`${await bytesOnDisk(config, topic)} bytes`);
    await page.goto(`http://127.0.0.1:${KAFKA_UI_PORT}/#/topic/${encodeURIComponent(topic)}`);
    await page.waitForSelector('#partitions tbody tr');
    const rows = await page.$$eval('#partitions tbody tr', (rs) =>
      rs.map((r) => ({
        p: Number(r.getAttribute('data-partition')),
        start: r.querySelector('[data-field="startOffset"]')!.textContent,
        end: r.querySelector('[data-field="endOffset"]')!.textContent,
      })),
    );
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      expect(r.start).toBe(await kcatOffset(topic, r.p, -2));
      expect(r.end).toBe(await kcatOffset(topic, r.p, -1));
    }
    await page.screenshot({ path: join(DOCS, 'kafka-topic.png'), fullPage: true });
    await page.goto(`http://127.0.0.1:${KAFKA_UI_PORT}/#/group/${encodeURIComponent(config.etl.consumer_group)}`);
    await page.waitForSelector('#offsets tbody tr');
    const committed = await groupOffsets(config, logger, config.etl.consumer_group, topic);
    const shown = await page.$$eval('#offsets tbody tr', (rs) =>
      rs.map((r) => ({
        key: r.getAttribute('data-partition'),
        committed: r.querySelector('[data-field="committed"]')!.textContent,
      })),
    );
    for (const [p, offset] of committed)
      expect(shown.find((x) => x.key === `${topic}/${p}`)?.committed).toBe(offset.toString());
    expect(problems).toEqual([]);
    await page.close();
  });

  it('kafka browser: shows the messages kcat produced; an HTML value stays text and opens no dialog', async () => {
    const { page, problems, dialogs } = await openPage(browser);
    const topic = encodeURIComponent(config.topics.clickstream);
    await page.goto(`http://127.0.0.1:${KAFKA_UI_PORT}/#/messages?topic=${topic}&partition=0&from=last&limit=5`);
    await page.waitForSelector('#messages tbody tr');
    const values = await page.$$eval('#messages [data-field="value"] pre', (p) => p.map((x) => x.textContent));
    expect(values).toContain(XSS);
    expect(await page.$$eval('#messages img', (i) => i.length)).toBe(0);
    await page.goto(`http://127.0.0.1:${KAFKA_UI_PORT}/#/messages?topic=${topic}&partition=1&from=last&limit=5`);
    await page.waitForSelector('#messages tbody tr');
    await waitFor(
      async () => ((await page.textContent('#messages')) ?? '').includes('kcat-key'),
      10_000,
      'the kcat message',
    );
    const text = (await page.textContent('#messages')) ?? '';
    expect(text).toContain('origin: kcat');
    expect(text).toContain('"hello": "from kcat"'); // pretty-printed JSON
    await page.screenshot({ path: join(DOCS, 'kafka-messages.png'), fullPage: false });
    await page.waitForTimeout(500);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
    // Browsing read messages without a consumer group: no new group has anything to do with our topics.
    const after = await withAdmin(config, logger, async (a) => (await a.listGroups()).groups.map((g) => g.groupId));
    const fresh = after.filter((g) => !groupsBefore.has(g) && g !== config.etl.consumer_group);
    for (const g of fresh) {
      const offsets = await withAdmin(config, logger, (a) =>
        a.fetchOffsets({ groupId: g, topics: [config.topics.clickstream, config.topics.iot] }),
      );
      expect(offsets.flatMap((t) => t.partitions).filter((p) => p.offset !== '-1')).toEqual([]);
    }
  });

  it('with ui.auth_token, a request without the token gets 401; ?token= lets a browser in', async () => {
    const secured = startUi(config, TOKEN_UI_PORT, { SDP_UI__AUTH_TOKEN: TOKEN });
    try {
      await waitFor(
        async () => (await answers(`http://127.0.0.1:${TOKEN_UI_PORT}/`)) !== 0,
        60_000,
        'the secured kafka browser',
      );
      expect(await answers(`http://127.0.0.1:${TOKEN_UI_PORT}/`)).toBe(401);
      expect(await answers(`http://127.0.0.1:${TOKEN_UI_PORT}/api/topics`)).toBe(401);
      expect(
        await answers(`http://127.0.0.1:${TOKEN_UI_PORT}/api/topics`, {
          authorization: 'Bearer wrong-token-0123456789',
        }),
      ).toBe(401);
      expect(await answers(`http://127.0.0.1:${TOKEN_UI_PORT}/api/topics`, { authorization: `Bearer ${TOKEN}` })).toBe(
        200,
      );
      const { page, problems } = await openPage(browser);
      await page.goto(`http://127.0.0.1:${TOKEN_UI_PORT}/?token=${TOKEN}`);
      await page.waitForSelector('#topics');
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      secured.kill('SIGTERM');
    }
  });

  it('a second process on a taken port fails with one line naming the key and the port', async () => {
    const second = await runCli(
      ['etl'],
      {
        ...etlEnv(config, { lakeRoot: join(root, 'lake2'), checkpointRoot: join(root, 'ck2') }),
        SDP_UI__STATUS_PORT: String(STATUS_PORT),
        SDP_ETL__CONSUMER_GROUP: `${config.etl.consumer_group}-2`,
      },
      60_000,
    );
    expect(second.code).toBe(1);
    const errors = second.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(errors).toEqual([
      expect.stringMatching(/^error SDP_ERR_UI_PORT_IN_USE: ui\.status_port: port 25081 .*already in use/),
    ]);
    const kafkaUi = await runCli(['ui'], { SDP_UI__KAFKA_UI_PORT: String(KAFKA_UI_PORT) }, 60_000);
    expect(kafkaUi.code).toBe(1);
    expect(kafkaUi.stderr.trim()).toMatch(/^error SDP_ERR_UI_PORT_IN_USE: ui\.kafka_ui_port: port 25080 /);
  });

  it('a non-loopback address without ui.auth_token is a config error (exit 2) naming the key', async () => {
    const r = await runCli(['ui'], { SDP_UI__KAFKA_UI_HOST: '0.0.0.0' }, 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ui.auth_token');
  });
});
