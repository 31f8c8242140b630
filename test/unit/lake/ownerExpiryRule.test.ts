import { describe, expect, it } from 'vitest';
import {
  aggFileName,
  aggTaskFileName,
  aggTaskUnit,
  rawFileName,
  rawUnit,
  rejectedFileName,
  rejectedUnit,
} from '../../../src/lake/layout.js';
import {
  dtDirRemovable,
  type ExpiryOwner,
  ownerRecordName,
  planOwnerExpiry,
} from '../../../src/lake/ownerExpiryRule.js';

const NOW = Date.parse('2026-12-10T08:00:00Z');
// Retention 3 days: dt 2026-12-06 ended 2026-12-07T00:00Z, 3 d 8 h ago (expires); 2026-12-07 ended 2 d 8 h ago (kept).
const OLD = '2026-12-06';
const OLDER = '2026-12-01';
const KEPT = '2026-12-07';
const TODAY = '2026-12-10';

const raw = (table: string, dt: string, p: number, first: number, last: number) =>
  `tables/${table}/dt=${dt}/${rawUnit(p)}/${rawFileName(p, first, last)}`;
const rej = (dt: string, topic: string, p: number, first: number, last: number) =>
  `tables/_rejected/dt=${dt}/${rejectedUnit(topic, p)}/${rejectedFileName(topic, p, first, last)}`;
const agg = (dt: string, seq: number) => `tables/clickstream_agg/dt=${dt}/agg/${aggFileName(seq)}`;
const task = (dt: string, r: number, first: number, last: number) =>
  `tables/clickstream_agg/dt=${dt}/${aggTaskUnit(r)}/${aggTaskFileName(r, first, last)}`;

/** A lake of two partitions of `clicks` and one of `sensors`, process and members window files, tmp files. */
const LAKE = [
  raw('clickstream', OLDER, 1, 0, 9),
  raw('clickstream', OLD, 1, 10, 19),
  raw('clickstream', OLD, 1, 40, 49), // a late event's roll into the old day
  raw('clickstream', KEPT, 1, 20, 29),
  raw('clickstream', TODAY, 1, 30, 39),
  rej(OLD, 'clicks', 1, 10, 19),
  rej(TODAY, 'clicks', 1, 30, 39),
  raw('clickstream', OLD, 2, 0, 5), // another partition's unit
  rej(OLD, 'clicks', 2, 0, 5),
  rej(OLD, 'sensors', 1, 0, 3), // the same partition number of another topic
  raw('iot', OLD, 1, 0, 7),
  `tables/clickstream/dt=${OLD}/.${rawFileName(1, 50, 59)}.abc.tmp`, // a roll in flight: in the dt directory
  `tables/clickstream/dt=${OLD}/_manifest.json`,
  agg(OLD, 7),
  agg(TODAY, 9),
  task(OLD, 1, 0, 4),
  task(OLD, 2, 0, 4),
].map((path, i) => ({ path, sizeBytes: 100 + i }));

const clicks1: ExpiryOwner = { kind: 'partition', topic: 'clicks', partition: 1, table: 'clickstream' };

