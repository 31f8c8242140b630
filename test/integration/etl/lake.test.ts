/**
 * Produce N valid events to both topics plus the catalogue of bad messages,
 * run `node dist/main.js etl` until the checkpoint store holds everything, stop it with SIGTERM,
 * and read the lake back with DuckDB. Runs once per Parquet encoder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import type { Config } from '../../../src/config/schema.js';
import { isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess, type EtlExit } from '../helpers/etlProcess.js';
import {
  badMessages,
  clickEvent,
  fillOffsets,
  iotEvent,
  writeNdjson,
  type BadMessage,
  type ExpectedClick,
  type ExpectedIot,
  type PlannedRecord,
} from '../helpers/etlTestEvents.js';
import { createTestTopics, endOffsets, groupOffsets, TestProducer, type TestRecord } from '../helpers/kafkaTestData.js';
import {
  abbreviated,
  checkRangeTiling,
  expectedRejected,
  readRejected,
  type InjectedBad,
} from '../helpers/lakeChecks.js';
import { listFiles, openLake, parquetFiles, sqlString, tmpFiles, type LakeReader } from '../helpers/lakeReader.js';
import { loadTestConfig, windowsModeOf } from '../helpers/loadTestConfig.js';
import { windowsCaughtUp, windowsPollMs } from '../helpers/windowsCaughtUp.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const CLICKS = 5_000;
const READINGS = 3_000;
const DAY_MS = 86_400_000;

describe.each(['hyparquet-writer', 'parquetjs-lite'] as const)('etl → lake with the %s encoder', (encoder) => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-etl-lake-'));
  const lakeRoot = join(dir, 'lake');
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('run');
  const seed = Date.now() % 1_000_000;
  let config: Config;
  let clicks: Array<PlannedRecord<ExpectedClick>> = [];
  let readings: Array<PlannedRecord<ExpectedIot>> = [];
  const rejected: InjectedBad[] = [];
  let ends: Record<'clickstream' | 'iot', Map<number, bigint>>;
  let etl: EtlProcess;
  let exit: EtlExit;
  let lake: LakeReader;

  beforeAll(async () => {
    config = loadTestConfig();
    await createTestTopics(config, logger);
    const partitions = config.kafka.partitions;
    const random = mulberry32(seed);
    const nowMs = Date.now();
    // Event times over the last three days (several dt directories), ISO text and epoch millis.
    clicks = Array.from({ length: CLICKS }, (_, index) =>
      clickEvent({
        runId,
        index,
        userCount: 500,
        partitions,
        tsMs: nowMs - 60_000 - Math.floor(random() * 3 * DAY_MS),
        random,
        epochMillis: index % 2 === 1,
      }),
    );
    readings = Array.from({ length: READINGS }, (_, index) =>
      iotEvent({
        index,
        devices: 64,
        partitions,
        tsMs: nowMs - 60_000 - 3 * DAY_MS + index * 79_001,
        random,
        epochMillis: index % 3 === 0,
      }),
    );
    const bads = badMessages(runId, nowMs, config.etl.max_event_bytes);

    const producer = new TestProducer(config, logger);
    await producer.connect();
    try {
      // Valid events, the bad ones spread over the partitions in the middle, more valid events,
      // and two bad ones last, so that some partitions end on a rejected record.
      for (const stream of ['clickstream', 'iot'] as const) {
        const topic = config.topics[stream];
        const planned: Array<PlannedRecord<ExpectedClick | ExpectedIot>> = stream === 'clickstream' ? clicks : readings;
        const half = Math.floor(planned.length / 2);
        const mine = bads.filter((b) => b.stream === stream);
        const middle = mine.slice(0, -2);
        const last = mine.slice(-2);
        const badRecord = (b: BadMessage, i: number): TestRecord => ({
          partition: i % partitions,
          key: `bad-${i}`,
          value: b.value,
          timestampMs: nowMs,
        });
        fillOffsets(
          planned.slice(0, half),
          await producer.send(
            topic,
            planned.slice(0, half).map((p) => p.record),
          ),
        );
        const middlePlaced = await producer.send(topic, middle.map(badRecord));
        fillOffsets(
          planned.slice(half),
          await producer.send(
            topic,
            planned.slice(half).map((p) => p.record),
          ),
        );
        const lastPlaced = await producer.send(
          topic,
          last.map((b, i) => badRecord(b, i + 1)),
        );
        [...middle, ...last].forEach((b, i) => {
          const at = [...middlePlaced, ...lastPlaced][i]!;
          rejected.push({ ...b, topic, partition: at.partition, offset: at.offset, recordTimestampMs: nowMs });
        });
      }
    } finally {
      await producer.disconnect();
    }
    ends = {
      clickstream: await endOffsets(config, logger, config.topics.clickstream),
      iot: await endOffsets(config, logger, config.topics.iot),
    };
    const produced = (stream: 'clickstream' | 'iot'): bigint => [...ends[stream].values()].reduce((a, b) => a + b, 0n);
    expect(produced('clickstream')).toBe(BigInt(CLICKS + rejected.filter((r) => r.stream === 'clickstream').length));
    expect(produced('iot')).toBe(BigInt(READINGS + rejected.filter((r) => r.stream === 'iot').length));

    etl = EtlProcess.start(
      etlEnv(config, {
        lakeRoot,
        checkpointRoot,
        extra: {
          SDP_ETL__PARQUET_ENCODER: encoder,
          SDP_ETL__MAX_FILE_ROWS: '400',
          SDP_ETL__MAX_FILE_AGE: '3s',
          SDP_ETL__CHECKPOINT_INTERVAL: '2s',
        },
      }),
      { logFile: join(dir, 'etl.log') },
    );
    await waitFor(
      async () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        const journal = readJournal(checkpointRoot);
        return (
          isCaughtUp(journal, config.topics.clickstream, ends.clickstream) &&
          isCaughtUp(journal, config.topics.iot, ends.iot) &&
          (await windowsCaughtUp({ config, logger, checkpointRoot, clickstreamEnds: ends.clickstream }))
        );
      },
      240_000,
      'the checkpoint store to reach the end offsets of both topics and every window to be emitted',
      windowsPollMs(config),
    );
    exit = await etl.terminate();
    lake = await openLake(lakeRoot);
    writeNdjson(
      join(dir, 'clicks.ndjson'),
      clicks.map((c) => c.expected),
    );
    writeNdjson(
      join(dir, 'iot.ndjson'),
      readings.map((r) => r.expected),
    );
    await lake.rows(
      `CREATE TABLE expected_click AS SELECT * FROM read_json(${sqlString(join(dir, 'clicks.ndjson'))}, format='newline_delimited', columns={event_id: 'VARCHAR', user_id: 'VARCHAR', url: 'VARCHAR', referrer: 'VARCHAR', ua: 'VARCHAR', ts_ms: 'BIGINT', partition: 'INTEGER', "offset": 'BIGINT'})`,
    );
    await lake.rows(
      `CREATE TABLE expected_iot AS SELECT * FROM read_json(${sqlString(join(dir, 'iot.ndjson'))}, format='newline_delimited', columns={device_id: 'VARCHAR', site: 'VARCHAR', temp_c: 'DOUBLE', humidity: 'DOUBLE', battery: 'DOUBLE', signal_strength: 'INTEGER', ts_ms: 'BIGINT', partition: 'INTEGER', "offset": 'BIGINT'})`,
    );
  }, 420_000);

  afterAll(async () => {
    lake?.close();
    if (etl?.running) await etl.kill9();
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('stops on SIGTERM with exit 0, no error logged, and no *.tmp file anywhere in the lake', () => {
    expect(exit).toEqual({ code: 0, signal: null });
    expect(etl.problems().filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(tmpFiles(lakeRoot)).toEqual([]);
  });

  it('holds every valid event exactly once: row counts, distinct event_id, and row-for-row equality', async () => {
    expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
    expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${lake.table('clickstream')}`)).toBe(CLICKS);
    expect(await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')}`)).toBe(READINGS);
    const clickCols = 'event_id, user_id, url, referrer, ua, epoch_ms(ts)';
    const expectedClickCols = 'event_id, user_id, url, referrer, ua, ts_ms';
    expect(
      await lake.rows(
        `SELECT ${clickCols} FROM ${lake.table('clickstream')} EXCEPT ALL SELECT ${expectedClickCols} FROM expected_click LIMIT 5`,
      ),
    ).toEqual([]);
    expect(
      await lake.rows(
        `SELECT ${expectedClickCols} FROM expected_click EXCEPT ALL SELECT ${clickCols} FROM ${lake.table('clickstream')} LIMIT 5`,
      ),
    ).toEqual([]);
    const iotCols = 'device_id, site, temp_c, humidity, battery, signal_strength, epoch_ms(ts)';
    const expectedIotCols = 'device_id, site, temp_c, humidity, battery, signal_strength, ts_ms';
    expect(
      await lake.rows(
        `SELECT ${iotCols} FROM ${lake.table('iot')} EXCEPT ALL SELECT ${expectedIotCols} FROM expected_iot LIMIT 5`,
      ),
    ).toEqual([]);
    expect(
      await lake.rows(
        `SELECT ${expectedIotCols} FROM expected_iot EXCEPT ALL SELECT ${iotCols} FROM ${lake.table('iot')} LIMIT 5`,
      ),
    ).toEqual([]);
  });

  it('has the column types of architecture.md, "Data contracts"', async () => {
    const types = async (table: string): Promise<Record<string, string>> => {
      const rows = await lake.rows(`DESCRIBE SELECT * FROM ${lake.table(table)}`);
      return Object.fromEntries(rows.map((r) => [String(r.column_name), String(r.column_type)]));
    };
    expect(await types('clickstream')).toEqual({
      event_id: 'VARCHAR',
      user_id: 'VARCHAR',
      url: 'VARCHAR',
      referrer: 'VARCHAR',
      ua: 'VARCHAR',
      ts: 'TIMESTAMP',
      dt: 'DATE',
    });
    expect(await types('iot')).toEqual({
      device_id: 'VARCHAR',
      site: 'VARCHAR',
      temp_c: 'DOUBLE',
      humidity: 'DOUBLE',
      battery: 'DOUBLE',
      signal_strength: 'INTEGER',
      ts: 'TIMESTAMP',
      dt: 'DATE',
    });
    expect(await types('clickstream_agg')).toEqual({
      minute_start: 'TIMESTAMP',
      minute_end: 'TIMESTAMP',
      url: 'VARCHAR',
      pv: 'BIGINT',
      dt: 'DATE',
    });
    // The Parquet schema itself: TIMESTAMP_MILLIS, INT32, INT64, DOUBLE, UTF8 as the contract names them.
    const [clickFile] = parquetFiles(lakeRoot, 'clickstream');
    const schema = await lake.rows(
      `SELECT name, type, converted_type FROM parquet_schema(${sqlString(join(lakeRoot, 'tables', 'clickstream', clickFile!.path))}) WHERE num_children IS NULL`,
    );
    expect(
      Object.fromEntries(schema.map((r) => [String(r.name), `${String(r.type)}/${String(r.converted_type)}`])),
    ).toEqual({
      event_id: 'BYTE_ARRAY/UTF8',
      user_id: 'BYTE_ARRAY/UTF8',
      url: 'BYTE_ARRAY/UTF8',
      referrer: 'BYTE_ARRAY/UTF8',
      ua: 'BYTE_ARRAY/UTF8',
      ts: 'INT64/TIMESTAMP_MILLIS',
    });
    const [iotFile] = parquetFiles(lakeRoot, 'iot');
    const iotSchema = await lake.rows(
      `SELECT name, type, converted_type FROM parquet_schema(${sqlString(join(lakeRoot, 'tables', 'iot', iotFile!.path))}) WHERE num_children IS NULL`,
    );
    expect(
      Object.fromEntries(iotSchema.map((r) => [String(r.name), `${String(r.type)}/${String(r.converted_type)}`])),
    ).toMatchObject({
      temp_c: 'DOUBLE/null',
      signal_strength: 'INT32/null',
      ts: 'INT64/TIMESTAMP_MILLIS',
    });
  });

  it('puts every row under dt = the UTC date of its ts (of minute_start for clickstream_agg)', async () => {
    expect(await lake.scalar(`SELECT count(DISTINCT dt) FROM ${lake.table('clickstream')}`)).toBeGreaterThanOrEqual(3);
    expect(
      await lake.scalar(`SELECT count(*) FROM ${lake.table('clickstream')} WHERE dt IS NULL OR dt <> CAST(ts AS DATE)`),
    ).toBe(0);
    expect(
      await lake.scalar(`SELECT count(*) FROM ${lake.table('iot')} WHERE dt IS NULL OR dt <> CAST(ts AS DATE)`),
    ).toBe(0);
    expect(
      await lake.scalar(
        `SELECT count(*) FROM ${lake.table('clickstream_agg')} WHERE dt IS NULL OR dt <> CAST(minute_start AS DATE)`,
      ),
    ).toBe(0);
  });

  it('routes exactly the injected bad messages to _rejected, each with its reason, topic, partition, offset and payload', async () => {
    const actual = await readRejected(lake);
    const expected = expectedRejected(rejected);
    expect(abbreviated(actual)).toEqual(abbreviated(expected));
    expect(actual).toEqual(expected);
  });

  it('commits the final offsets to the Kafka group (advisory) equal to the end offsets', async () => {
    for (const stream of ['clickstream', 'iot'] as const) {
      const committed = await groupOffsets(config, logger, config.etl.consumer_group, config.topics[stream]);
      expect(Object.fromEntries(committed), stream).toEqual(Object.fromEntries(ends[stream]));
    }
  });

  it('restarted with nothing new to read, writes no raw file and still commits the durable offsets to its (new) group', async () => {
    // A group without commits for work already durable: a crash between a checkpoint and its
    // debounced advisory commit, offsets reset with Kafka tools or expired, a renamed group.
    // clickstream_agg may gain the last window: once every partition has been quiet for
    // idle_timeout the watermark moves on and closes it (that window was open, not emitted).
    const rawFiles = (): ReturnType<typeof listFiles> =>
      listFiles(lakeRoot).filter((f) => !f.path.startsWith('tables/clickstream_agg/'));
    const before = rawFiles();
    const group = randomName('sdp-etl-second');
    const second = EtlProcess.start(
      etlEnv(config, {
        lakeRoot,
        checkpointRoot,
        extra: { SDP_ETL__CONSUMER_GROUP: group, SDP_ETL__PARQUET_ENCODER: encoder },
      }),
      {
        logFile: join(dir, 'etl-second.log'),
      },
    );
    await second.waitForAssignments([config.topics.clickstream, config.topics.iot]);
    await second.statusPort(); // start-up complete: signals are handled from here on
    if (windowsModeOf(config) === 'members') {
      // A new group has no stage-1 position: stage 1 reads the clickstream again from its start, and the group's
      // offset, min(raw, win) + 1, reaches the end once those counts are committed (architecture.md, "Windows across
      // members"); the raw files stay as they are.
      await waitFor(
        async () => {
          if (!second.running) throw new Error(`etl exited:\n${second.tail(30)}`);
          const committed = await groupOffsets(config, logger, group, config.topics.clickstream);
          return [...ends.clickstream].every(([p, end]) => committed.get(p) === end);
        },
        120_000,
        'the new group to commit the clickstream ends once stage 1 has read them again',
        1_000,
      );
    }
    expect(await second.terminate()).toEqual({ code: 0, signal: null });
    expect(rawFiles()).toEqual(before);
    for (const stream of ['clickstream', 'iot'] as const) {
      const committed = await groupOffsets(config, logger, group, config.topics[stream]);
      expect(Object.fromEntries(committed), `${stream}: offsets of group ${group}`).toEqual(
        Object.fromEntries(ends[stream]),
      );
    }
  });

  it('names raw files part-<p>-<first>-<last>.parquet; their offset ranges tile each partition and contain their rows', async () => {
    for (const stream of ['clickstream', 'iot'] as const) {
      const tiling = checkRangeTiling(lakeRoot, stream, config.topics[stream], ends[stream]);
      expect(tiling.badNames, `${stream}: file names`).toEqual([]);
      expect(tiling.problems, `${stream}: offset ranges`).toEqual([]);
    }
    // Every row sits in a file of its own partition whose offset range contains the row's offset.
    const clickMisplaced = await lake.rows(`
      WITH a AS (SELECT event_id, regexp_extract(filename, 'part-(\\d+)-(\\d{20})-(\\d{20})\\.parquet$', ['p', 'first', 'last']) AS f FROM ${lake.table('clickstream', { filename: true })})
      SELECT a.event_id FROM a JOIN expected_click e USING (event_id)
      WHERE CAST(a.f.p AS INTEGER) <> e.partition OR e."offset" < CAST(a.f.first AS BIGINT) OR e."offset" > CAST(a.f.last AS BIGINT) LIMIT 5`);
    expect(clickMisplaced).toEqual([]);
    const iotMisplaced = await lake.rows(`
      WITH a AS (SELECT device_id, epoch_ms(ts) AS ts_ms, regexp_extract(filename, 'part-(\\d+)-(\\d{20})-(\\d{20})\\.parquet$', ['p', 'first', 'last']) AS f FROM ${lake.table('iot', { filename: true })})
      SELECT a.device_id, a.ts_ms FROM a JOIN expected_iot e USING (device_id, ts_ms)
      WHERE CAST(a.f.p AS INTEGER) <> e.partition OR e."offset" < CAST(a.f.first AS BIGINT) OR e."offset" > CAST(a.f.last AS BIGINT) LIMIT 5`);
    expect(iotMisplaced).toEqual([]);
    // A rejected record sits in a file named after its topic and partition, with its offset in range.
    const rejectedMisplaced = await lake.rows(`
      WITH a AS (SELECT topic, partition, "offset", regexp_extract(filename, 'part-(.+)-(\\d+)-(\\d{20})-(\\d{20})\\.parquet$', ['t', 'p', 'first', 'last']) AS f FROM ${lake.table('_rejected', { filename: true })})
      SELECT topic, partition, "offset" FROM a WHERE a.f.t <> topic OR CAST(a.f.p AS INTEGER) <> partition OR "offset" < CAST(a.f.first AS BIGINT) OR "offset" > CAST(a.f.last AS BIGINT)`);
    expect(rejectedMisplaced).toEqual([]);
  });
});
