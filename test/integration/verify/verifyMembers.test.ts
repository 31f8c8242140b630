/**
 * `verify` of a lake whose windows ran across members (etl.windows: members): the window state it compares the raw
 * table with is the stage-2 snapshots in `<group>-pv-state`, not the checkpoint store (architecture.md, "Verifying
 * the lake" and "Windows across members"). One ETL run over events spread across minutes; verify passes and counts
 * the windows; a window row changed in a copy of the lake is a window mismatch; a copy moved into units (the stage-2
 * tasks' files in `r<r>`) passes alike.
 */
import { cpSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { platformTopicNames } from '../../../src/kafka/admin/topicSpecs.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { readStageWindowState } from '../../../src/verify/stageWindowState.js';
import { repartitionOfUrl } from '../../../src/windows/repartitionRecords.js';
import { EtlProcess, etlEnv } from '../helpers/etlProcess.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { clickEvent } from '../helpers/etlTestEvents.js';
import { TestProducer } from '../helpers/kafkaTestData.js';
import { lakeFiles, moveIntoUnits } from '../helpers/lakeUnits.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { deleteTopics } from '../helpers/producerFixtures.js';
import { randomName } from '../helpers/randomName.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';

const SUMMARY =
  /^verify: files=\d+ rows=\d+ gaps=0 overlaps=0 count_mismatches=0 windows=(\d+) window_mismatches=(\d+)/;
const sq = (s: string): string => `'${s.replaceAll("'", "''")}'`;

describe('verify with the windows across members', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-verify-members-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  let config: Config;
  let env: Record<string, string>;
  let clean: CliResult;
  const verify = (root: string): Promise<CliResult> => runCli(['verify'], { ...env, SDP_STORAGE__DATALAKE_ROOT: root });

  beforeAll(async () => {
    config = loadTestConfig({ etl: { windows: 'members' } });
    env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__WINDOWS: 'members',
        SDP_ETL__MAX_FILE_AGE: '3s',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
      },
    });
    await createTopics(config, logger);
    const random = mulberry32(11);
    const startMs = Date.now() - 30 * 60_000;
    const runId = randomName('verify-members');
    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      await producer.send(
        config.topics.clickstream,
        Array.from(
          { length: 2_000 },
          (_, index) =>
            clickEvent({
              runId,
              index,
              userCount: 100,
              partitions: config.kafka.partitions,
              tsMs: startMs + index * 600,
              random,
            }).record,
        ),
      );
    } finally {
      await producer.disconnect();
    }
    // Caught up, then every partition idle long enough for its marks to close the windows and stage 2 to commit.
    await runEtlToEnd({
      config,
      logger,
      env,
      checkpointRoot,
      logFile: join(dir, 'etl.log'),
      settleMs: 8_000,
    });
    clean = await verify(lakeRoot);
  }, 300_000);

  // The second group's window topics too (the test of a new group over this lake).
  const newGroup = randomName('verify-members-new');

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (config)
      await deleteTopics(config, [
        ...platformTopicNames(config),
        ...platformTopicNames({ ...config, etl: { ...config.etl, consumer_group: newGroup } }).slice(2),
      ]);
  });

  it('passes, counting the windows the stage-2 tasks emitted, whose state is in Kafka', async () => {
    expect(clean.code, `${clean.stdout}\n${clean.stderr}`).toBe(0);
    const m = SUMMARY.exec(clean.stdout.trim().split('\n').at(-1) ?? '');
    expect(m, clean.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBe(0);
    const state = await readStageWindowState(config, logger, config.kafka.partitions, 60_000);
    expect(state?.snapshots).toBeGreaterThan(0);
  });

  it('moved into units (stage-2 files in r<r>), the same lake passes with the same counts', async () => {
    const root = join(dir, 'lake-units');
    cpSync(lakeRoot, root, { recursive: true, preserveTimestamps: true });
    moveIntoUnits(root);
    const agg = lakeFiles(root, 'clickstream_agg').filter((f) => f.name.endsWith('.parquet'));
    expect(agg.length).toBeGreaterThan(0);
    expect(agg.every((f) => f.unit !== null && /^r\d+$/.test(f.unit))).toBe(true);
    const result = await verify(root);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout.trim().split('\n').at(-1)).toBe(clean.stdout.trim().split('\n').at(-1));
  });

  it('a window row changed is a window mismatch', async () => {
    const root = join(dir, 'lake-window');
    cpSync(lakeRoot, root, { recursive: true, preserveTimestamps: true });
    const file = lakeFiles(root, 'clickstream_agg').find((f) => f.name.endsWith('.parquet'))!.path;
    const rewritten = `${file}.rewrite`;
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await db.run(
        `COPY (SELECT minute_start, minute_end, url, CASE WHEN rn = 1 THEN pv + 1 ELSE pv END AS pv FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${sq(file)}))) TO ${sq(rewritten)} (FORMAT PARQUET)`,
      );
    } finally {
      db.closeSync();
      instance.closeSync();
    }
    cpSync(rewritten, file);
    unlinkSync(rewritten);
    const result = await verify(root);
    expect(result.code, result.stdout).toBe(1);
    expect(result.stdout).toMatch(/^window_mismatch clickstream_agg/m);
  });

  it('a new group over this lake writes no window a second time', async () => {
    // A new (or expired) group reads every clickstream partition again from its start for the window stage; its
    // stage-2 tasks start from what clickstream_agg already holds (lake/aggEmittedUntil.ts).
    const root = join(dir, 'lake-new-group');
    cpSync(lakeRoot, root, { recursive: true, preserveTimestamps: true });
    const windows = async (): Promise<{ rows: number; keys: number }> => {
      const instance = await DuckDBInstance.create(':memory:');
      const db = await instance.connect();
      try {
        const glob = join(root, 'tables', 'clickstream_agg', '**', '*.parquet');
        const reader = await db.runAndReadAll(
          `SELECT count(*)::INTEGER, count(DISTINCT (minute_start, url))::INTEGER FROM read_parquet(${sq(glob)})`,
        );
        const [rows, keys] = reader.getRows()[0] as [number, number];
        return { rows, keys };
      } finally {
        db.closeSync();
        instance.closeSync();
      }
    };
    const before = await windows();
    expect(before.rows).toBe(before.keys);
    const urls = await (async (): Promise<string[]> => {
      const instance = await DuckDBInstance.create(':memory:');
      const db = await instance.connect();
      try {
        const glob = join(root, 'tables', 'clickstream_agg', '**', '*.parquet');
        const reader = await db.runAndReadAll(`SELECT DISTINCT url FROM read_parquet(${sq(glob)})`);
        return reader.getRows().map((row) => String(row[0]));
      } finally {
        db.closeSync();
        instance.closeSync();
      }
    })();
    const etl = EtlProcess.start(
      {
        ...env,
        SDP_ETL__CONSUMER_GROUP: newGroup,
        SDP_STORAGE__DATALAKE_ROOT: root,
        SDP_STORAGE__CHECKPOINT_ROOT: join(dir, 'checkpoints-new-group'),
      },
      { logFile: join(dir, 'etl-new-group.log') },
    );
    try {
      await etl.waitForLog((l) => l.msg === 'window task taken over', 180_000, 'a stage-2 task to be taken over');
      // The replay is 2,000 events: long enough for its windows to close and be written, were they not emitted.
      await new Promise((r) => setTimeout(r, 25_000));
    } finally {
      expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    }
    expect(await windows()).toEqual(before);
    // Each task starts from its own urls' windows: a frontier exactly when the lake has a window of a url routed to it.
    const R = config.kafka.partitions;
    const taken = etl.logsMatching((l) => l.msg === 'window task taken over' && l.source === 'empty');
    expect(new Set(taken.map((t) => t.partition))).toEqual(new Set(Array.from({ length: R }, (_, r) => r)));
    for (const t of taken) {
      const hasWindows = urls.some((url) => repartitionOfUrl(url, R) === t.partition);
      expect(t.emitted_frontier !== null, JSON.stringify(t)).toBe(hasWindows);
    }
    expect(taken.some((t) => t.emitted_frontier !== null)).toBe(true);
  }, 300_000);
});
