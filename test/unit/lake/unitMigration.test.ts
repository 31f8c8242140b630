import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aggFilePath, aggTaskFilePath, rawFilePath, rejectedFilePath } from '../../../src/lake/layout.js';
import { inUnitPath, migrateToUnits, unitOfFile } from '../../../src/lake/unitMigration.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const DT = '2026-12-05';
// Every kind of final file, as layout.ts names it now (in its unit) and as it was named before units.
const finals = [
  rawFilePath('', 'clickstream', DT, 3, 0, 9),
  rawFilePath('', 'iot', DT, 0, 10, 19),
  rejectedFilePath('', DT, 'my.topic_v', 2, 0, 9),
  aggFilePath('', DT, 7),
  aggTaskFilePath('', DT, 1, 5, 9),
];
const flat = (final: string): string => join(dirname(dirname(final)), final.split('/').at(-1)!);

describe('unit of a file', () => {
  it('is the writer of its name: p<p>, p<p>-<topic>, agg, r<r>', () => {
    expect(finals.map((f) => f.split('/')[3])).toEqual(['p3', 'p0', 'p2-my.topic_v', 'agg', 'r1']);
    for (const final of finals) expect(inUnitPath(flat(final))).toBe(final);
    expect(unitOfFile('clickstream', 'notes.parquet')).toBeUndefined();
  });

  it('leaves a path in a unit, a tmp file and a name no writer gives as they are', () => {
    for (const path of [
      finals[0]!,
      `tables/clickstream/dt=${DT}/.part-3-00000000000000000000-00000000000000000009.parquet.ab.tmp`,
      `tables/clickstream/dt=${DT}/notes.parquet`,
      `tables/other/dt=${DT}/part-3-00000000000000000000-00000000000000000009.parquet`,
    ])
      expect(inUnitPath(path)).toBe(path);
  });
});

describe('migrateToUnits', () => {
  it('moves every final file of a lake from before units into its unit, once, and nothing else', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'sdp-units-'));
    roots.push(lake);
    const put = (rel: string): void => {
      mkdirSync(dirname(join(lake, rel)), { recursive: true });
      writeFileSync(join(lake, rel), rel);
    };
    for (const final of finals) put(flat(final));
    const tmp = `tables/clickstream/dt=${DT}/.part-3-00000000000000000010-00000000000000000019.parquet.ab.tmp`;
    const stray = `tables/clickstream/dt=${DT}/notes.parquet`;
    put(tmp);
    put(stray);

    expect(await migrateToUnits(lake)).toBe(finals.length);

    for (const final of finals) {
      expect(readFileSync(join(lake, final), 'utf8')).toBe(flat(final));
      expect(existsSync(join(lake, flat(final)))).toBe(false);
    }
    expect(existsSync(join(lake, tmp))).toBe(true);
    expect(existsSync(join(lake, stray))).toBe(true);
    expect(await migrateToUnits(lake)).toBe(0);
  });

  it('is a no-op on a lake that does not exist yet', async () => {
    expect(await migrateToUnits(join(tmpdir(), 'sdp-no-such-lake-xyz'))).toBe(0);
  });
});
