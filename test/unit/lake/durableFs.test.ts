import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import {
  completeRename,
  ensureDir,
  fsyncDir,
  fsyncFile,
  listTmpFiles,
  removeIfExists,
  renameDurable,
  writeFileDurable,
} from '../../../src/lake/durableFs.js';

let dir: string;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-durablefs-'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('writeFileDurable', () => {
  it('writes all chunks in order, replaces an existing file and returns the byte count', async () => {
    const file = path.join(dir, 'a.tmp');
    await fs.writeFile(file, 'old content that is longer');
    const bytes = await writeFileDurable(file, [
      Buffer.from('ab'),
      new Uint8Array([0x63]),
      Buffer.alloc(0),
      Buffer.from('é'),
    ]);
    expect(bytes).toBe(5);
    expect(await fs.readFile(file, 'utf8')).toBe('abcé');
  });

  it('creates missing directories', async () => {
    const file = path.join(dir, 'tables', 'iot', 'dt=2024-01-01', 'a.tmp');
    expect(await writeFileDurable(file, [Buffer.from('x')])).toBe(1);
    expect(await fs.readFile(file, 'utf8')).toBe('x');
  });

  it('fails when the path is a directory', async () => {
    await expect(writeFileDurable(dir, [Buffer.from('x')])).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('fsync helpers', () => {
  it('fsync a file and a directory, and fail on missing ones', async () => {
    const file = path.join(dir, 'f');
    await fs.writeFile(file, 'x');
    await expect(fsyncFile(file)).resolves.toBeUndefined();
    await expect(fsyncDir(dir)).resolves.toBeUndefined();
    await expect(fsyncFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fsyncDir(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('renameDurable', () => {
  it('renames', async () => {
    const from = path.join(dir, 'x.parquet.tmp');
    const to = path.join(dir, 'x.parquet');
    await fs.writeFile(from, 'data');
    await renameDurable(from, to);
    expect(await fs.readFile(to, 'utf8')).toBe('data');
    await expect(fs.access(from)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('is idempotent: a second call after success is a no-op', async () => {
    const from = path.join(dir, 'x.parquet.tmp');
    const to = path.join(dir, 'x.parquet');
    await fs.writeFile(from, 'data');
    await renameDurable(from, to);
    await renameDurable(from, to);
    expect(await fs.readFile(to, 'utf8')).toBe('data');
  });

  it('throws SDP_ERR_LAKE_FILE_MISSING when neither file exists', async () => {
    const err = await renameDurable(path.join(dir, 'a.tmp'), path.join(dir, 'a')).catch((e: unknown) => e);
    expect(isSdpError(err, ErrorCodes.LAKE_FILE_MISSING)).toBe(true);
  });

  it('moves across directories', async () => {
    await fs.mkdir(path.join(dir, 'b'));
    const from = path.join(dir, 'a.tmp');
    await fs.writeFile(from, 'z');
    await renameDurable(from, path.join(dir, 'b', 'a'));
    expect(await fs.readFile(path.join(dir, 'b', 'a'), 'utf8')).toBe('z');
  });
});

describe('completeRename', () => {
  it('renames, then finds a second call already done, and reports a rename with neither file', async () => {
    const from = path.join(dir, 'x.parquet.cafe.tmp');
    const to = path.join(dir, 'x.parquet');
    await fs.writeFile(from, 'data');
    expect(await completeRename(from, to)).toBe('renamed');
    expect(await completeRename(from, to)).toBe('already-done');
    expect(await fs.readFile(to, 'utf8')).toBe('data');
    expect(await completeRename(path.join(dir, 'y.parquet.cafe.tmp'), path.join(dir, 'y.parquet'))).toBe('missing');
    await expect(fs.access(path.join(dir, 'y.parquet'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails, leaving the tmp file, when the dt directory of the target is missing (not a completed rename)', async () => {
    const from = path.join(dir, 'x.parquet.cafe.tmp');
    await fs.writeFile(from, 'data');
    await expect(completeRename(from, path.join(dir, 'gone', 'p0', 'x.parquet'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await fs.readFile(from, 'utf8')).toBe('data');
    await expect(fs.access(path.join(dir, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("makes the target's unit, its last directory only, for a unit's first file", async () => {
    const from = path.join(dir, '.x.parquet.cafe.tmp');
    await fs.writeFile(from, 'data');
    expect(await completeRename(from, path.join(dir, 'p0', 'x.parquet'))).toBe('renamed');
    expect(await fs.readFile(path.join(dir, 'p0', 'x.parquet'), 'utf8')).toBe('data');
  });
});

describe('removeIfExists', () => {
  it('removes a file and tolerates a missing one', async () => {
    const file = path.join(dir, 'f.tmp');
    await fs.writeFile(file, 'x');
    expect(await removeIfExists(file)).toBe(true);
    expect(await removeIfExists(file)).toBe(false);
    await expect(fs.access(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('ensureDir', () => {
  it('creates nested directories and accepts existing ones', async () => {
    const nested = path.join(dir, 'tables', 'iot', 'dt=2024-01-01');
    await ensureDir(nested);
    expect((await fs.stat(nested)).isDirectory()).toBe(true);
    await expect(ensureDir(nested)).resolves.toBeUndefined();
  });
});

describe('listTmpFiles', () => {
  it('lists every *.tmp below <root>/tables, sorted, and nothing else', async () => {
    const files = [
      'tables/clickstream/dt=2024-01-02/part-0-1-2.parquet.tmp',
      'tables/clickstream/dt=2024-01-01/part-0-1-2.parquet.tmp',
      'tables/clickstream/dt=2024-01-01/part-0-0-0.parquet',
      'tables/_rejected/dt=2024-01-01/part-t-0-1-2.parquet.tmp',
      'tables/iot/dt=2024-01-01/notes.tmpx',
      'elsewhere/x.tmp',
    ];
    for (const f of files) {
      await fs.mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await fs.writeFile(path.join(dir, f), '');
    }
    await fs.mkdir(path.join(dir, 'tables', 'dir.tmp'));
    expect(await listTmpFiles(dir)).toEqual(
      [
        'tables/_rejected/dt=2024-01-01/part-t-0-1-2.parquet.tmp',
        'tables/clickstream/dt=2024-01-01/part-0-1-2.parquet.tmp',
        'tables/clickstream/dt=2024-01-02/part-0-1-2.parquet.tmp',
      ].map((f) => path.join(dir, f)),
    );
  });

  it('returns nothing when there is no tables directory yet', async () => {
    expect(await listTmpFiles(path.join(dir, 'fresh'))).toEqual([]);
  });
});
