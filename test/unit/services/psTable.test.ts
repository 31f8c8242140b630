import { describe, expect, it } from 'vitest';
import {
  allUp,
  formatDuration,
  localMemberIds,
  renderGroup,
  renderPs,
  underReplicatedByLeader,
  type BrokerRow,
  type GroupView,
  type MemberRow,
  type PlatformRow,
} from '../../../src/services/psTable.js';
import type { GroupMember } from '../../../src/kafka/admin/groupMembers.js';

const brokers: BrokerRow[] = [
  { name: 'kafka-1', nodeId: 1, port: 19092, process: 'pid 101', up: true, underReplicated: 0 },
  { name: 'kafka-2', nodeId: 2, port: 29092, process: 'pid 102', up: true, underReplicated: 3 },
  { name: 'kafka-3', nodeId: null, port: 39092, up: false, underReplicated: null },
];
const platform: PlatformRow = {
  state: 'ready',
  pid: 555,
  port: 8081,
  uptimeSeconds: 312,
  lastCheckpointAgeSeconds: 4.2,
  streams: [
    { name: 'clickstream', producedPerSecond: 120, processedPerSecond: 119.84, lag: 12 },
    { name: 'iot', producedPerSecond: 60, processedPerSecond: null, lag: null },
  ],
};

describe('renderPs', () => {
  it('one table: a row per broker, the platform, a row per stream, columns aligned', () => {
    const lines = renderPs(brokers, platform).split('\n');
    expect(lines[0]).toMatch(
      /^SERVICE\s+NODE\s+PORT\s+PID\/CONTAINER\s+STATE\s+UNDER-REPLICATED\s+UPTIME\s+EVENTS\/S PRODUCED\/PROCESSED\s+LAG\s+LAST CHECKPOINT$/,
    );
    expect(lines[1]).toMatch(/^kafka-1\s+1\s+19092\s+pid 101\s+up\s+0\s+-/);
    expect(lines[2]).toMatch(/^kafka-2\s+2\s+29092\s+pid 102\s+up\s+3\s+-/);
    expect(lines[3]).toMatch(/^kafka-3\s+-\s+39092\s+-\s+down\s+-/);
    expect(lines[4]).toMatch(/^platform\s+-\s+8081\s+pid 555\s+ready\s+-\s+5m 12s\s+-\s+-\s+4s ago$/);
    expect(lines[5]).toMatch(/^ {2}clickstream\s.*120 \/ 119\.8\s+12\s+-$/);
    expect(lines[6]).toMatch(/^ {2}iot\s.*60 \/ -\s+-\s+-$/);
    // Every column starts at the same offset on every line.
    const stateColumn = lines[0]!.indexOf('STATE');
    for (const line of lines.slice(1, 5)) expect(line.slice(stateColumn).split(/\s/)[0]).toMatch(/^(up|down|ready)$/);
  });

  it('a platform without a checkpoint yet, and a stopped one', () => {
    expect(renderPs([], { ...platform, lastCheckpointAgeSeconds: null, streams: [] })).toMatch(/none yet$/m);
    expect(renderPs([], { state: 'stopped', streams: [] }).split('\n')[1]).toMatch(/^platform\s+-\s+-\s+-\s+stopped/);
  });
});

describe('renderPs with the ETL members of services scale', () => {
  const member: MemberRow = {
    index: 2,
    state: 'ready',
    pid: 777,
    port: 8083,
    uptimeSeconds: 65,
    lastCheckpointAgeSeconds: null,
    streams: [{ name: 'clickstream', producedPerSecond: null, processedPerSecond: 40, lag: 3 }],
  };

  it('a row per member after the platform, its streams under it, nothing produced', () => {
    const lines = renderPs(brokers, platform, [
      member,
      { index: 3, state: 'stale pid file', pid: 9, streams: [] },
    ]).split('\n');
    expect(lines[7]).toMatch(/^member-2\s+-\s+8083\s+pid 777\s+ready\s+-\s+1m 5s\s+-\s+-\s+none yet$/);
    expect(lines[8]).toMatch(/^ {2}clickstream\s.*- \/ 40\s+3\s+-$/);
    expect(lines[9]).toMatch(/^member-3\s+-\s+-\s+pid 9\s+stale pid file/);
  });

  it('ps exits 0 only when every member listed is ready too', () => {
    const up = brokers.map((b) => ({ ...b, up: true }));
    expect(allUp(up, platform, [member])).toBe(true);
    expect(allUp(up, platform, [member, { ...member, index: 3, state: 'not answering' }])).toBe(false);
  });
});

