/**
 * A lake produced by the real pipeline (`generate` + `etl` against the
 * cluster, fresh topics, data roots under the OS temp dir), the notebook executed headless with
 * nbclient (`analysis/run_analysis.py --strict`: any cell error or stderr output fails), and the
 * figures it reports (rows per table, top URL and its views, late events) equal to what
 * `node dist/main.js query` answers; the late events also equal to the windows' own count, read from the
 * checkpoint store or, with ETL_TEST_WINDOWS=members, from the stage-2 snapshots in Kafka (through
 * `data windows --json`). Then the same notebook on an empty lake, a tiny one and a bad
 * configuration: every cell runs and says what is missing.
 *
 * CI runs a short pipeline (a few thousand events, one or two minutes of event time);
 * TEST_LONG=1 (`npm run test:notebook:long`, or `npm run test:long` for every long version) generates for three minutes at the
 * configured rates instead.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess, type EtlExit } from '../helpers/etlProcess.js';
import { endOffsets, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import { assertVenv, badOutputs, outputTexts, runAnalysis, type AnalysisRun } from '../helpers/notebookRunner.js';
import { freshTopicsPerBlock, producerSummary } from '../helpers/producerFixtures.js';
import { runCli } from '../helpers/runCli.js';
import { windowsCaughtUp, windowsPollMs, windowsProgress } from '../helpers/windowsCaughtUp.js';
import { writeLakeTable } from '../helpers/smallLake.js';
import { LONG_RUN } from '../helpers/longRun.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';
import { windowsModeOf } from '../helpers/loadTestConfig.js';

const LONG = LONG_RUN;
const GENERATE_ARGS = LONG
  ? ['--duration', '180']
  : ['--count', '2400', '--clickstream-rate', '200', '--iot-rate', '100'];
const LATE_EVENTS = 7;
const LATE_URL = 'https://shop.example.com/late-check';
const MINUTE_MS = 60_000;

/** `query --format json` → rows; fails the test on a non-zero exit. */
async function query<T>(sql: string, env: Record<string, string>): Promise<T[]> {
  const result = await runCli(['query', sql, '--format', 'json'], env);
  if (result.code !== 0) throw new Error(`query exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T[];
}

function clickRecord(partition: number, tsMs: number, url: string, id: string): TestRecord {
  const value = JSON.stringify({
    event_id: id,
    user_id: `u-check-${partition}`,
    url,
    referrer: '',
    ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    ts: new Date(tsMs).toISOString(),
  });
  return { partition, key: `u-check-${partition}`, value, timestampMs: Date.now() };
}

describe('the notebook on a lake made by the real pipeline', () => {
  const logger = testLogger();
  const freshTopics = freshTopicsPerBlock();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-notebook-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  let config: Config;
  let env: Record<string, string>;
  let generated: { clickstream_total: number; iot_total: number };
  let rejectedSent = 0;
  let etl: EtlProcess | undefined;
  let exit: EtlExit;
  let run: AnalysisRun;

  beforeAll(async () => {
    assertVenv();
    const fresh = await freshTopics();
    config = fresh.config;
    env = {
      ...etlEnv(config, {
        lakeRoot,
        checkpointRoot,
        extra: {
          SDP_ETL__IDLE_TIMEOUT: '2s',
          SDP_ETL__CHECKPOINT_INTERVAL: '1s',
          SDP_ETL__MAX_FILE_IDLE: '1s',
          SDP_ETL__MAX_FILE_AGE: '5s',
        },
      }),
    };

    // 1. Real events from the generators, stamped with the wall clock.
    const generatedFromMs = Date.now();
    const generate = await runCli(['generate', ...GENERATE_ARGS], fresh.env);
    const generatedToMs = Date.now();
    expect(generate.code, generate.stderr).toBe(0);
    const summary = producerSummary(generate.stdout);
    expect(summary?.errors).toBe(0);
    generated = { clickstream_total: summary!.clickstream_total, iot_total: summary!.iot_total };

    // 2. A few records the ETL must reject, and one event per partition two minutes ahead: once every
    //    partition is idle, the watermark passes every generated minute, so all their windows close.
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      const bad = [
        'not json',
        '[1,2,3]',
        JSON.stringify({ event_id: 'x', user_id: 'u', ua: 'curl', ts: new Date().toISOString() }),
      ];
      await producer.send(
        config.topics.clickstream,
        bad.map((value, i) => ({ partition: i % config.kafka.partitions, key: 'bad', value })),
      );
      await producer.send(config.topics.iot, [
        {
          partition: 0,
          key: 'bad',
          value: JSON.stringify({
            device_id: 'd',
            site: 's',
            temp_c: 999,
            humidity: 40,
            battery: 50,
            signal_strength: -70,
            ts: new Date().toISOString(),
          }),
        },
      ]);
      rejectedSent = bad.length + 1;
      const aheadMs = generatedToMs + 2 * MINUTE_MS;
      await producer.send(
        config.topics.clickstream,
        Array.from({ length: config.kafka.partitions }, (_, p) =>
          clickRecord(p, aheadMs, 'https://shop.example.com/', `ahead-${p}`),
        ),
      );

      etl = EtlProcess.start(env, { logFile: join(dir, 'etl.log') });
      const closedUntilMs = Math.floor(generatedToMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      await waitFor(
        async () => {
          if (!etl!.running) throw new Error(`etl exited early:\n${etl!.tail(30)}`);
          const frontier = (await windowsProgress({ config, logger, checkpointRoot }))?.emittedFrontierMs;
          return frontier !== undefined && frontier !== null && frontier >= closedUntilMs;
        },
        180_000,
        'the windows of every generated minute to be emitted',
        windowsPollMs(config),
      );

      // 3. Late events: their minute (the first generated one) was emitted already.
      await producer.send(
        config.topics.clickstream,
        Array.from({ length: LATE_EVENTS }, (_, i) =>
          clickRecord(i % config.kafka.partitions, generatedFromMs + i, LATE_URL, `late-${i}`),
        ),
      );
    } finally {
      await producer.disconnect();
    }
    const ends = { clickstream: await endOffsets(config, logger, config.topics.clickstream) };
    await waitFor(
      async () => {
        if (!etl!.running) throw new Error(`etl exited early:\n${etl!.tail(30)}`);
        const journal = readJournal(checkpointRoot);
        // Every clickstream partition ends with a plain record of this test; the IoT ones end with the
        // generator's transaction markers, which take an offset but never reach a sink: count rows there.
        const iot = journal?.rawRows.get(config.topics.iot);
        return (
          isCaughtUp(journal, config.topics.clickstream, ends.clickstream) &&
          iot?.rows === generated.iot_total &&
          iot.rejected === 1 &&
          (await windowsCaughtUp({ config, logger, checkpointRoot, clickstreamEnds: ends.clickstream })) &&
          (await windowsProgress({ config, logger, checkpointRoot }))?.lateEventsTotal === LATE_EVENTS
        );
      },
      180_000,
      'the checkpoint store to hold every record, every window emitted and the late events counted',
      windowsPollMs(config),
    );
    exit = await etl!.terminate();

    // 4. The notebook, headless, against that lake (found through config.yml + SDP_ overrides).
    run = await runAnalysis(env, join(dir, 'reports'));
  }, 900_000);

  afterAll(async () => {
    if (etl?.running) await etl.kill9();
    if (process.env.NOTEBOOK_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('stops the ETL cleanly and executes every cell without an error or a stderr line', () => {
    expect(exit).toEqual({ code: 0, signal: null });
    expect(run.stderr).toBe('');
    expect(run.code, run.stderr).toBe(0);
    expect(badOutputs(run)).toEqual([]);
    expect(run.summary?.lake_root).toBe(lakeRoot);
  });

  it('reports the rows of every table as query counts them', async () => {
    const counts = await query<{ t: string; n: number }>(
      "SELECT 'clickstream' AS t, count(*) AS n FROM clickstream UNION ALL SELECT 'iot', count(*) FROM iot " +
        "UNION ALL SELECT 'clickstream_agg', count(*) FROM clickstream_agg UNION ALL SELECT '_rejected', count(*) FROM _rejected",
      env,
    );
    const byTable = Object.fromEntries(counts.map((r) => [r.t, r.n]));
    expect(run.summary?.rows).toEqual(byTable);
    // And they are what went in: every generated event, the partition markers and the late ones.
    expect(byTable.clickstream).toBe(generated.clickstream_total + config.kafka.partitions + LATE_EVENTS);
    expect(byTable.iot).toBe(generated.iot_total);
    expect(byTable._rejected).toBe(rejectedSent);
    expect(byTable.clickstream_agg).toBeGreaterThan(0);
  });

  it('reports the top URL and its views, raw and windowed, as query answers them', async () => {
    const [raw] = await query<{ url: string; views: number }>(
      'SELECT url, count(*) AS views FROM clickstream GROUP BY url ORDER BY views DESC, url LIMIT 1',
      env,
    );
    const [agg] = await query<{ url: string; views: number }>(
      'SELECT url, sum(pv) AS views FROM clickstream_agg GROUP BY url ORDER BY views DESC, url LIMIT 1',
      env,
    );
    expect(run.summary?.top_url_raw).toEqual(raw);
    expect(run.summary?.top_url_agg).toEqual(agg);
  });

  it('finds the windows equal to the raw counts except for the late events, which it counts as the window state does (either mode)', async () => {
    const [late] = await query<{ raw: number; windowed: number | null }>(
      `SELECT (SELECT count(*) FROM clickstream WHERE url = '${LATE_URL}') AS raw, (SELECT sum(pv) FROM clickstream_agg WHERE url = '${LATE_URL}') AS windowed`,
      env,
    );
    expect(late).toEqual({ raw: LATE_EVENTS, windowed: null });
    expect(run.summary?.pv_check).toMatchObject({
      raw_minus_agg: LATE_EVENTS,
      agg_minus_raw: 0,
      windows_written_twice: 0,
    });
    expect(run.summary?.pv_check?.closed_windows).toBeGreaterThan(0);
    // The windows' own count, from where etl.windows keeps it: the store, or the stage-2 snapshots in Kafka.
    const source = windowsModeOf(config) === 'members' ? 'pv-state topic' : 'checkpoint store';
    expect(run.summary?.late_events).toEqual({ window_state: LATE_EVENTS, source, lake_shortfall: LATE_EVENTS });
    expect(outputTexts(run).join('\n')).toContain(`${source}: lateEventsTotal`);
    expect(outputTexts(run).join('\n')).toContain(`The two counts agree:** ${LATE_EVENTS} late event(s)`);
  });

  it('counts the rejected records by reason and finds no duplicate', () => {
    const rejected = Object.values(run.summary?.rejected ?? {}).reduce((a, b) => a + b, 0);
    expect(rejected).toBe(rejectedSent);
    expect(run.summary?.rejected).toMatchObject({
      'clickstream:not_json': 1,
      'clickstream:not_object': 1,
      'clickstream:missing_field': 1,
      'iot:value_out_of_range': 1,
    });
    expect(run.summary?.quality_checks?.['clickstream: duplicate event_id (must be 0)']).toBe(0);
    expect(run.summary?.quality_checks?.['clickstream_agg: window (minute, url) written twice (must be 0)']).toBe(0);
  });

  it('writes a self-contained HTML report with its charts embedded', () => {
    const html = readFileSync(run.reportPath!, 'utf8');
    expect(statSync(run.reportPath!).size).toBeGreaterThan(100_000);
    expect(html.match(/<img [^>]*src="data:image\/png;base64,/g)?.length ?? 0).toBeGreaterThanOrEqual(10);
    expect(html).not.toMatch(/<script[^>]+src="https?:/);
    expect(html).not.toContain('Traceback');
  });
});

describe('the notebook on an empty, a tiny and a misconfigured lake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-notebook-small-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(() => assertVenv());

  it('runs every cell on a lake that was never written, and says there is nothing', async () => {
    const run = await runAnalysis(
      { SDP_STORAGE__DATALAKE_ROOT: join(dir, 'never'), SDP_STORAGE__CHECKPOINT_ROOT: join(dir, 'never-cp') },
      join(dir, 'reports-empty'),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(badOutputs(run)).toEqual([]);
    expect(run.summary?.rows).toEqual({ clickstream: 0, iot: 0, clickstream_agg: 0, _rejected: 0 });
    const text = outputTexts(run).join('\n');
    expect(text).toContain(`The lake at \`${join(dir, 'never')}\` has no committed Parquet files yet.`);
    expect(text).toContain(
      `**Skipped:** table clickstream has no data yet (no Parquet files under ${join(dir, 'never', 'tables', 'clickstream')})`,
    );
    expect(text).toContain('**Skipped:** table iot has no data yet');
    // Every code cell said something: none stayed silent about what it could not show.
    const silent = (run.cells ?? []).filter((c) => c.cell_type === 'code' && (c.outputs ?? []).length === 0);
    expect(silent).toEqual([]);
  });

  it('runs every cell on a lake with one click and one reading, and reports them', async () => {
    const root = join(dir, 'tiny');
    const ts = Date.UTC(2024, 2, 1, 10, 0, 0);
    await writeLakeTable(root, 'clickstream', [
      { event_id: 'e-1', user_id: 'u-1', url: 'https://shop.example.com/', referrer: null, ua: 'curl/8.5.0', ts },
    ]);
    await writeLakeTable(root, 'iot', [
      { device_id: 'd-1', site: 'plant-a', temp_c: 21.5, humidity: 40, battery: 3, signal_strength: -95, ts },
    ]);
    const run = await runAnalysis(
      { SDP_STORAGE__DATALAKE_ROOT: root, SDP_STORAGE__CHECKPOINT_ROOT: join(dir, 'tiny-cp') },
      join(dir, 'reports-tiny'),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(badOutputs(run)).toEqual([]);
    expect(run.summary?.rows).toEqual({ clickstream: 1, iot: 1, clickstream_agg: 0, _rejected: 0 });
    expect(run.summary?.top_url_raw).toEqual({ url: 'https://shop.example.com/', views: 1 });
    expect(run.summary?.attention).toMatchObject({
      devices: 1,
      'low battery (< 15 %)': 1,
      'weak signal (mean < -90 dBm)': 1,
    });
    const text = outputTexts(run).join('\n');
    expect(text).toContain('**Skipped:** table clickstream_agg has no data yet');
    expect(text).toContain('only 1 minute(s) of data');
  });

  it('says which key is wrong, runs every cell, and exits 2 when an SDP_ variable names no key', async () => {
    const run = await runAnalysis({ SDP_STORAGE__DATALAKE_ROTO: '/tmp/x' }, join(dir, 'reports-bad'));
    expect(run.code).toBe(2);
    expect(badOutputs(run)).toEqual([]);
    expect(run.summary?.config_problem).toContain(
      'storage.datalake_roto: unknown key (from environment variable SDP_STORAGE__DATALAKE_ROTO)',
    );
    expect(outputTexts(run).join('\n')).toContain('**Skipped:** no configuration, so no lake');
  });
});
