/**
 * `make scale N=2 → ps → scale N=1 → down` against the shared cluster, as an operator runs it: two ETL
 * members (`etl`, detached) on this test's own topics, group, lake, checkpoint root and run dir under /tmp,
 * status ports 20481 and 20482 (ui.status_port 20480, from this test's port block). Both must join the group
 * and hold partitions (DescribeGroups, and `ps`); scaling to one stops member 2 gracefully (exit 0 in its
 * log) while member 1 takes every partition; `down` stops the last one. No process outlives the file.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { fetchGroupMembers, type GroupMembers } from '../../../src/kafka/admin/groupMembers.js';
import { readPidFile } from '../../../src/services/pidFile.js';
import { loggedExitCode } from '../../../src/services/platformService.js';
import { readRootMarker } from '../../../src/storage/rootMarker.js';
import { isPidAlive } from '../../../src/system/processes.js';
import { withAdmin } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { runCli } from '../helpers/runCli.js';
import { runMake } from '../helpers/runMake.js';
import { testLogger } from '../helpers/testLogger.js';
import { waitFor } from '../helpers/waitFor.js';

const STATUS_PORT = 20480;
const config = loadTestConfig();
const base = mkdtempSync(join(tmpdir(), 'sdp-scale-'));
const runDir = join(base, 'run');
const checkpointRoot = join(base, 'checkpoints');
const env = {
  // The running cluster plays one started elsewhere: this checkout's broker data dir is an empty one.
  SDP_KAFKA__LOCAL__DATA_DIR: join(base, 'kafka'),
  SDP_TOPICS__CLICKSTREAM: config.topics.clickstream,
  SDP_TOPICS__IOT: config.topics.iot,
  SDP_ETL__CONSUMER_GROUP: config.etl.consumer_group,
  SDP_STORAGE__DATALAKE_ROOT: join(base, 'lake'),
  SDP_STORAGE__CHECKPOINT_ROOT: checkpointRoot,
  SDP_SERVICES__RUN_DIR: runDir,
  SDP_UI__STATUS_PORT: String(STATUS_PORT),
  SDP_LOG__LEVEL: 'info',
};
const memberRunDir = (i: number) => join(runDir, 'members', String(i));
const memberLog = (i: number) => join(memberRunDir(i), 'etl.log');

/** Every pid a member pid file of this test ever named: afterAll kills whichever still lives. */
const seenPids = new Set<number>();
function memberPid(i: number): number | undefined {
  const pid = readPidFile(memberRunDir(i))?.pid;
  if (pid !== undefined) seenPids.add(pid);
  return pid;
}

function describeGroup(): Promise<GroupMembers> {
  return fetchGroupMembers(config, testLogger(), config.etl.consumer_group, 10_000);
}

/** Partitions of each topic per member index, from the members' client ids (`sdp-member-<i>-etl-<topic>`). */
function partitionsByMember(group: GroupMembers): Map<number, Map<string, number[]>> {
  const byMember = new Map<number, Map<string, number[]>>();
  for (const m of group.members) {
    const index = Number(new RegExp(`^${config.kafka.client_id}-member-(\\d+)-etl-`).exec(m.clientId)?.[1]);
    if (!Number.isInteger(index)) continue;
    const topics = byMember.get(index) ?? new Map<string, number[]>();
    for (const a of m.assignment) topics.set(a.topic, [...(topics.get(a.topic) ?? []), ...a.partitions]);
    byMember.set(index, topics);
  }
  return byMember;
}

const all = Array.from({ length: config.kafka.partitions }, (_, p) => p);

