import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { removeDirInsideRoot, removeFilesInsideRoot } from '../../../src/storage/safeClean.js';

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

  it('removeFilesInsideRoot: only the named entries go (a file that arrived since stays), links unlinked', () => {
    const { root, outside } = setUp();
    const dt = 'tables/t/dt=2026-12-01';
    writeFileSync(join(root, dt, 'late.parquet'), '1');
    const done = removeFilesInsideRoot(root, dt, ['a.parquet', 'link', 'nested', 'gone.parquet']);
    // nested is a directory: left alone; gone.parquet does not exist: skipped.
    expect(done).toMatchObject({ files: 2, existed: true });
    expect(readdirSync(join(root, dt)).sort()).toEqual(['late.parquet', 'nested']);
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
    // Emptied: the directory goes with its last named file.
    rmSync(join(root, dt, 'nested'), { recursive: true });
    removeFilesInsideRoot(root, dt, ['late.parquet']);
    expect(existsSync(join(root, dt))).toBe(false);
    expect(removeFilesInsideRoot(root, dt, ['late.parquet']).existed).toBe(false);
  });

  it('removeFilesInsideRoot refuses a directory reached through a symlink and a name that is a path', () => {
    const { root, outside } = setUp();
    symlinkSync(outside, join(root, 'tables', 't', 'dt=2026-12-02'));
    expect(() => removeFilesInsideRoot(root, 'tables/t/dt=2026-12-02', ['keep.txt'])).toThrow(/symlink/);
    expect(() => removeFilesInsideRoot(root, 'tables/t/dt=2026-12-01', ['../../../../outside/keep.txt'])).toThrow(
      /not an entry/,
    );
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
  });
});
