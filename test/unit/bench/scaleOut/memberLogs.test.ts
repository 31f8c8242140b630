import { describe, expect, it } from 'vitest';
import {
  failover,
  heldAt,
  type MemberEvent,
  parseMemberLog,
  rebalancePauses,
  throughput,
} from '../../../../bench/scaleOut/memberLogs.js';

const T = Date.UTC(2026, 11, 5, 12, 0, 0);
const at = (s: number): string => new Date(T + s * 1000).toISOString();
const line = (s: number, fields: Record<string, unknown>): string =>
  JSON.stringify({ level: 30, time: at(s), ...fields });

describe('parseMemberLog', () => {
  it('reads assignments, takeovers, rejoins and metrics, and skips everything else', () => {
    const text = [
      '--- 2026-12-05T12:00:00.000Z start #1: etl',
      line(1, { component: 'ingest', topic: 'clicks', msg: 'partitions assigned', assigned: [0, 1], revoked: [] }),
      line(2, { component: 'ingest', topic: 'clicks', msg: 'partition reading', partition: 1, start_offset: '0' }),
      line(3, { component: 'kafkajs', namespace: 'Runner', msg: 'The group is rebalancing, re-joining' }),
      line(4, {
        component: 'etl',
        events_per_s: { clicks: 900, iot: 450 },
        lag: { clicks: 10, iot: null },
        msg: 'etl metrics (behind)',
      }),
      line(5, { component: 'kafkajs', namespace: 'ConsumerGroup', msg: 'Topic has been updated, resync group' }),
      line(6, { component: 'lake-writer', msg: 'roll committed', rows: 90 }),
      '{"broken',
      '',
    ].join('\n');
    expect(parseMemberLog(text, 2)).toEqual([
      { kind: 'assigned', member: 2, atMs: T + 1000, topic: 'clicks', partitions: [0, 1] },
      { kind: 'reading', member: 2, atMs: T + 2000, topic: 'clicks', partition: 1 },
      { kind: 'rebalancing', member: 2, atMs: T + 3000 },
      { kind: 'metrics', member: 2, atMs: T + 4000, eventsPerSecond: 1350, lag: 10 },
      { kind: 'rebalancing', member: 2, atMs: T + 5000 },
    ]);
  });
});

// Members 1 and 2 share clicks (4 partitions) and iot (2); member 1 is killed at 30 s, the session timeout passes,
// member 2 rebalances at 41 s, is assigned everything at 43 s and reads member 1's partitions from 44 s.
const events: MemberEvent[] = [
  { kind: 'assigned', member: 1, atMs: T + 10_000, topic: 'clicks', partitions: [0, 1] },
  { kind: 'assigned', member: 1, atMs: T + 10_000, topic: 'iot', partitions: [0] },
  { kind: 'assigned', member: 2, atMs: T + 10_000, topic: 'clicks', partitions: [2, 3] },
  { kind: 'assigned', member: 2, atMs: T + 10_000, topic: 'iot', partitions: [1] },
  { kind: 'reading', member: 2, atMs: T + 11_000, topic: 'clicks', partition: 2 },
  { kind: 'metrics', member: 1, atMs: T + 20_000, eventsPerSecond: 100, lag: 5 },
  { kind: 'metrics', member: 2, atMs: T + 20_000, eventsPerSecond: 40, lag: 0 },
  { kind: 'metrics', member: 2, atMs: T + 25_000, eventsPerSecond: 60, lag: 7 },
  { kind: 'rebalancing', member: 2, atMs: T + 41_000 },
  { kind: 'rebalancing', member: 2, atMs: T + 41_100 },
  { kind: 'assigned', member: 2, atMs: T + 42_500, topic: 'iot', partitions: [0, 1] },
  { kind: 'assigned', member: 2, atMs: T + 43_000, topic: 'clicks', partitions: [0, 1, 2, 3] },
  { kind: 'reading', member: 2, atMs: T + 44_000, topic: 'clicks', partition: 1 },
  { kind: 'reading', member: 2, atMs: T + 44_500, topic: 'iot', partition: 0 },
  { kind: 'reading', member: 2, atMs: T + 45_000, topic: 'clicks', partition: 0 },
  { kind: 'metrics', member: 2, atMs: T + 50_000, eventsPerSecond: 170, lag: 0 },
  // A third member's log comes after the second's, its reading earlier: the earliest counts, not the first listed.
  { kind: 'reading', member: 3, atMs: T + 43_500, topic: 'iot', partition: 0 },
];

describe('heldAt and failover', () => {
  it('knows what a member held when it left', () => {
    expect(heldAt(events, 1, T + 30_000)).toEqual(
      new Map([
        ['clicks', [0, 1]],
        ['iot', [0]],
      ]),
    );
    expect(heldAt(events, 1, T + 5_000)).toEqual(new Map());
  });

  it('times the first and the last of its partitions read again by another member', () => {
    expect(failover(events, 1, T + 30_000)).toEqual({ partitions: 3, firstMs: 13_500, allMs: 15_000 });
  });

  it('leaves allMs out while a partition is not read again, and firstMs while none is', () => {
    const partly = events.filter((e) => !(e.kind === 'reading' && e.partition === 0 && e.topic === 'clicks'));
    expect(failover(partly, 1, T + 30_000)).toEqual({ partitions: 3, firstMs: 13_500 });
    expect(failover(events, 1, T + 46_000)).toEqual({ partitions: 3 });
  });
});

describe('rebalancePauses', () => {
  it('times each member from its first rebalancing line to the assignment of every topic it consumed', () => {
    expect(rebalancePauses(events, [1, 2], T + 30_000)).toEqual([{ member: 2, pauseMs: 2_000, afterMs: 11_000 }]);
    expect(rebalancePauses(events, [2], T + 30_000, T + 40_000)).toEqual([]);
  });
});

describe('throughput', () => {
  it('adds the members’ mean rates in a time span, and their last lags', () => {
    expect(throughput(events, T, T + 30_000)).toEqual({ eventsPerSecond: 150, lag: 12, members: 2 });
    expect(throughput(events, T + 30_000, T + 60_000)).toEqual({ eventsPerSecond: 170, lag: 0, members: 1 });
    expect(throughput(events, T + 60_000, T + 70_000)).toEqual({ eventsPerSecond: 0, lag: 0, members: 0 });
  });
});
