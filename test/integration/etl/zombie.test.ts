/**
 * The zombie test, without timing (architecture.md, "Growing past one machine"): two owners of one input
 * partition, each a real checkpointer with its own store and the real Kafka transactions. The second's takeover
 * fences the first; the first's roll, encoded before and committed after, fails, publishes nothing (no final file,
 * no offset in Kafka) and leaves no tmp file; the second then commits its own roll of the same records.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  spawnCheckpointer,
  type CheckpointerMsg,
  type CommitReply,
  type TakeoverReply,
} from '../../../src/actors/checkpointer.js';
import { rawSinkId, type RawCheckpoint } from '../../../src/checkpoint/checkpointState.js';
import { decodeCommitMetadata } from '../../../src/checkpoint/commitMetadata.js';
import { SqlitePersistenceEngine } from '../../../src/checkpoint/sqlitePersistenceEngine.js';
import type { Config } from '../../../src/config/schema.js';
import { fetchStableOffsets } from '../../../src/kafka/wire/offsetFetch.js';
import { query, startSystem, stop, type SystemRef } from '../../../src/system/nact.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { testLogger } from '../helpers/testLogger.js';
import { tmpPathFor } from '../../../src/lake/layout.js';

const Q_MS = 60_000;
const pad = (n: number): string => String(n).padStart(20, '0');

describe('two owners of one partition (a zombie and its successor)', () => {
  const logger = testLogger();
  const dir = mkdtempSync(join(tmpdir(), 'sdp-zombie-'));
  const lakeRoot = join(dir, 'lake');
  const systems: SystemRef[] = [];
  const engines: SqlitePersistenceEngine[] = [];
  afterAll(() => {
    for (const system of systems) stop(system);
    for (const engine of engines) engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function owner(config: Config, name: string, storeId: string) {
    const engine = new SqlitePersistenceEngine(join(dir, name, 'checkpoints.sqlite'), { synchronous: 'NORMAL' });
    engines.push(engine);
    const system = startSystem(`zombie-${name}`, engine);
    systems.push(system);
    const ref = spawnCheckpointer(system, {
      lakeRoot,
      logger,
      snapshotEvery: 100,
      storeId,
      kafka: {
        config,
        groupId: config.etl.consumer_group,
        tablesOf: () => ['iot', '_rejected'],
      },
    });
    const ask = <R>(msg: CheckpointerMsg): Promise<R> => query<CheckpointerMsg, R>(ref, () => msg, Q_MS);
    return { ref, ask };
  }

  function roll(config: Config, storeId: string, first: number, last: number): RawCheckpoint {
    const to = `tables/iot/dt=2024-03-01/p0/part-0-${pad(first)}-${pad(last)}.parquet`;
    return {
      type: 'raw',
      sink: rawSinkId(config.topics.iot, 0),
      topic: config.topics.iot,
      partition: 0,
      offset: String(last),
      renames: [{ from: tmpPathFor(to, storeId), to }],
      rows: last - first + 1,
      rejected: 0,
    };
  }

  function writeTmp(event: RawCheckpoint): string {
    const path = join(lakeRoot, event.renames[0]!.from);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'rows');
    return path;
  }

  it("the successor's takeover fences the first owner, whose roll publishes nothing and leaves no tmp file", async () => {
    const config = loadTestConfig();
    await createTestTopics(config, logger);
    const topic = config.topics.iot;
    const first = owner(config, 'first', 'aaaa1111');
    const second = owner(config, 'second', 'bbbb2222');

    const took = await first.ask<TakeoverReply>({ type: 'takeOver', topic, partitions: [0] });
    expect(took).toMatchObject({ ok: true, partitions: [{ partition: 0, raw: '-1' }] });
    const firstEpoch = took.ok ? took.partitions[0]!.taskEpoch : -1;
    // The first owner commits a roll of offsets 0..9, then encodes its next roll (10..19) as a tmp file.
    const committed = roll(config, 'aaaa1111', 0, 9);
    writeTmp(committed);
    expect(await first.ask<CommitReply>({ type: 'commit', event: committed, taskEpoch: firstEpoch })).toEqual({
      checkpoints: 1,
    });
    const zombieRoll = roll(config, 'aaaa1111', 10, 19);
    const zombieTmp = writeTmp(zombieRoll);

    // The group gives the partition to the second owner: its takeover fences the first and resumes after 9.
    const taken = await second.ask<TakeoverReply>({ type: 'takeOver', topic, partitions: [0] });
    expect(taken).toMatchObject({ ok: true, partitions: [{ partition: 0, raw: '9' }] });
    // The takeover deleted every tmp file of the partition it did not find committed.
    expect(existsSync(zombieTmp)).toBe(false);

    // The zombie's commit comes late: fenced, nothing renamed, nothing cached, nothing in Kafka.
    writeTmp(zombieRoll); // as if its encoder finished after the takeover
    const refused = await first.ask<CommitReply>({ type: 'commit', event: zombieRoll, taskEpoch: firstEpoch });
    expect(refused).toMatchObject({ fenced: true });
    expect(existsSync(zombieTmp)).toBe(false);
    expect(existsSync(join(lakeRoot, zombieRoll.renames[0]!.to))).toBe(false);
    const after = (await fetchStableOffsets(config, config.etl.consumer_group, topic, [0])).get(0)!;
    expect(after.offset).toBe(10n);
    expect(decodeCommitMetadata(after.metadata)).toMatchObject({ raw: '9', writer: 'aaaa1111' });

    // The successor writes the same records as its own roll and commits them.
    const secondEpoch = taken.ok ? taken.partitions[0]!.taskEpoch : -1;
    const successorRoll = roll(config, 'bbbb2222', 10, 19);
    writeTmp(successorRoll);
    // Its store holds two events: the floor its takeover cached from Kafka (raw 9), then this roll.
    expect(await second.ask<CommitReply>({ type: 'commit', event: successorRoll, taskEpoch: secondEpoch })).toEqual({
      checkpoints: 2,
    });
    expect(existsSync(join(lakeRoot, successorRoll.renames[0]!.to))).toBe(true);
    const final = (await fetchStableOffsets(config, config.etl.consumer_group, topic, [0])).get(0)!;
    expect(final.offset).toBe(20n);
    expect(decodeCommitMetadata(final.metadata)).toMatchObject({ raw: '19', writer: 'bbbb2222' });
    await first.ask({ type: 'closeTasks' });
    await second.ask({ type: 'closeTasks' });
  });
});
