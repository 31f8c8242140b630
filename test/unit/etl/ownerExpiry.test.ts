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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
  afterEach(() => rmSync(dirname(lake), { recursive: true, force: true }));

  it("deletes only its own units, records their ranges, and removes a dt directory once nobody's files are left", async () => {
    const outcome = await expireOwnedFiles(settings(lake), owner(0), NOW);
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
    expect(await expireOwnedFiles(settings(lake), owner(1), NOW)).toMatchObject({ files: 1, dtDirsRemoved: 1 });
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
      expireOwnedFiles(settings(lake), owner(0), NOW),
      expireOwnedFiles(settings(lake), owner(1), NOW),
    ]);
    expect(a.files + b.files).toBe(3);
    expect(existsSync(join(lake, `tables/clickstream/dt=${OLD}`))).toBe(false);
  });

  it('a round after a crash past the record deletes what the record already names: same record, files gone', async () => {
    await expireOwnedFiles(settings(lake), owner(0), NOW);
    const before = readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8');
    // As if killed after the record: the files come back (the deletion never happened).
    put(raw(OLD, 0, 0, 9), 100);
    put(raw(OLD, 0, 10, 19), 50);
    const again = await expireOwnedFiles(settings(lake), owner(0), NOW + 1_000);
    expect(again.files).toBe(2);
    const after = JSON.parse(readFileSync(join(lake, '_expired', 'p-clicks-0.json'), 'utf8'));
    expect(after.partitions).toEqual(JSON.parse(before).partitions);
    expect(after.dts).toEqual(JSON.parse(before).dts);
  });

  it('a late roll into an expired dt goes at the next round, its range added', async () => {
    await expireOwnedFiles(settings(lake), owner(0), NOW);
    put(raw(OLD, 0, 40, 41));
    expect((await expireOwnedFiles(settings(lake), owner(0), NOW)).files).toBe(1);
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
    await expireOwnedFiles(settings(lake), owner(0), NOW);
    expect(readFileSync(join(outside, 'keep.parquet'), 'utf8')).toBe('not the lake');
    mkdirSync(join(lake, `tables/clickstream/dt=${OLD}`), { recursive: true });
    symlinkSync(outside, join(lake, `tables/clickstream/dt=${OLD}/${rawUnit(2)}`));
    writeFileSync(join(outside, rawFileName(2, 0, 1)), 'x');
    await expect(expireOwnedFiles(settings(lake), owner(2), NOW)).rejects.toThrow(/symlink/);
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
    await expireOwnedFiles(settings(lake), owner(0), NOW);
    const union = readExpiryRecord(lake)!;
    expect(union.dts.clickstream).toEqual(['2026-11-01', OLD]);
    expect(union.partitions.get('clicks')!.get(3)!.floor).toBe(99n);
    expect(union.partitions.get('clicks')!.get(0)!.floor).toBe(19n);
  });
});
