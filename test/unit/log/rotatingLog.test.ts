import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mustRotate, RotatingLogFile, rotationPlan } from '../../../src/log/rotatingLog.js';

describe('the log size cap', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('rotates before a write that would pass the cap, never an empty file', () => {
    expect(mustRotate(0, 5_000, 1_000)).toBe(false);
    expect(mustRotate(900, 100, 1_000)).toBe(false);
    expect(mustRotate(900, 101, 1_000)).toBe(true);
  });

  it('plans file → file.1 → file.2 and drops the oldest beyond keep', () => {
    expect(rotationPlan('/d/p.log', 3)).toEqual({
      remove: '/d/p.log.2',
      renames: [
        ['/d/p.log.1', '/d/p.log.2'],
        ['/d/p.log', '/d/p.log.1'],
      ],
    });
    expect(rotationPlan('/d/p.log', 2)).toEqual({ remove: '/d/p.log.1', renames: [['/d/p.log', '/d/p.log.1']] });
  });

  it('however much is written, at most keep files of at most maxBytes each, newest lines kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-rotating-'));
    dirs.push(dir);
    const file = join(dir, 'platform.log');
    const log = new RotatingLogFile(file, 1_000, 3);
    for (let i = 0; i < 500; i++) log.write(`{"n":${i},"msg":"line number ${i} of the test"}\n`);
    log.end();
    expect(readdirSync(dir).sort()).toEqual(['platform.log', 'platform.log.1', 'platform.log.2']);
    for (const name of readdirSync(dir)) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(1_000);
    const newest = readFileSync(file, 'utf8').trim().split('\n');
    expect(newest.at(-1)).toContain('"n":499');
    // Lines are never split across files.
    for (const name of readdirSync(dir))
      for (const line of readFileSync(join(dir, name), 'utf8').trim().split('\n'))
        expect(() => JSON.parse(line)).not.toThrow();
  });

  it('keeps appending to an existing file until the cap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdp-rotating-'));
    dirs.push(dir);
    const file = join(dir, 'p.log');
    const first = new RotatingLogFile(file, 100, 2);
    first.write('a'.repeat(60) + '\n');
    first.end();
    const second = new RotatingLogFile(file, 100, 2);
    second.write('b'.repeat(60) + '\n');
    second.end();
    expect(readFileSync(file, 'utf8')).toBe('b'.repeat(60) + '\n');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('a'.repeat(60) + '\n');
  });
});