describe('make scale: N local ETL members in one group on one lake', () => {
  afterAll(async () => {
    for (const i of existsSync(join(runDir, 'members')) ? readdirSync(join(runDir, 'members')) : []) {
      memberPid(Number(i));
    }
    if ([...seenPids].some(isPidAlive)) await runCli(['services', 'down'], env).catch(() => undefined);
    for (const pid of seenPids) if (isPidAlive(pid)) process.kill(pid, 'SIGKILL');
    await withAdmin(config, testLogger(), (admin) =>
      admin.deleteTopics({ topics: [config.topics.clickstream, config.topics.iot] }),
    ).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });

  it('make scale N=2: two members, each its own run dir, marked checkpoint store and status port', async () => {
    const result = await runMake(['scale', 'N=2'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ETL members: 2 asked, 0 running (none): starting 1, 2');
    expect(result.stdout).toMatch(/Kafka: a cluster already answers on .* using it/);
    expect(result.stdout).toMatch(/member 1: ready in \d+\.\d s \(pid \d+\)/);
    expect(result.stdout).toMatch(/member 2: ready in \d+\.\d s \(pid \d+\)/);
    for (const i of [1, 2]) {
      const port = STATUS_PORT + i;
      expect(result.stdout).toMatch(
        new RegExp(
          `^member-${i}\\s+\\d+\\s+http://127\\.0\\.0\\.1:${port}/\\s+${port}: ui\\.status_port \\+ ${i}\\s+${memberLog(i)}\\s+${join(checkpointRoot, 'members', String(i))}$`,
          'm',
        ),
      );
      const pid = memberPid(i)!;
      expect(isPidAlive(pid)).toBe(true);
      expect(readPidFile(memberRunDir(i))!.commandLine).toMatch(
        new RegExp(`main\\.js etl --log-file ${memberLog(i)}$`),
      );
      // The platform's arenas setting (services/platformRuntime.ts), its own client id and store.
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain('MALLOC_ARENA_MAX=2');
      expect(environ).toContain(`SDP_KAFKA__CLIENT_ID=${config.kafka.client_id}-member-${i}`);
      expect(environ).toContain('SDP_ETL__WINDOWS=members');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(readRootMarker(join(checkpointRoot, 'members', String(i)))).toMatchObject({
        status: 'ok',
        marker: { kind: 'checkpoints' },
      });
    }
    expect(readRootMarker(checkpointRoot)).toMatchObject({ status: 'ok', marker: { kind: 'checkpoints' } });
    // Members compute the windows across members: nothing to warn about without a platform of `make up`.
    expect(result.stdout).not.toMatch(/^note: .*windows/m);
  });

  it('both members joined the group and hold partitions of both topics; ps lists them and marks them', async () => {
    await waitFor(
      async () => {
        const group = await describeGroup();
        const byMember = partitionsByMember(group);
        if (group.state !== 'Stable' || byMember.size !== 2) return false;
        return [config.topics.clickstream, config.topics.iot].every((topic) => {
          const held = [1, 2].map((i) => byMember.get(i)?.get(topic) ?? []);
          return held.every((p) => p.length > 0) && [...held.flat()].sort().join() === all.join();
        });
      },
      45_000,
      'two members sharing every partition of both topics',
      500,
    );
    const ps = await runCli(['services', 'ps'], env);
    // No platform runs here: ps says so with exit 1, and still lists the members.
    expect(ps.code).toBe(1);
    expect(ps.stdout).toMatch(/^platform\s+-\s+-\s+-\s+stopped/m);
    for (const i of [1, 2]) {
      expect(ps.stdout).toMatch(
        new RegExp(`^member-${i}\\s+-\\s+${STATUS_PORT + i}\\s+pid ${memberPid(i)}\\s+ready\\s+-\\s+\\d+s`, 'm'),
      );
      expect(ps.stdout).toMatch(
        new RegExp(`^${config.kafka.client_id}-member-${i}-etl-${config.topics.clickstream}\\s.*<- member ${i}$`, 'm'),
      );
    }
    expect(ps.stderr).toContain(ErrorCodes.SERVICES_NOT_ALL_UP);
  });

  it('scale to the same N is a no-op that says so', async () => {
    const pids = [memberPid(1), memberPid(2)];
    const result = await runCli(['services', 'scale', '2'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ETL members: 2 asked, 2 running (1, 2): nothing to do');
    expect([memberPid(1), memberPid(2)]).toEqual(pids);
  });

  it('make scale N=1: member 2 stops gracefully (exit 0 in its log), member 1 takes every partition', async () => {
    const [one, two] = [memberPid(1)!, memberPid(2)!];
    const result = await runMake(['scale', 'N=1'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ETL members: 1 asked, 2 running (1, 2): stopping 2');
    expect(result.stdout).toContain(`member 2: sent SIGTERM to pid ${two}; waiting up to 30 s (etl.shutdown_timeout)`);
    expect(result.stdout).toMatch(
      /member 2: stopped after SIGTERM in \d+\.\d s, graceful shutdown \(last files committed, left the group\)/,
    );
    expect(isPidAlive(two)).toBe(false);
    expect(loggedExitCode(memberLog(2), two)).toBe(0);
    expect(existsSync(join(memberRunDir(2), 'sdp.pid'))).toBe(false);
    expect(isPidAlive(one)).toBe(true);
    await waitFor(
      async () => {
        const byMember = partitionsByMember(await describeGroup());
        return (
          byMember.size === 1 &&
          [config.topics.clickstream, config.topics.iot].every(
            (t) => [...(byMember.get(1)?.get(t) ?? [])].sort().join() === all.join(),
          )
        );
      },
      45_000,
      'member 1 alone holding every partition',
      500,
    );
  });

  it('clean refuses while a member runs; down stops it gracefully and leaves the cluster it did not start', async () => {
    const clean = await runCli(['data', 'clean', '--checkpoints', '--yes'], env);
    expect(clean.code).toBe(1);
    expect(clean.stderr).toContain(ErrorCodes.STORAGE_PLATFORM_RUNNING);
    expect(clean.stderr).toContain(`ETL member 1 runs in the background (pid ${memberPid(1)}`);

    const one = memberPid(1)!;
    const down = await runMake(['down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/member 1: stopped after SIGTERM in \d+\.\d s, graceful shutdown/);
    expect(down.stdout).toContain('platform: not running');
    expect(down.stdout).toMatch(/Kafka: the cluster on .* was not started by `make up`: left running/);
    expect(isPidAlive(one)).toBe(false);
    expect(loggedExitCode(memberLog(1), one)).toBe(0);
    expect(existsSync(join(memberRunDir(1), 'sdp.pid'))).toBe(false);
  });
});
