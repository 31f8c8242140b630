import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { removeDirInsideRoot } from '../../../src/storage/safeClean.js';

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
});
