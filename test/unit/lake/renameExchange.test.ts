import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exchangePaths } from '../../../src/lake/renameExchange.js';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-exchange-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('exchangePaths', () => {
  it('swaps two non-empty directories, each keeping its inode and its files', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'nested', 'b');
    await fs.mkdir(a);
    await fs.mkdir(b, { recursive: true });
    await fs.writeFile(path.join(a, 'one'), '1');
    await fs.writeFile(path.join(b, 'two'), '2');
    const inodeA = (await fs.stat(a)).ino;
    exchangePaths(a, b);
    expect(await fs.readdir(a)).toEqual(['two']);
    expect(await fs.readdir(b)).toEqual(['one']);
    expect((await fs.stat(b)).ino).toBe(inodeA);
  });

  it('throws ENOENT, as Node would, when one side is missing, and changes nothing', async () => {
    const a = path.join(dir, 'a');
    await fs.mkdir(a);
    let error: NodeJS.ErrnoException | undefined;
    try {
      exchangePaths(a, path.join(dir, 'missing'));
    } catch (err) {
      error = err as NodeJS.ErrnoException;
    }
    expect(error?.code).toBe('ENOENT');
    expect(error?.syscall).toBe('renameat2');
    expect((await fs.stat(a)).isDirectory()).toBe(true);
  });
});
