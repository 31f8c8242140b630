import { existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildManifest, type DayManifest } from '../../../src/lake/dayManifest.js';
import {
  manifestPath,
  readManifest,
  removeStaleManifestTmp,
  writeManifest,
} from '../../../src/lake/dayManifestFile.js';
import { partitionDir, rawFileName } from '../../../src/lake/layout.js';
import { tempDir } from '../actors/fakes/testKit.js';

const DT = '2026-12-01';

function sample(): DayManifest {
  const built = buildManifest({
    table: 'iot',
    dt: DT,
    entries: [
      {
        path: `p0/${rawFileName(0, 0, 9)}`,
        rows: 10,
        bytes: 100,
        partition: 0,
        first: '0',
        last: '9',
        sha256: 'a'.repeat(64),
        rejected_rows: 0,
      },
    ],
    previous: undefined,
    nowMs: Date.parse('2026-12-03T00:00:00Z'),
    watermarkBoundMs: Date.parse('2026-12-02T01:00:00Z'),
  });
  if (built.kind !== 'write') throw new Error('expected a write');
  return built.manifest;
}

describe('the manifest on disk', () => {
  it('is written beside the units, read back, and leaves no tmp file', async () => {
    const lake = tempDir('sdp-manifest-');
    mkdirSync(partitionDir(lake, 'iot', DT), { recursive: true });
    expect(await readManifest(lake, 'iot', DT)).toBeUndefined();
    await writeManifest(lake, sample());
    expect(manifestPath(lake, 'iot', DT)).toBe(path.join(lake, 'tables', 'iot', `dt=${DT}`, '_manifest.json'));
    expect((await readManifest(lake, 'iot', DT))?.manifest).toEqual(sample());
    expect(readdirSync(partitionDir(lake, 'iot', DT))).toEqual(['_manifest.json']);
  });

  it('never makes a dt directory retention deleted, and leaves nothing behind', async () => {
    const lake = tempDir('sdp-manifest-gone-');
    mkdirSync(path.join(lake, 'tables', 'iot'), { recursive: true });
    await expect(writeManifest(lake, sample())).rejects.toThrow();
    expect(existsSync(partitionDir(lake, 'iot', DT))).toBe(false);
  });

  it('refuses a symlink or a file that is no manifest, naming it', async () => {
    const lake = tempDir('sdp-manifest-bad-');
    const dir = partitionDir(lake, 'iot', DT);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(lake, 'elsewhere.json'), '{}');
    symlinkSync(path.join(lake, 'elsewhere.json'), path.join(dir, '_manifest.json'));
    await expect(readManifest(lake, 'iot', DT)).rejects.toThrow(/not a regular file/);
    const other = partitionDir(lake, 'iot', '2026-12-02');
    mkdirSync(other, { recursive: true });
    writeFileSync(path.join(other, '_manifest.json'), '{"version":1}');
    await expect(readManifest(lake, 'iot', '2026-12-02')).rejects.toThrow(/_manifest\.json is not a day manifest/);
  });

  it('removes the tmp file of a writer that died mid-write once it is old, not a young one', async () => {
    const lake = tempDir('sdp-manifest-tmp-');
    const dir = partitionDir(lake, 'iot', DT);
    mkdirSync(dir, { recursive: true });
    const old = path.join(dir, '._manifest.json.1-1.writing');
    const young = path.join(dir, '._manifest.json.2-1.writing');
    writeFileSync(old, '{');
    writeFileSync(young, '{');
    const nowMs = Date.now();
    utimesSync(old, new Date(nowMs - 3_600_000), new Date(nowMs - 3_600_000));
    expect(await removeStaleManifestTmp(dir, 600_000, nowMs)).toBe(1);
    expect(readdirSync(dir)).toEqual(['._manifest.json.2-1.writing']);
  });
});
