import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyTakeoverFiles } from '../../../src/etl/takeoverFiles.js';
import { emptyExpiryRecord, mergeExpiry } from '../../../src/lake/expiryRecord.js';
import { writeOwnerExpiryRecord } from '../../../src/lake/expiryRecordFile.js';
import { rawFilePath, tmpPathFor, unhiddenTmpPath } from '../../../src/lake/layout.js';
import { cleanUp, silentLogger, tempDir } from '../actors/fakes/testKit.js';

afterEach(cleanUp);

const final = rawFilePath('', 'clickstream', '2026-12-05', 1, '100', '199');

function lakeWith(files: readonly string[]): string {
  const lakeRoot = tempDir('sdp-takeover-files-');
  mkdirSync(join(lakeRoot, 'tables/clickstream/dt=2026-12-05'), { recursive: true });
  for (const f of files) writeFileSync(join(lakeRoot, f), 'rows');
  return lakeRoot;
}

const apply = (lakeRoot: string) =>
  applyTakeoverFiles({
    lakeRoot,
    renames: [{ from: tmpPathFor(final, 'cafe'), to: final }],
    deletes: [],
    fencedAtMs: Date.now(),
    logger: silentLogger,
    where: { partition: 1 },
  });

describe('applyTakeoverFiles: the renames a commit named', () => {
  it('renames the hidden tmp file of the commit', async () => {
    const lakeRoot = lakeWith([tmpPathFor(final, 'cafe')]);
    expect(await apply(lakeRoot)).toMatchObject({ renamed: 1, missing: 0 });
    expect(existsSync(join(lakeRoot, final))).toBe(true);
  });

  it('finds a tmp file written before tmp files were hidden (a commit made by the version before)', async () => {
    const legacy = unhiddenTmpPath(tmpPathFor(final, 'cafe'));
    // Beside the unit, in the dt directory, as every tmp file.
    expect(legacy).toBe(`${final.replace('/p1/', '/')}.cafe.tmp`);
    const lakeRoot = lakeWith([legacy]);
    expect(await apply(lakeRoot)).toMatchObject({ renamed: 1, missing: 0 });
    expect(existsSync(join(lakeRoot, final))).toBe(true);
    expect(existsSync(join(lakeRoot, legacy))).toBe(false);
  });

  it('counts a committed file that is neither tmp nor final as missing', async () => {
    expect(await apply(lakeWith([]))).toMatchObject({ renamed: 0, missing: 1 });
  });

  it('counts one in a dt its owner expired since as expired, not missing (an idle partition whose last roll aged out)', async () => {
    const lakeRoot = lakeWith([]);
    const ownRecord = mergeExpiry({
      previous: emptyExpiryRecord(),
      deleted: [{ table: 'clickstream', dt: '2026-12-05', files: [final] }],
      remaining: [],
      topics: { clickstream: 'clicks', iot: 'sensors' },
      deletedAggEmittedUntilMs: undefined,
      nowMs: Date.parse('2026-12-10T00:00:00Z'),
      retentionDays: 3,
    });
    await writeOwnerExpiryRecord(lakeRoot, 'p-clicks-1.json', ownRecord, 'cafe');
    expect(await apply(lakeRoot)).toMatchObject({ renamed: 0, missing: 0, expired: 1 });
  });
});
