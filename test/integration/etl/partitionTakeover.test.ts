/**
 * The takeover of one partition against the real cluster (architecture.md, "The takeover order"): the last
 * commit's renames are completed, the other tmp files written before the fence are deleted, and a tmp file
 * written after it (the first roll of an owner that took the partition over since) is left alone.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommitMetadata } from '../../../src/checkpoint/commitMetadata.js';
import { takeOverPartition } from '../../../src/etl/partitionTakeover.js';
import { createPartitionTransactions } from '../../../src/kafka/partitionTransactions.js';
import { fetchTopicId } from '../../../src/kafka/wire/topicId.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { testLogger } from '../helpers/testLogger.js';
import { tmpPathFor } from '../../../src/lake/layout.js';

const pad = (n: number): string => String(n).padStart(20, '0');

describe('takeover of one partition', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-takeover-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function plant(lakeRoot: string, relative: string, mtimeMs?: number): string {
    const path = join(lakeRoot, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'rows');
    if (mtimeMs !== undefined) utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
    return path;
  }

  it('completes the named renames, deletes older tmp files, keeps one written after the fence', async () => {
    const config = loadTestConfig();
    await createTestTopics(config, logger);
    const topic = config.topics.iot;
    const group = config.etl.consumer_group;
    const lakeRoot = join(dir, 'lake');
    const topicId = await fetchTopicId(config, topic);
    const final = (first: number, last: number): string =>
      `tables/iot/dt=2024-03-01/p1/part-1-${pad(first)}-${pad(last)}.parquet`;

    // A previous owner (writer a1) committed 0..9, its rename not done yet, and had 10..19 encoded.
    const previous = createPartitionTransactions(config, logger, {
      transactionalId: `${group}-${topic}-1`,
      groupId: group,
    });
    await previous.takeOver();
    await previous.commit(
      [],
      [
        {
          topic,
          partition: 1,
          offset: 10n,
          metadata: encodeCommitMetadata({
            v: 1,
            topicId,
            raw: '9',
            win: null,
            writer: 'a1',
            files: [{ table: 'iot', dt: '2024-03-01', first: '0', last: '9' }],
          }),
        },
      ],
    );
    await previous.close();
    const past = Date.now() - 60_000;
    const committedTmp = plant(lakeRoot, tmpPathFor(final(0, 9), 'a1'), past);
    const staleTmp = plant(lakeRoot, tmpPathFor(final(10, 19), 'a1'), past);
    // The first roll of whoever took the partition over after this takeover's fence (its mtime says so).
    const laterTmp = plant(lakeRoot, tmpPathFor(final(10, 15), 'b2'), Date.now() + 60_000);

    const transactions = createPartitionTransactions(config, logger, {
      transactionalId: `${group}-${topic}-1`,
      groupId: group,
    });
    try {
      const result = await takeOverPartition({
        config,
        logger,
        lakeRoot,
        groupId: group,
        topic,
        partition: 1,
        tables: ['iot', '_rejected'],
        topicId,
        transactions,
      });
      expect(result).toMatchObject({ raw: '9', win: null, source: 'metadata', renamed: 1, missing: 0, deleted: 1 });
    } finally {
      await transactions.close();
    }
    expect(existsSync(committedTmp)).toBe(false);
    expect(existsSync(join(lakeRoot, final(0, 9)))).toBe(true);
    expect(existsSync(staleTmp)).toBe(false);
    expect(existsSync(laterTmp)).toBe(true);
  });
});
