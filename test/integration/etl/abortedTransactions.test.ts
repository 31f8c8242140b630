/**
 * Records of aborted transactions never reach the lake. Four independent
 * transactional producers (librdkafka through Python confluent-kafka, not this project) interleave
 * 400 transactions of 40 events on one partition, about a third aborted. The ETL reads the topic
 * with a small and with a large fetch size: the lake (DuckDB) holds exactly what kcat reads with
 * isolation.level=read_committed, and no event of an aborted transaction.
 *
 * kafkajs 2.2.4's own filter leaked here (11,000 rows for 10,200 committed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { readJournal } from '../helpers/checkpointJournal.js';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { kcatCount } from '../helpers/kcat.js';
import { openLake, sqlString } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { produceInterleavedTransactions, type InterleavedResult } from '../helpers/pythonProducers.js';
import { randomName } from '../helpers/randomName.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const TRANSACTIONS = Number(process.env.ABORTED_TEST_TRANSACTIONS ?? 400);
const EVENTS_PER_TRANSACTION = 40;

describe('aborted transactions of independent, interleaving producers', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-aborted-'));
  const runId = randomName('tx');
  let config: Config;
  let produced: InterleavedResult;
  let committedByKcat: number;

  beforeAll(async () => {
    config = loadTestConfig();
    await createTestTopics(config, logger);
    produced = await produceInterleavedTransactions({
      bootstrap: config.kafka.bootstrap_servers[0]!,
      topic: config.topics.clickstream,
      partition: 0,
      producers: 4,
      transactions: TRANSACTIONS,
      eventsPerTransaction: EVENTS_PER_TRANSACTION,
      seed: 10,
      runId,
    });
    committedByKcat = await kcatCount(config.kafka.bootstrap_servers[0]!, config.topics.clickstream, 'read_committed');
  }, 300_000);

  afterAll(() => {
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('produced interleaved transactions, about a third aborted, that kcat read_committed counts as committed', async () => {
    expect(produced.committed_events + produced.aborted_events).toBe(TRANSACTIONS * EVENTS_PER_TRANSACTION);
    expect(produced.aborted_transactions.length).toBeGreaterThan(TRANSACTIONS / 5);
    expect(produced.aborted_transactions.length).toBeLessThan(TRANSACTIONS / 2);
    expect(committedByKcat).toBe(produced.committed_events);
    // Every record and every marker is in the log: the uncommitted read sees the aborted ones too.
    expect(await kcatCount(config.kafka.bootstrap_servers[0]!, config.topics.clickstream, 'read_uncommitted')).toBe(
      TRANSACTIONS * EVENTS_PER_TRANSACTION,
    );
  });

  it.each([
    ['small', '2KB'],
    ['large', '1MB'],
  ])(
    'the lake holds exactly the committed events with a %s fetch size (%s per partition)',
    async (_label, fetchSize) => {
      const lakeRoot = join(dir, `lake-${fetchSize}`);
      const checkpointRoot = join(dir, `checkpoints-${fetchSize}`);
      const etl = EtlProcess.start(
        etlEnv(config, {
          lakeRoot,
          checkpointRoot,
          extra: {
            SDP_ETL__CONSUMER_GROUP: randomName('sdp-etl-aborted'),
            SDP_ETL__FETCH_MAX_BYTES_PER_PARTITION: fetchSize,
            SDP_ETL__MAX_FILE_AGE: '2s',
          },
        }),
        { logFile: join(dir, `etl-${fetchSize}.log`) },
      );
      try {
        // Rows committed to the lake reach what was committed to Kafka (more, if aborted ones leak),
        // then nothing more arrives for a while.
        let last = -1;
        let stableSinceMs = Date.now();
        await waitFor(
          () => {
            if (!etl.running) throw new Error(`etl exited early:\n${etl.tail(30)}`);
            const rows = readJournal(checkpointRoot)?.rawRows.get(config.topics.clickstream)?.rows ?? 0;
            if (rows !== last) {
              last = rows;
              stableSinceMs = Date.now();
            }
            return rows >= produced.committed_events && Date.now() - stableSinceMs > 4_000;
          },
          240_000,
          'the lake to hold the committed events',
          250,
        );
        expect(await etl.terminate()).toEqual({ code: 0, signal: null });
      } finally {
        if (etl.running) await etl.kill9();
      }
      const lake = await openLake(lakeRoot);
      try {
        const table = lake.table('clickstream');
        expect(await lake.scalar(`SELECT count(*) FROM ${table}`)).toBe(committedByKcat);
        expect(await lake.scalar(`SELECT count(DISTINCT event_id) FROM ${table}`)).toBe(committedByKcat);
        const abortedIds = produced.aborted_transactions
          .map((t) => sqlString(`${runId}-t${String(t).padStart(4, '0')}`))
          .join(', ');
        expect(
          await lake.scalar(
            `SELECT count(*) FROM ${table} WHERE regexp_extract(event_id, '^(.*)-e[0-9]+$', 1) IN (${abortedIds})`,
          ),
        ).toBe(0);
        expect(etl.logs.some((l) => l.msg === 'kafkajs aborted-record filter replaced')).toBe(true);
        // What was read is the lean fetch decoding's (patches/fetchFastPaths.ts), not kafkajs's own.
        expect(etl.logs.some((l) => l.msg === 'lean fetch decoding in use')).toBe(true);
      } finally {
        lake.close();
      }
    },
  );
});
