import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock } from '../../../src/checkpoint/storeLock.js';
import { isCheckpointStoreLocked, livePidFromFile, runningSigns } from '../../../src/services/platformRunning.js';

describe('is the platform running?', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-running-'));

  it('a pid file naming a live process is a sign; a dead pid, garbage or no file is not', () => {
    const file = join(dir, 'sdp.pid');
    expect(livePidFromFile(file)).toBeUndefined();
    writeFileSync(file, `${process.ppid}\n`);
    expect(livePidFromFile(file)).toBe(process.ppid);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(file, `${dead}\n`);
    expect(livePidFromFile(file)).toBeUndefined();
    writeFileSync(file, 'not a pid');
    expect(livePidFromFile(file)).toBeUndefined();
  });

  it('a checkpoint store another connection holds locked is a sign, and says how to stop the platform', () => {
    const store = join(dir, 'checkpoints.sqlite');
    expect(isCheckpointStoreLocked(store)).toBe(false);
    const db = new Database(store);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    expect(isCheckpointStoreLocked(store)).toBe(false);
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('INSERT INTO t VALUES (1)'); // takes and keeps the exclusive lock
    expect(isCheckpointStoreLocked(store)).toBe(true);
    const signs = runningSigns(store, join(dir, 'none.pid'));
    expect(signs).toHaveLength(1);
    expect(signs[0]!.stop).toMatch(/make down/);
    db.close();
    expect(isCheckpointStoreLocked(store)).toBe(false);
  });

  it("a running ETL's store lock (the file beside the store) is a sign, between its writes too", () => {
    const root = join(dir, 'held');
    mkdirSync(root);
    const store = join(root, 'checkpoints.sqlite');
    new Database(store).close(); // the store, idle: no write in progress
    expect(isCheckpointStoreLocked(store)).toBe(false);
    const lock = acquireStoreLock(root);
    try {
      expect(isCheckpointStoreLocked(store)).toBe(true);
      expect(runningSigns(store, join(dir, 'none.pid'))).toHaveLength(1);
    } finally {
      lock.release();
    }
    expect(isCheckpointStoreLocked(store)).toBe(false);
  });

  it('the ETL members of services scale count too: a live pid file under members/, a locked store of a member', () => {
    const runDir = join(dir, 'run');
    const root = join(dir, 'checkpoints');
    mkdirSync(join(runDir, 'members', '2'), { recursive: true });
    mkdirSync(join(runDir, 'members', '3'), { recursive: true });
    mkdirSync(join(root, 'members', '1'), { recursive: true });
    writeFileSync(join(runDir, 'members', '2', 'sdp.pid'), `${process.ppid}\n`);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(runDir, 'members', '3', 'sdp.pid'), `${dead}\n`);
    const store = join(root, 'members', '1', 'checkpoints.sqlite');
    const db = new Database(store);
    db.exec('CREATE TABLE t (x)');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('INSERT INTO t VALUES (1)');
    try {
      const signs = runningSigns(join(root, 'checkpoints.sqlite'), join(runDir, 'sdp.pid'));
      expect(signs.map((s) => s.what)).toEqual([
        `ETL member 2 runs in the background (pid ${process.ppid}, from ${join(runDir, 'members', '2', 'sdp.pid')})`,
        `the checkpoint store ${store} of ETL member 1 is locked by a running process`,
      ]);
      expect(signs[0]!.stop).toMatch(/make scale N=0/);
    } finally {
      db.close();
    }
    expect(runningSigns(join(root, 'checkpoints.sqlite'), join(runDir, 'sdp.pid'))).toHaveLength(1);
  });
});
