/**
 * An ETL started right after a broker died (kill -9), before the cluster moved that broker's partition leadership:
 * it starts, reads every event into the lake and stops cleanly, once with the windows in the process and once across
 * members. Before, kafkajs's admin gave up at once on the dead leader of a ListOffsets (the offset check, the end
 * offsets the windows learn their partitions from) and `etl` exited 1 ("the platform could not start: Connection
 * error"). On brokers of its own (ports 21092/21192/21292, controllers 21093/21193/21293, data under /tmp), so the
 * shared cluster is never touched. Costs three JVMs and about a minute.
 *
 * Beside each start, the short admin sessions of the commands (adminSession.ts) read while the broker is dead: the
 * log ends of `data stats` (ListOffsets to every leader) and the group listing of `services ps`. They used to fail
 * at once with KAFKA_UNREACHABLE ("Connection error") until the leadership moved.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { fetchGroupMembers } from '../../../src/kafka/admin/groupMembers.js';
import { fetchTopicRanges } from '../../../src/kafka/admin/topicEnds.js';
import { createTopics } from '../../../src/kafka/admin/topics.js';
import { mulberry32 } from '../../../src/system/mulberry32.js';
import { isPidAlive } from '../../../src/system/processes.js';
import { EtlProcess, etlEnv } from '../helpers/etlProcess.js';
import { withAdmin } from '../helpers/kafkaTestData.js';
import { clickEvent, iotEvent } from '../helpers/etlTestEvents.js';
import { TestProducer } from '../helpers/kafkaTestData.js';
import { openLake } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { randomName } from '../helpers/randomName.js';
import { runCli } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const base = mkdtempSync(join(tmpdir(), 'sdp-broker-down-'));
const kafkaDir = join(base, 'kafka');
const ports = [21092, 21192, 21292];
const clusterEnv = {
  SDP_KAFKA__EXTERNAL_PORTS: ports.join(','),
  SDP_KAFKA__BOOTSTRAP_SERVERS: ports.map((p) => `127.0.0.1:${p}`).join(','),
  SDP_KAFKA__LOCAL__CONTROLLER_PORTS: '21093,21193,21293',
  SDP_KAFKA__LOCAL__DATA_DIR: kafkaDir,
  SDP_KAFKA__LOCAL__HEAP: '384m',
};
const CLICKS = 400;
const READINGS = 200;

/** The __consumer_offsets partition of a group, as Kafka places it: Utils.abs(Java's String.hashCode) mod count. */
function offsetsPartitionOf(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(31, hash) + groupId.charCodeAt(i)) | 0;
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions;
}

