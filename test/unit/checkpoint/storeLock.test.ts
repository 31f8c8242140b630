import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireStoreLock, HOLDER_FILE, isHolderAlive, type StoreLock } from '../../../src/checkpoint/storeLock.js';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { processStartTicks } from '../../../src/system/procStat.js';

const dirs: string[] = [];
const locks: StoreLock[] = [];
afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function newRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-store-lock-'));
  dirs.push(dir);
  return join(dir, 'checkpoints');
}

describe('acquireStoreLock', () => {
  it('refuses a second holder at once, naming the first (pid and host), and frees on release', () => {
    const root = newRoot();
    const first = acquireStoreLock(root);
    locks.push(first);
    const started = Date.now();
    let error: unknown;
    try {
      locks.push(acquireStoreLock(root));
    } catch (err) {
      error = err;
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(isSdpError(error, ErrorCodes.CHECKPOINT_LOCKED)).toBe(true);
    expect((error as Error).message).toContain(`pid ${process.pid} on host ${hostname()}`);
    first.release();
    locks.splice(0);
    expect(existsSync(join(root, HOLDER_FILE))).toBe(false);
    const again = acquireStoreLock(root);
    locks.push(again);
    expect(again.previous).toBeUndefined(); // released cleanly: nothing to take over
  });

  it('is taken over after its holder is killed with -9, and names the dead holder', async () => {
    const root = newRoot();
    // A child process (the built module: plain Node) that takes the lock and waits to be killed.
    const script = `
      const { acquireStoreLock } = await import(${JSON.stringify(new URL('../../../dist/checkpoint/storeLock.js', import.meta.url).href)});
      acquireStoreLock(${JSON.stringify(root)});
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`child exited ${code} before locking (is dist/ built?)`)));
    });
    let error: unknown;
    try {
      acquireStoreLock(root);
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).toContain(`pid ${child.pid}`);
    const holder = JSON.parse(readFileSync(join(root, HOLDER_FILE), 'utf8')) as {
      pid: number;
      processStartTicks: string | null;
    };
    expect(holder.processStartTicks).toBe(processStartTicks(child.pid!));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const lock = acquireStoreLock(root);
    locks.push(lock);
    expect(lock.previous?.pid).toBe(child.pid);
    expect(isHolderAlive(lock.previous!)).toBe(false);
    expect(lock.holder.pid).toBe(process.pid);
  });

  it('tells a reused pid from its holder by the process start time', () => {
    const me = {
      pid: process.pid,
      host: hostname(),
      processStartTicks: processStartTicks(process.pid),
      since: '',
      command: '',
    };
    expect(isHolderAlive(me)).toBe(true);
    expect(isHolderAlive({ ...me, processStartTicks: '1' })).toBe(false);
    expect(isHolderAlive({ ...me, host: 'elsewhere' })).toBe('unknown');
  });
});
