import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fsPromises from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expireOwnedFiles } from '../../../src/etl/ownerExpiry.js';
import { readExpiryRecord, writeExpiryRecord } from '../../../src/lake/expiryRecordFile.js';
import { emptyExpiryRecord, mergeExpiry } from '../../../src/lake/expiryRecord.js';
import { rawFileName, rawUnit, rejectedFileName, rejectedUnit } from '../../../src/lake/layout.js';

const NOW = Date.parse('2026-12-10T08:00:00Z');
const OLD = '2026-12-05';
const TODAY = '2026-12-10';
const topics = { clickstream: 'clicks', iot: 'sensors' };
const owner = (partition: number) => ({ kind: 'partition', topic: 'clicks', partition, table: 'clickstream' }) as const;
const settings = (lakeRoot: string) => ({ lakeRoot, retentionDays: 3, topics, writer: 'ab12' });
const owned = (): boolean => true;

describe('expireOwnedFiles: one owner deletes its units of the expired dts, the record first', () => {
  let lake: string;
  let outside: string;
  const put = (rel: string, bytes = 10): void => {
    mkdirSync(dirname(join(lake, rel)), { recursive: true });
    writeFileSync(join(lake, rel), Buffer.alloc(bytes));
  };
  const raw = (dt: string, p: number, first: number, last: number) =>
    `tables/clickstream/dt=${dt}/${rawUnit(p)}/${rawFileName(p, first, last)}`;
  const rej = (dt: string, p: number, first: number, last: number) =>
    `tables/_rejected/dt=${dt}/${rejectedUnit('clicks', p)}/${rejectedFileName('clicks', p, first, last)}`;

  beforeEach(() => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-owner-expiry-'));
    lake = join(dir, 'lake');
    outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.parquet'), 'not the lake');
    put(raw(OLD, 0, 0, 9), 100);
    put(raw(OLD, 0, 10, 19), 50);
    put(rej(OLD, 0, 5, 5), 7);
    put(raw(TODAY, 0, 20, 29));
    put(raw(OLD, 1, 0, 4)); // partition 1's unit: another owner's
    put(`tables/clickstream/dt=${OLD}/_manifest.json`);
    put(`tables/_rejected/dt=${OLD}/_manifest.json`);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dirname(lake), { recursive: true, force: true });
  });
  const unitFiles = (dt: string, p: number): string[] =>
    readdirSync(join(lake, `tables/clickstream/dt=${dt}/${rawUnit(p)}`));

  it("deletes only its own units, records their ranges, and removes a dt directory once nobody's files are left", async () => {
    const outcome = await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    expect(outcome).toMatchObject({ dts: [OLD], files: 3, bytes: 157 });
    expect(outcome.tables).toEqual([
      { table: '_rejected', files: 1, bytes: 7 },
      { table: 'clickstream', files: 2, bytes: 150 },
    ]);
    expect(existsSync(join(lake, `tables/clickstream/dt=${OLD}/${rawUnit(0)}`))).toBe(false);
    // Partition 1 has files there still: the dt and its manifest stay. _rejected had only partition 0's: gone whole.
    expect(readdirSync(join(lake, `tables/clickstream/dt=${OLD}`)).sort()).toEqual(['_manifest.json', rawUnit(1)]);
    expect(existsSync(join(lake, `tables/_rejected/dt=${OLD}`))).toBe(false);
    expect(outcome.dtDirsRemoved).toBe(1);
    expect(existsSync(join(lake, raw(TODAY, 0, 20, 29)))).toBe(true);
    const own = JSON.parse(readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8'));
    expect(own).toMatchObject({ version: 1, dts: { clickstream: [OLD], _rejected: [OLD] } });
    expect(own.partitions.clicks['0']).toEqual({ floor: '19', ranges: [['0', '19']] });

    // The other owner's round: the last unit goes, and the dt directory with its manifest.
    expect(await expireOwnedFiles(settings(lake), owner(1), NOW, owned)).toMatchObject({ files: 1, dtDirsRemoved: 1 });
    expect(existsSync(join(lake, `tables/clickstream/dt=${OLD}`))).toBe(false);
    // Readers see both owners' records and lake expire's as one.
    const union = readExpiryRecord(lake)!;
    expect(union.dts.clickstream).toEqual([OLD]);
    expect([...union.partitions.get('clicks')!.keys()].sort()).toEqual([0, 1]);
  });

  it('two owners finishing the same dt at once: both rounds succeed and the dt directory goes', async () => {
    rmSync(join(lake, `tables/_rejected`), { recursive: true, force: true });
    // Only the two units in the old dt, each owner's last: both rounds see the manifest alone and remove it.
    const [a, b] = await Promise.all([
      expireOwnedFiles(settings(lake), owner(0), NOW, owned),
      expireOwnedFiles(settings(lake), owner(1), NOW, owned),
    ]);
    expect(a.files + b.files).toBe(3);
    expect(existsSync(join(lake, `tables/clickstream/dt=${OLD}`))).toBe(false);
  });

  it('a round after a crash past the record deletes what the record already names: same record, files gone', async () => {
    await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    const before = readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8');
    // As if killed after the record: the files come back (the deletion never happened).
    put(raw(OLD, 0, 0, 9), 100);
    put(raw(OLD, 0, 10, 19), 50);
    const again = await expireOwnedFiles(settings(lake), owner(0), NOW + 1_000, owned);
    expect(again.files).toBe(2);
    const after = JSON.parse(readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8'));
    expect(after.partitions).toEqual(JSON.parse(before).partitions);
    expect(after.dts).toEqual(JSON.parse(before).dts);
  });

  it('a round killed after its last unit of a dt, before the dt directory: the next round removes the empty dt', async () => {
    // As the kill at retention-between-units leaves it: the _rejected unit gone, its dt directory (and manifest) not.
    rmSync(join(lake, `tables/_rejected/dt=${OLD}/${rejectedUnit('clicks', 0)}`), { recursive: true });
    // Partition 0 has no unit left in _rejected's old dt, yet its round removes that directory; the other table's dt,
    // where partition 1 still has files, stays.
    const outcome = await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    expect(existsSync(join(lake, `tables/_rejected/dt=${OLD}`))).toBe(false);
    expect(outcome.dtDirsRemoved).toBe(1);
    expect(readdirSync(join(lake, `tables/clickstream/dt=${OLD}`)).sort()).toEqual(['_manifest.json', rawUnit(1)]);
    // The same with nothing of its own left anywhere: the round stops early, and still removes the leftover.
    put(`tables/_rejected/dt=${OLD}/_manifest.json`);
    const again = await expireOwnedFiles(settings(lake), owner(0), NOW + 1_000, owned);
    expect(again).toMatchObject({ files: 0, dtDirsRemoved: 1 });
    expect(existsSync(join(lake, `tables/_rejected/dt=${OLD}`))).toBe(false);
    expect(existsSync(join(lake, raw(OLD, 1, 0, 4)))).toBe(true);
  });

  it('a unit emptied by a round killed mid-unit (its files gone, its directory not): the next round removes both', async () => {
    // Rounds of several owners run side by side: a kill in one leaves another's unit emptied but still there.
    rmSync(join(lake, raw(OLD, 0, 0, 9)));
    rmSync(join(lake, raw(OLD, 0, 10, 19)));
    rmSync(join(lake, raw(OLD, 1, 0, 4)));
    rmSync(join(lake, `tables/_rejected/dt=${OLD}`), { recursive: true });
    expect(readdirSync(join(lake, `tables/clickstream/dt=${OLD}`)).sort()).toEqual([
      '_manifest.json',
      rawUnit(0),
      rawUnit(1),
    ]);
    await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    // Its own empty unit goes; partition 1's (empty too) is partition 1's round's, and keeps the dt until then.
    expect(readdirSync(join(lake, `tables/clickstream/dt=${OLD}`)).sort()).toEqual(['_manifest.json', rawUnit(1)]);
    expect(await expireOwnedFiles(settings(lake), owner(1), NOW, owned)).toMatchObject({ files: 0, dtDirsRemoved: 1 });
    expect(existsSync(join(lake, `tables/clickstream/dt=${OLD}`))).toBe(false);
    expect(existsSync(join(lake, raw(TODAY, 0, 20, 29)))).toBe(true);
  });

  it('a late roll into an expired dt goes at the next round, its range added', async () => {
    await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    put(raw(OLD, 0, 40, 41));
    expect((await expireOwnedFiles(settings(lake), owner(0), NOW, owned)).files).toBe(1);
    const own = JSON.parse(readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8'));
    // Coalesced over 20..39: only today's file 20..29 lies there, and it stays, so it blocks.
    expect(own.partitions.clicks['0']).toEqual({
      floor: '41',
      ranges: [
        ['0', '19'],
        ['40', '41'],
      ],
    });
  });

  it('a link inside an expired unit is unlinked, never followed; a unit that is a link stops the round', async () => {
    symlinkSync(outside, join(lake, `tables/clickstream/dt=${OLD}/${rawUnit(0)}/link-out`));
    await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    expect(readFileSync(join(outside, 'keep.parquet'), 'utf8')).toBe('not the lake');
    mkdirSync(join(lake, `tables/clickstream/dt=${OLD}`), { recursive: true });
    symlinkSync(outside, join(lake, `tables/clickstream/dt=${OLD}/${rawUnit(2)}`));
    writeFileSync(join(outside, rawFileName(2, 0, 1)), 'x');
    await expect(expireOwnedFiles(settings(lake), owner(2), NOW, owned)).rejects.toThrow(/symlink/);
    expect(readdirSync(outside).sort()).toEqual(['keep.parquet', rawFileName(2, 0, 1)]);
  });

  it("keeps lake expire's record beside the owners' and nothing of an owner is lost in the union", async () => {
    await writeExpiryRecord(
      lake,
      mergeExpiry({
        previous: emptyExpiryRecord(),
        deleted: [{ table: 'clickstream', dt: '2026-11-01', files: [raw('2026-11-01', 3, 0, 99)] }],
        remaining: [],
        topics,
        deletedAggEmittedUntilMs: undefined,
        nowMs: NOW - 86_400_000,
        retentionDays: 3,
      }),
    );
    await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    const union = readExpiryRecord(lake)!;
    expect(union.dts.clickstream).toEqual(['2026-11-01', OLD]);
    expect(union.partitions.get('clicks')!.get(3)!.floor).toBe(99n);
    expect(union.partitions.get('clicks')!.get(0)!.floor).toBe(19n);
  });

  it('an owner that lost its partition before the round writes nothing and deletes nothing', async () => {
    const outcome = await expireOwnedFiles(settings(lake), owner(0), NOW, () => false);
    expect(outcome).toMatchObject({ lost: true, files: 0, dts: [] });
    expect(existsSync(join(lake, '_expired'))).toBe(false);
    expect(unitFiles(OLD, 0)).toHaveLength(2);
  });

  it('lost while its record is written: the record stays as it was, its tmp file gone, nothing deleted', async () => {
    put(raw('2026-12-01', 0, 900, 909));
    await expireOwnedFiles(settings(lake), owner(0), Date.parse('2026-12-06T08:00:00Z'), owned);
    const before = readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8');
    let asked = 0;
    // Owned when the round starts, lost by the time the record would be renamed in.
    const outcome = await expireOwnedFiles(settings(lake), owner(0), NOW, () => ++asked === 1);
    expect(outcome).toMatchObject({ lost: true, files: 0 });
    expect(readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(lake, '_expired'))).toEqual(['p-clicks-0.json']);
    expect(unitFiles(OLD, 0)).toHaveLength(2);
  });

  it('lost after its record: no unit and no dt directory deleted from there on', async () => {
    let asked = 0;
    const outcome = await expireOwnedFiles(settings(lake), owner(0), NOW, () => ++asked <= 2);
    expect(outcome).toMatchObject({ lost: true, files: 0 });
    // The record names what it would have deleted: the next owner's round deletes it (as after a crash there).
    expect(existsSync(join(lake, '_expired', 'p-clicks-0.json'))).toBe(true);
    expect(unitFiles(OLD, 0)).toHaveLength(2);
    expect(existsSync(join(lake, rej(OLD, 0, 5, 5)))).toBe(true);
  });

  it("removes its own record's stale tmp files (any writer's), not another owner's", async () => {
    mkdirSync(join(lake, '_expired'));
    for (const name of ['p-clicks-0.json.ab12.tmp', 'p-clicks-0.json.dead01.tmp', 'p-clicks-1.json.dead01.tmp'])
      writeFileSync(join(lake, '_expired', name), '{');
    // No dt old enough: the round expires nothing, and still clears what a crash left.
    const outcome = await expireOwnedFiles({ ...settings(lake), retentionDays: 30 }, owner(0), NOW, owned);
    expect(outcome).toMatchObject({ files: 0, staleTmpRemoved: 2 });
    expect(readdirSync(join(lake, '_expired'))).toEqual(['p-clicks-1.json.dead01.tmp']);
  });

  it("an expired dt holding only other owners' units does not make the round list its own units", async () => {
    // Partition 0 is done with the old day; partition 1 has not run its round yet.
    await expireOwnedFiles(settings(lake), owner(0), NOW, owned);
    for (const dt of ['2026-12-08', '2026-12-09']) put(raw(dt, 0, 30, 39));
    const readdir = vi.spyOn(fsPromises, 'readdir');
    expect((await expireOwnedFiles(settings(lake), owner(0), NOW, owned)).files).toBe(0);
    const read = readdir.mock.calls.map(([dir]) => String(dir));
    // The dt directories' names, and the old dt's entries; no unit of partition 0 opened.
    expect(read.filter((dir) => dir.includes(`/${rawUnit(0)}`))).toEqual([]);
    expect(read).toContain(join(lake, `tables/clickstream/dt=${OLD}`));
  });

  it('the dt directory goes through the safe path: made a link meanwhile, nothing outside is touched', async () => {
    rmSync(join(lake, `tables/_rejected`), { recursive: true, force: true });
    rmSync(join(lake, `tables/clickstream/dt=${OLD}/${rawUnit(1)}`), { recursive: true });
    writeFileSync(join(outside, '_manifest.json'), 'not the lake');
    const dtDir = join(lake, `tables/clickstream/dt=${OLD}`);
    let asked = 0;
    // Asked before each unit and before the dt directory: at the last, the dt directory becomes a link to outside.
    const stillOwned = (): boolean => {
      if (++asked === 4) {
        rmSync(dtDir, { recursive: true });
        symlinkSync(outside, dtDir);
      }
      return true;
    };
    await expect(expireOwnedFiles(settings(lake), owner(0), NOW, stillOwned)).rejects.toThrow(/symlink/);
    expect(asked).toBe(4);
    expect(readdirSync(outside).sort()).toEqual(['_manifest.json', 'keep.parquet']);
  });
});
