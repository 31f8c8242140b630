import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { removeDirIfOnly, removeDirInsideRoot, removeFilesInsideRoot } from '../../../src/storage/safeClean.js';

describe('removeDirInsideRoot: one dt partition deleted, nothing outside the root', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const setUp = () => {
    const base = mkdtempSync(join(tmpdir(), 'sdp-rmdir-'));
    dirs.push(base);
    const root = join(base, 'lake');
    const outside = join(base, 'outside');
    mkdirSync(join(root, 'tables', 't', 'dt=2026-12-01', 'nested'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    writeFileSync(join(root, 'tables', 't', 'dt=2026-12-01', 'a.parquet'), '12345');
    writeFileSync(join(root, 'tables', 't', 'dt=2026-12-01', 'nested', 'b'), '1');
    symlinkSync(outside, join(root, 'tables', 't', 'dt=2026-12-01', 'link'));
    return { root, outside };
  };

  it('deletes the directory and what it holds, unlinks a symlink without following it', () => {
    const { root, outside } = setUp();
    const done = removeDirInsideRoot(root, 'tables/t/dt=2026-12-01');
    expect(done).toMatchObject({ files: 3, existed: true });
    expect(readdirSync(join(root, 'tables', 't'))).toEqual([]);
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
    expect(removeDirInsideRoot(root, 'tables/t/dt=2026-12-01').existed).toBe(false);
  });

  it('refuses a target reached through a symlink, the root itself, and a path leaving the root', () => {
    const { root, outside } = setUp();
    symlinkSync(outside, join(root, 'tables', 't', 'dt=2026-12-02'));
    expect(() => removeDirInsideRoot(root, 'tables/t/dt=2026-12-02')).toThrow(
      expect.objectContaining({ code: ErrorCodes.STORAGE_UNSAFE_ROOT }),
    );
    symlinkSync(join(root, 'tables', 't'), join(root, 'tables', 'u'));
    expect(() => removeDirInsideRoot(root, 'tables/u/dt=2026-12-01')).toThrow(/symlink/);
    expect(() => removeDirInsideRoot(root, '.')).toThrow(/not below/);
    expect(() => removeDirInsideRoot(root, '../outside')).toThrow(/not below/);
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
    expect(existsSync(join(root, 'tables', 't', 'dt=2026-12-01', 'a.parquet'))).toBe(true);
  });

  it('removeFilesInsideRoot: only the named entries go (a file that arrived since stays), links unlinked', async () => {
    const { root, outside } = setUp();
    const dt = 'tables/t/dt=2026-12-01';
    writeFileSync(join(root, dt, 'late.parquet'), '1');
    const done = await removeFilesInsideRoot(root, dt, ['a.parquet', 'link', 'nested', 'gone.parquet']);
    // nested is a directory: left alone; gone.parquet does not exist: skipped.
    expect(done).toMatchObject({ files: 2, existed: true });
    expect(readdirSync(join(root, dt)).sort()).toEqual(['late.parquet', 'nested']);
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
    // Emptied: the directory goes with its last named file.
    rmSync(join(root, dt, 'nested'), { recursive: true });
    await removeFilesInsideRoot(root, dt, ['late.parquet']);
    expect(existsSync(join(root, dt))).toBe(false);
    expect((await removeFilesInsideRoot(root, dt, ['late.parquet'])).existed).toBe(false);
  });

  it('removeFilesInsideRoot refuses a directory reached through a symlink and a name that is a path', async () => {
    const { root, outside } = setUp();
    symlinkSync(outside, join(root, 'tables', 't', 'dt=2026-12-02'));
    await expect(removeFilesInsideRoot(root, 'tables/t/dt=2026-12-02', ['keep.txt'])).rejects.toThrow(/symlink/);
    await expect(
      removeFilesInsideRoot(root, 'tables/t/dt=2026-12-01', ['../../../../outside/keep.txt']),
    ).rejects.toThrow(/not an entry/);
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
  });

  it('removeFilesInsideRoot leaves the event loop free: it turns between the files it deletes', async () => {
    const { root } = setUp();
    const unit = 'tables/t/dt=2026-12-01/p0';
    mkdirSync(join(root, unit));
    const names = Array.from({ length: 300 }, (_, i) => `part-${i}.parquet`);
    for (const name of names) writeFileSync(join(root, unit, name), 'x');
    let turns = 0;
    let deleting = true;
    const count = (): void => {
      turns += 1;
      if (deleting) setImmediate(count);
    };
    setImmediate(count);
    const done = await removeFilesInsideRoot(root, unit, names);
    deleting = false;
    expect(done.files).toBe(300);
    // An lstat and an unlink per file, each awaited: the loop turns at least once per file. Sync calls: never, or
    // only while the steps down to the directory are checked.
    expect(turns).toBeGreaterThanOrEqual(names.length);
  });

  it('removeDirIfOnly: goes when its entries are accepted, stays when anything else is there', async () => {
    const { root } = setUp();
    const dt = 'tables/t/dt=2026-12-03';
    mkdirSync(join(root, dt));
    writeFileSync(join(root, dt, '_manifest.json'), '{}');
    writeFileSync(join(root, dt, '.part-1.parquet.ab.tmp'), 'x');
    const onlyManifest = (entries: readonly string[]) => entries.every((e) => e === '_manifest.json');
    expect(await removeDirIfOnly(root, dt, onlyManifest)).toBe(false);
    expect(readdirSync(join(root, dt)).sort()).toEqual(['.part-1.parquet.ab.tmp', '_manifest.json']);
    rmSync(join(root, dt, '.part-1.parquet.ab.tmp'));
    expect(await removeDirIfOnly(root, dt, onlyManifest)).toBe(true);
    expect(existsSync(join(root, dt))).toBe(false);
    expect(await removeDirIfOnly(root, dt, onlyManifest)).toBe(false);
    // An accepted entry that is a directory is not deleted: the directory stays.
    mkdirSync(join(root, dt, '_manifest.json'), { recursive: true });
    expect(await removeDirIfOnly(root, dt, onlyManifest)).toBe(false);
    expect(existsSync(join(root, dt, '_manifest.json'))).toBe(true);
  });

  it('removeDirIfOnly: another deleter removing the directory after the listing is no failure', async () => {
    const { root } = setUp();
    const dt = 'tables/t/dt=2026-12-03';
    mkdirSync(join(root, dt));
    writeFileSync(join(root, dt, '_manifest.json'), '{}');
    // The other owner finishing the same dt runs between this one's listing and its unlink (the predicate's turn).
    const otherOwnerFirst = (entries: readonly string[]) => {
      rmSync(join(root, dt), { recursive: true });
      return entries.every((e) => e === '_manifest.json');
    };
    expect(await removeDirIfOnly(root, dt, otherOwnerFirst)).toBe(false);
    expect(existsSync(join(root, dt))).toBe(false);
  });

  it('removeDirIfOnly refuses a directory reached through a symlink: nothing outside is unlinked', async () => {
    const { root, outside } = setUp();
    writeFileSync(join(outside, '_manifest.json'), 'outside');
    symlinkSync(outside, join(root, 'tables', 't', 'dt=2026-12-02'));
    await expect(removeDirIfOnly(root, 'tables/t/dt=2026-12-02', () => true)).rejects.toThrow(
      expect.objectContaining({ code: ErrorCodes.STORAGE_UNSAFE_ROOT }),
    );
    await expect(removeDirIfOnly(root, '..', () => true)).rejects.toThrow(/not below/);
    expect(readdirSync(outside).sort()).toEqual(['_manifest.json', 'keep.txt']);
  });
});
