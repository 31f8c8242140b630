/**
 * A catch-up is in the lake as soon as it is read (architecture.md, "Back-pressure and shutdown"). A backlog is
 * written, then
 * `node dist/main.js etl` starts with `max_file_age` and `max_file_idle` far beyond the test's
 * time: each partition rolls once, at the end of its backlog (etl/backlogEnd.ts), and everything
 * is committed in seconds. Events that then arrive at a paced rate are not rolled early: a
 * partition that keeps up waits for its usual rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import type { Config } from '../../../src/config/schema.js';
import { checkpointFile, isCaughtUp, readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { clickEvent } from '../helpers/etlTestEvents.js';
import { createTestTopics, endOffsets, TestProducer } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const CLICKS = 40_000;
/** A backlog is a tenth of a file behind: 2,000 records, where each partition has ~10,000 to read. */
const MAX_FILE_ROWS = 20_000;

/** partition → raw checkpoints committed for it, in the store's own journal. */
function rawRollsPerPartition(checkpointRoot: string, topic: string): Map<number, number> {
  const db = new Database(checkpointFile(checkpointRoot), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[string], { partition: number; n: number }>(
        "SELECT json_extract(data, '$.partition') AS partition, count(*) AS n FROM journal WHERE json_extract(data, '$.type') = 'raw' AND json_extract(data, '$.topic') = ? GROUP BY 1",
      )
      .all(topic);
    return new Map(rows.map((r) => [r.partition, r.n]));
  } finally {
    db.close();
  }
}

describe('etl: the end of a backlog', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-etl-backlog-'));
  const checkpointRoot = join(dir, 'checkpoints');
  const runId = randomName('run');
  let config: Config;
  let producer: TestProducer;
  let etl: EtlProcess;
  let catchUpMs = 0;

  const clicks = (from: number, count: number): ReturnType<typeof clickEvent>['record'][] => {
    const random = mulberry32(from + 1);
    return Array.from(
      { length: count },
      (_, i) =>
        clickEvent({
          runId,
          index: from + i,
          userCount: 400,
          partitions: config.kafka.partitions,
          tsMs: Date.now() - 30_000,
          random,
        }).record,
    );
  };

  beforeAll(async () => {
    config = loadTestConfig();
    await createTestTopics(config, logger);
    producer = new TestProducer(config, logger);
    await producer.connect();
    // Sent in chunks of ~700 KB: each partition's backlog is many record batches, read over many fetches.
    await producer.send(config.topics.clickstream, clicks(0, CLICKS));
    const ends = await endOffsets(config, logger, config.topics.clickstream);

    etl = EtlProcess.start(
      etlEnv(config, {
        lakeRoot: join(dir, 'lake'),
        checkpointRoot,
        extra: {
          SDP_ETL__MAX_FILE_ROWS: String(MAX_FILE_ROWS),
          SDP_ETL__MAX_FILE_AGE: '10m',
          SDP_ETL__MAX_FILE_IDLE: '10m',
          SDP_ETL__FETCH_MAX_BYTES_PER_PARTITION: '16KB',
        },
      }),
      { logFile: join(dir, 'etl.log') },
    );
    await waitFor(
      () => {
        if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
        return isCaughtUp(readJournal(checkpointRoot), config.topics.clickstream, ends);
      },
      60_000,
      'the backlog committed without max_file_age or max_file_idle',
      100,
    );
    catchUpMs = Date.now() - etl.startedAtMs;
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    if (etl?.running) await etl.terminate();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the whole backlog in seconds, one roll per partition at the end of its backlog', () => {
    // Without the rule, nothing would roll for 10 minutes (no partition reaches max_file_rows);
    // with it the catch-up takes ~6 s here (the wait above gives up at 60 s, with its log tail).
    expect(catchUpMs).toBeLessThan(30_000);
    const journal = readJournal(checkpointRoot)!;
    expect(journal.rawRows.get(config.topics.clickstream)).toEqual({ rows: CLICKS, rejected: 0 });
    const rolls = rawRollsPerPartition(checkpointRoot, config.topics.clickstream);
    expect([...rolls.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const n of rolls.values()) expect(n).toBe(1);
  });

  it('does not roll events that arrive at a paced rate once caught up, and flushes them on SIGTERM', async () => {
    const rolls = (): number =>
      [...rawRollsPerPartition(checkpointRoot, config.topics.clickstream).values()].reduce((a, b) => a + b, 0);
    const before = rolls();
    for (let i = 0; i < 10; i++) {
      await producer.send(config.topics.clickstream, clicks(CLICKS + i * 20, 20));
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2_000));
    expect(rolls() - before).toBe(0);
    expect(etl.running).toBe(true);
    // Shutdown pauses fetching before its final rolls: rows in the lake now were read before it.
    expect(await etl.terminate()).toEqual({ code: 0, signal: null });
    expect(readJournal(checkpointRoot)!.rawRows.get(config.topics.clickstream)).toEqual({
      rows: CLICKS + 200,
      rejected: 0,
    });
  }, 30_000);
});