describe('allUp: the exit code of ps', () => {
  it('only when every broker is up and the platform is ready', () => {
    const up = brokers.map((b) => ({ ...b, up: true }));
    expect(allUp(up, platform)).toBe(true);
    expect(allUp(brokers, platform)).toBe(false);
    expect(allUp(up, { ...platform, state: 'starting' })).toBe(false);
    expect(allUp(up, { state: 'stale pid file', streams: [] })).toBe(false);
    expect(allUp([], platform)).toBe(false);
  });
});

describe('underReplicatedByLeader', () => {
  it('counts partitions whose ISR is smaller than their replicas, per leader; leaderless ones are skipped', () => {
    const counts = underReplicatedByLeader([
      {
        partitions: [
          { leader: 1, replicas: [1, 2], isr: [1] },
          { leader: 2, replicas: [2, 3], isr: [2, 3] },
          { leader: -1, replicas: [3], isr: [] },
        ],
      },
      {
        partitions: [
          { leader: 1, replicas: [1, 3], isr: [1] },
          { leader: 2, replicas: [2, 1, 3], isr: [2, 1] },
        ],
      },
    ]);
    expect([...counts].sort()).toEqual([
      [1, 2],
      [2, 1],
    ]);
  });
});

describe('formatDuration', () => {
  it('seconds, minutes, hours, days', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.9)).toBe('59s');
    expect(formatDuration(61)).toBe('1m 1s');
    expect(formatDuration(3 * 3600 + 125)).toBe('3h 2m');
    expect(formatDuration(2 * 86_400 + 3600)).toBe('2d 1h');
  });
});

describe('the consumer group table', () => {
  const members: GroupMember[] = [
    {
      memberId: 'a',
      clientId: 'sdp-etl-clickstream',
      host: '/127.0.0.1',
      assignment: [{ topic: 'c', partitions: [0, 1] }],
    },
    {
      memberId: 'b',
      clientId: 'sdp-etl-clickstream',
      host: '/10.1.1.1',
      assignment: [{ topic: 'c', partitions: [2, 3] }],
    },
    { memberId: 'c', clientId: 'sdp-etl-iot', host: '/127.0.0.1', assignment: [] },
  ];
  const view: GroupView = {
    groupId: 'etl',
    members: { groupId: 'etl', state: 'Stable', protocolType: 'consumer', protocol: 'x', members },
  };

  it('one row per member with its partitions; the marked rows say this platform', () => {
    const lines = renderGroup(view, new Map([['a', 'this platform']])).split('\n');
    expect(lines[0]).toBe('consumer group etl (Stable)');
    expect(lines[1]).toMatch(/^CLIENT ID\s+HOST\s+PARTITIONS$/);
    expect(lines[2]).toMatch(/^sdp-etl-clickstream\s+127\.0\.0\.1\s+c 0,1\s+<- this platform$/);
    expect(lines[3]).toMatch(/^sdp-etl-clickstream\s+10\.1\.1\.1\s+c 2,3$/);
    expect(lines[4]).toMatch(/^sdp-etl-iot\s+127\.0\.0\.1\s+-$/);
  });

  it('an empty group and an unreachable Kafka are one line each', () => {
    const empty: GroupView = { groupId: 'etl', members: { ...view.members, state: 'Empty', members: [] } };
    expect(renderGroup(empty)).toBe('consumer group etl (Empty): no members');
    expect(renderGroup({ groupId: 'etl', error: 'Kafka is unreachable' })).toBe(
      'consumer group etl: not known (Kafka is unreachable)',
    );
  });

  it('marks the local ETL members of services scale by name', () => {
    const withMember: GroupView = {
      groupId: 'etl',
      members: {
        ...view.members,
        members: [{ memberId: 'm', clientId: 'sdp-member-2-etl-iot', host: '/127.0.0.1', assignment: [] }],
      },
    };
    expect(renderGroup(withMember, new Map([['m', 'member 2']])).split('\n')[2]).toMatch(
      /^sdp-member-2-etl-iot\s+127\.0\.0\.1\s+-\s+<- member 2$/,
    );
  });

  it("marks this machine's ETL members, and none when two local members share a client id", () => {
    const local = new Set(['127.0.0.1']);
    expect([...localMemberIds(members, 'sdp-etl-', local)].sort()).toEqual(['a', 'c']);
    expect(localMemberIds(members, 'other-etl-', local).size).toBe(0);
    const twoLocal = [...members, { ...members[1]!, memberId: 'd', host: '/127.0.0.1' }];
    expect(localMemberIds(twoLocal, 'sdp-etl-', local).size).toBe(0);
  });
});