describe('planOwnerExpiry: which files of which dts an owner deletes', () => {
  it("a partition's owner: its raw and _rejected units of the expired dts, whole, and nothing else", () => {
    const plan = planOwnerExpiry(LAKE, clicks1, NOW, 3);
    expect(plan.expiring.map((u) => [u.table, u.dt, u.unit, u.files])).toEqual([
      ['_rejected', OLD, rejectedUnit('clicks', 1), [rej(OLD, 'clicks', 1, 10, 19)]],
      ['clickstream', OLDER, rawUnit(1), [raw('clickstream', OLDER, 1, 0, 9)]],
      ['clickstream', OLD, rawUnit(1), [raw('clickstream', OLD, 1, 10, 19), raw('clickstream', OLD, 1, 40, 49)]],
    ]);
    expect(plan.expiring[2]!.bytes).toBe(101 + 102);
    // The files that stay block coalescing in the record: its own only, in the dts kept.
    expect(plan.remaining).toEqual([
      rej(TODAY, 'clicks', 1, 30, 39),
      raw('clickstream', KEPT, 1, 20, 29),
      raw('clickstream', TODAY, 1, 30, 39),
    ]);
  });

  it('the boundary: a dt whose day ended exactly N days ago stays', () => {
    const endOfOld = Date.parse(`${KEPT}T00:00:00Z`);
    expect(planOwnerExpiry(LAKE, clicks1, endOfOld + 3 * 86_400_000, 3).expiring.map((u) => u.dt)).toEqual([OLDER]);
    expect(planOwnerExpiry(LAKE, clicks1, endOfOld + 3 * 86_400_000 + 1, 3).expiring.map((u) => u.dt)).toContain(OLD);
  });

  it('an iot partition owner: the iot unit and its own _rejected unit only', () => {
    const plan = planOwnerExpiry(LAKE, { kind: 'partition', topic: 'sensors', partition: 1, table: 'iot' }, NOW, 3);
    expect(plan.expiring.flatMap((u) => u.files)).toEqual([rej(OLD, 'sensors', 1, 0, 3), raw('iot', OLD, 1, 0, 7)]);
  });

  it('the process aggregator: its agg units and every r<r> unit (no stage-2 task writes in process mode)', () => {
    expect(planOwnerExpiry(LAKE, { kind: 'aggregator' }, NOW, 3).expiring.flatMap((u) => u.files)).toEqual([
      agg(OLD, 7),
      task(OLD, 1, 0, 4),
      task(OLD, 2, 0, 4),
    ]);
  });

  it('stage-2 task r: its r<r> units; task 0 also agg and the r<r> at or past the partition count', () => {
    expect(planOwnerExpiry(LAKE, { kind: 'task', partition: 2 }, NOW, 3).expiring.flatMap((u) => u.files)).toEqual([
      task(OLD, 2, 0, 4),
    ]);
    expect(
      planOwnerExpiry(LAKE, { kind: 'task', partition: 2, partitions: 2 }, NOW, 3).expiring.flatMap((u) => u.files),
    ).toEqual([task(OLD, 2, 0, 4)]);
    // R = 2: r2 has no task any more (R shrank by a new repartition topic), agg none since members mode.
    expect(
      planOwnerExpiry(LAKE, { kind: 'task', partition: 0, partitions: 2 }, NOW, 3).expiring.flatMap((u) => u.files),
    ).toEqual([agg(OLD, 7), task(OLD, 2, 0, 4)]);
    // R = 3: r1 and r2 are running tasks' units.
    expect(
      planOwnerExpiry(LAKE, { kind: 'task', partition: 0, partitions: 3 }, NOW, 3).expiring.flatMap((u) => u.files),
    ).toEqual([agg(OLD, 7)]);
    // The partition count unknown: nothing but its own (none here).
    expect(planOwnerExpiry(LAKE, { kind: 'task', partition: 0 }, NOW, 3).expiring).toEqual([]);
  });

  it('nothing when no dt is old enough, or for an owner with no files', () => {
    expect(planOwnerExpiry(LAKE, clicks1, NOW, 30).expiring).toEqual([]);
    expect(planOwnerExpiry(LAKE, { kind: 'task', partition: 9 }, NOW, 1).expiring).toEqual([]);
  });
});

describe('the owners around a plan', () => {
  it('every owner has a record file of its own', () => {
    const names = [
      clicks1,
      { kind: 'partition', topic: 'clicks', partition: 2, table: 'clickstream' },
      { kind: 'partition', topic: 'sensors', partition: 1, table: 'iot' },
      { kind: 'partition', topic: 'agg', partition: 1, table: 'iot' },
      { kind: 'partition', topic: 'r1', partition: 1, table: 'iot' },
      { kind: 'task', partition: 1 },
      { kind: 'aggregator' },
    ].map((o) => ownerRecordName(o as ExpiryOwner));
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.endsWith('.json') && !n.includes('/'))).toBe(true);
  });

  it('an expired dt directory goes when nothing but its manifest is left', () => {
    expect(dtDirRemovable([])).toBe(true);
    expect(dtDirRemovable(['_manifest.json'])).toBe(true);
    expect(dtDirRemovable(['_manifest.json', 'p2'])).toBe(false);
    expect(dtDirRemovable([`.${rawFileName(1, 50, 59)}.abc.tmp`])).toBe(false);
  });
});