describe('etl started while a broker has just died (brokers of its own)', () => {
  const logger = testLogger();
  const config = (): Config =>
    loadTestConfig({ kafka: { bootstrap_servers: clusterEnv.SDP_KAFKA__BOOTSTRAP_SERVERS.split(',') } });

  beforeAll(async () => {
    const up = await runCli(['kafka', 'up'], clusterEnv);
    expect(up.code, up.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await runCli(['kafka', 'down'], clusterEnv);
    rmSync(base, { recursive: true, force: true });
  }, 180_000);

  /** Topics made now (so the broker about to die leads some of their partitions), with events in them. */
  async function topicsWithEvents(c: Config): Promise<void> {
    await createTopics(c, logger, { topics: [c.topics.clickstream, c.topics.iot] });
    const random = mulberry32(7);
    const runId = randomName('broker-down');
    const startMs = Date.now() - 10 * 60_000;
    const producer = new TestProducer(c, logger);
    await producer.connect();
    try {
      const partitions = c.kafka.partitions;
      await producer.send(
        c.topics.clickstream,
        Array.from(
          { length: CLICKS },
          (_, index) =>
            clickEvent({ runId, index, userCount: 50, partitions, tsMs: startMs + index * 1_000, random }).record,
        ),
      );
      await producer.send(
        c.topics.iot,
        Array.from(
          { length: READINGS },
          (_, index) => iotEvent({ index, devices: 20, partitions, tsMs: startMs + index * 2_000, random }).record,
        ),
      );
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * A group id whose coordinator is broker `nodeId` (the leader of its __consumer_offsets partition); undefined when
   * it leads none of them: a broker that came back leads again only after the cluster's leader rebalance (5 min).
   */
  async function groupCoordinatedBy(c: Config, nodeId: number): Promise<string | undefined> {
    let leaders: number[] = [];
    await waitFor(
      async () => {
        // FindCoordinator makes __consumer_offsets in a new cluster.
        await fetchGroupMembers(c, logger, randomName('probe')).catch(() => undefined);
        const { topics } = await withAdmin(c, logger, (admin) =>
          admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] }),
        ).catch(() => ({ topics: [] }));
        const partitions = [...(topics[0]?.partitions ?? [])].sort((a, b) => a.partitionId - b.partitionId);
        leaders = partitions.map((p) => p.leader);
        return leaders.length > 0 && leaders.every((leader) => leader >= 0);
      },
      60_000,
      '__consumer_offsets with a leader for every partition',
      500,
    );
    if (!leaders.includes(nodeId)) return undefined;
    for (;;) {
      const groupId = randomName('coordinated');
      if (leaders[offsetsPartitionOf(groupId, leaders.length)] === nodeId) return groupId;
    }
  }

  /**
   * What the commands read through an admin session, while the broker is dead: every partition's log end (`data
   * stats`) and the members of a group whose coordinator it was (`services ps`). Returns the session's warnings.
   */
  async function sessionReads(c: Config, groupId: string | undefined): Promise<string[]> {
    const warnings: string[] = [];
    const warnLogger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const [ranges, group] = await Promise.all([
      fetchTopicRanges(c, warnLogger, [c.topics.clickstream, c.topics.iot]),
      groupId === undefined ? undefined : fetchGroupMembers(c, warnLogger, groupId),
    ]);
    const held = (topic: string): bigint =>
      [...(ranges.get(topic)?.values() ?? [])].reduce((sum, r) => sum + r.end - r.start, 0n);
    expect(ranges.get(c.topics.clickstream)?.size).toBe(c.kafka.partitions);
    expect(held(c.topics.clickstream)).toBe(BigInt(CLICKS));
    expect(held(c.topics.iot)).toBe(BigInt(READINGS));
    if (groupId !== undefined) expect(group).toMatchObject({ groupId, state: 'Dead', members: [] });
    return warnings;
  }

  /** kill -9 of a broker that is running; resolves once it is gone. */
  async function killBroker(nodeId: number): Promise<void> {
    const pid = Number(readFileSync(join(kafkaDir, `node-${nodeId}`, 'kafka.pid'), 'utf8').trim());
    expect(isPidAlive(pid)).toBe(true);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
    await waitFor(() => !isPidAlive(pid), 30_000, `broker ${nodeId} to die`, 100);
  }

  it.each(['process', 'members'] as const)(
    'windows in %s: starts, reads every event into the lake, stops with exit 0',
    { timeout: 240_000 },
    async (windows) => {
      const c = config();
      const up = await runCli(['kafka', 'up'], clusterEnv); // the broker killed by the case before comes back
      expect(up.code, up.stderr).toBe(0);
      await topicsWithEvents(c);
      const coordinatedByDead = await groupCoordinatedBy(c, 2);
      // The first case runs on a fresh cluster, whose three brokers share the coordinators.
      if (windows === 'process') expect(coordinatedByDead).toBeDefined();
      await killBroker(2);
      mkdirSync(join(base, windows), { recursive: true });
      const lakeRoot = join(base, windows, 'lake');
      const etl = EtlProcess.start(
        etlEnv(c, {
          lakeRoot,
          checkpointRoot: join(base, windows, 'checkpoints'),
          extra: { ...clusterEnv, SDP_ETL__WINDOWS: windows, SDP_ETL__MAX_FILE_AGE: '2s' },
        }),
        { logFile: join(base, windows, 'etl.log') },
      );
      const reads = sessionReads(c, coordinatedByDead);
      reads.catch(() => undefined); // awaited below, after the ETL is stopped
      try {
        await waitFor(
          async () => {
            if (!etl.running) throw new Error(`etl exited:\n${etl.tail(20)}`);
            const lake = await openLake(lakeRoot);
            const count = async (table: string): Promise<number> =>
              lake.scalar(`SELECT count(*) FROM ${lake.table(table)}`).catch(() => 0);
            try {
              return (await count('clickstream')) === CLICKS && (await count('iot')) === READINGS;
            } finally {
              lake.close();
            }
          },
          150_000,
          'every event in the lake',
          1_000,
        );
      } finally {
        expect(await etl.terminate(), etl.tail(30)).toEqual({ code: 0, signal: null });
      }
      expect(etl.logs.some((l) => l.msg?.startsWith('a partition leader is not reachable'))).toBe(true);
      // The log ends were read while broker 2 still led some of their partitions: the session waited the move out.
      const warnings = await reads;
      const waited = (what: string): boolean => warnings.some((w) => w.includes(what) && w.includes('not reachable'));
      expect(waited('reading log end offsets')).toBe(true);
      if (coordinatedByDead) expect(waited(`describing consumer group ${coordinatedByDead}`)).toBe(true);
    },
  );
});
