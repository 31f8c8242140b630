import { describe, expect, it } from 'vitest';
import {
  isPlatformCommandLine,
  parsePidFile,
  pidFileVerdict,
  renderPidFile,
  type PidRecord,
} from '../../../src/services/pidFile.js';

const record: PidRecord = {
  pid: 4242,
  startTime: '123456',
  commandLine: '/usr/bin/node /repo/dist/main.js run --log-file /repo/data/run/platform.log',
  startedAt: '2026-12-01T10:00:00.000Z',
};

describe('pidFileVerdict: is the pid in the pid file still our platform?', () => {
  it('running when the pid lives with the recorded start time and command line', () => {
    expect(pidFileVerdict(record, { alive: true, startTime: '123456', commandLine: record.commandLine })).toEqual({
      state: 'running',
    });
  });

  it('gone when no process has the pid', () => {
    expect(pidFileVerdict(record, { alive: false })).toEqual({ state: 'gone' });
  });

  it('reused when the pid started at another time, even with the same command line', () => {
    expect(pidFileVerdict(record, { alive: true, startTime: '999999', commandLine: record.commandLine })).toEqual({
      state: 'reused',
      commandLine: record.commandLine,
    });
  });

  it('reused when the pid runs another program', () => {
    expect(pidFileVerdict(record, { alive: true, startTime: '123456', commandLine: 'sleep 60' })).toEqual({
      state: 'reused',
      commandLine: 'sleep 60',
    });
  });

  it('a bare pid (no command line recorded) counts only when the process is a platform run', () => {
    const bare = parsePidFile('4242\n')!;
    expect(bare.pid).toBe(4242);
    expect(
      pidFileVerdict(bare, { alive: true, startTime: '1', commandLine: 'node dist/main.js run --log-file x' }),
    ).toEqual({ state: 'running' });
    expect(pidFileVerdict(bare, { alive: true, startTime: '1', commandLine: 'vim notes.txt' }).state).toBe('reused');
  });

  it('without a readable command line or start time the pid is trusted (non-Linux fallbacks)', () => {
    expect(pidFileVerdict(record, { alive: true })).toEqual({ state: 'running' });
  });
});

describe('parsePidFile', () => {
  it('reads what it writes: the bare pid on the first line, the identity as JSON after; rejects garbage', () => {
    const text = renderPidFile(record);
    expect(text.split('\n')[0]).toBe('4242');
    expect(parsePidFile(text)).toEqual(record);
    expect(parsePidFile('4242\n{broken')).toEqual({ pid: 4242, commandLine: '', startedAt: '' });
    expect(parsePidFile('not a pid')).toBeUndefined();
    expect(parsePidFile('{"pid": 3}')).toBeUndefined();
    expect(parsePidFile('0')).toBeUndefined();
    expect(parsePidFile('')).toBeUndefined();
  });

  it('recognises the platform command line', () => {
    expect(isPlatformCommandLine('node /x/dist/main.js run')).toBe(true);
    expect(isPlatformCommandLine('node /x/dist/main.js --config c.yml run --log-file f')).toBe(true);
    expect(isPlatformCommandLine('node /x/dist/main.js etl')).toBe(false);
    expect(isPlatformCommandLine('node runner.js')).toBe(false);
  });
});
