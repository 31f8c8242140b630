/**
 * A lake written before units (architecture.md, "Who rewrites a partition's files"): every final file directly in
 * its dt directory. The next start moves each file into its writer's unit before it recovers or takes anything
 * over, in both window modes, and the lake then holds every event exactly once (DuckDB) with no file left in a dt
 * directory itself.
 */
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { etlEnv } from '../helpers/etlProcess.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { runEtlToEnd } from '../helpers/etlToEnd.js';
import { createTestTopics, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';

const TABLES = ['clickstream', 'iot', '_rejected', 'clickstream_agg'] as const;

/** Moves every file of every unit into its dt directory and removes the units: the layout before units. */
function flatten(lakeRoot: string): number {
  let moved = 0;
  for (const table of TABLES) {
    const tableDir = join(lakeRoot, 'tables', table);
    for (const dt of readdirSync(tableDir, { withFileTypes: true })) {
      if (!dt.isDirectory()) continue;
      for (const unit of readdirSync(join(tableDir, dt.name), { withFileTypes: true })) {
        if (!unit.isDirectory()) continue;
        for (const name of readdirSync(join(tableDir, dt.name, unit.name))) {
          renameSync(join(tableDir, dt.name, unit.name, name), join(tableDir, dt.name, name));
          moved += 1;
        }
        rmdirSync(join(tableDir, dt.name, unit.name));
      }
    }
  }
  return moved;
}

/** `[unit or null, name]` of every file below `tables/<table>/dt=*`. */
function placement(lakeRoot: string, table: string): Array<[string | null, string]> {
  const out: Array<[string | null, string]> = [];
  const tableDir = join(lakeRoot, 'tables', table);
  for (const dt of readdirSync(tableDir)) {
    for (const entry of readdirSync(join(tableDir, dt), { withFileTypes: true })) {
      if (entry.isDirectory())
        for (const name of readdirSync(join(tableDir, dt, entry.name))) out.push([entry.name, name]);
      else out.push([null, entry.name]);
    }
  }
  return out;
}

describe.each(['process', 'members'] as const)('a lake from before units, windows: %s', (windows) => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-units-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('units');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is moved into units at the next start, before anything is recovered, every event once', async () => {
    const config = loadTestConfig({ etl: { windows } });
    mkdirSync(join(dir, 'run'), { recursive: true });
    const env = etlEnv(config, {
      lakeRoot,
      checkpointRoot,
      extra: {
        SDP_ETL__MAX_FILE_ROWS: '120',
        SDP_ETL__CHECKPOINT_INTERVAL: '1s',
        SDP_ETL__IDLE_TIMEOUT: '2s',
        SDP_ETL__WATERMARK_DELAY: '1s',
        SDP_SERVICES__RUN_DIR: join(dir, 'run'),
      },
    });
    await createTestTopics(config, logger);
    const random = mulberry32(Date.now() % 1_000_000);
    const startMs = Date.now() - 1_200_000;
    const clicks = (from: number, n: number): TestRecord[] =>
      Array.from(
        { length: n },
        (_, i) =>
          clickEvent({
            runId,
            index: from + i,
            userCount: 50,
            partitions: config.kafka.partitions,
            tsMs: startMs + (from + i) * 1_000,
            random,
          }).record,
      );
    const readings = (from: number, n: number): TestRecord[] =>
      Array.from(
        { length: n },
        (_, i) =>
          iotEvent({
            index: from + i,
            devices: 8,
            partitions: config.kafka.partitions,
            tsMs: startMs + (from + i) * 1_000,
            random,
          }).record,
      );
    const send = async (records: Record<'clickstream' | 'iot', TestRecord[]>): Promise<void> => {
      const producer = new TestProducer(config, logger);
      await producer.connect();
      try {
        await producer.send(config.topics.clickstream, [
          ...records.clickstream,
          { partition: 0, key: `bad-${records.clickstream.length}`, value: 'not json', timestampMs: startMs },
        ]);
        await producer.send(config.topics.iot, records.iot);
      } finally {
        await producer.disconnect();
      }
    };
    const run = (log: string) =>
      runEtlToEnd({
        config,
        logger,
        env,
        checkpointRoot,
        logFile: join(dir, log),
        settleMs: 4_000,
      });

    await send({ clickstream: clicks(0, 500), iot: readings(0, 300) });
    await run('etl-1.log');
    expect(flatten(lakeRoot)).toBeGreaterThan(4); // every table has files to move
    for (const table of TABLES) expect(placement(lakeRoot, table).every(([unit]) => unit === null)).toBe(true);

    await send({ clickstream: clicks(500, 200), iot: readings(300, 100) });
    await run('etl-2.log');

    for (const table of TABLES) {
      const files = placement(lakeRoot, table);
      expect(files.length, table).toBeGreaterThan(0);
      // Every final file in a unit; a dt directory itself holds nothing (no tmp file is left either).
      expect(files.filter(([unit]) => unit === null).map(([, name]) => name)).toEqual([]);
    }
    const lake = await openLake(lakeRoot);
    try {
      const ids = (t: string, id: string) => `SELECT count(*) AS n, count(DISTINCT ${id}) AS d FROM ${lake.table(t)}`;
      expect(await lake.rows(ids('clickstream', 'event_id'))).toEqual([{ n: '700', d: '700' }]);
      expect(await lake.rows(ids('iot', '(device_id, ts)'))).toEqual([{ n: '400', d: '400' }]);
      expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('_rejected')}`)).toBe(2);
      // One row per window, whichever start emitted it.
      expect(
        await lake.scalar(
          `SELECT count(*) FROM (SELECT minute_start, url FROM ${lake.table('clickstream_agg')} ` +
            'GROUP BY ALL HAVING count(*) > 1)',
        ),
      ).toBe(0);
    } finally {
      lake.close();
    }
  }, 600_000);
});
