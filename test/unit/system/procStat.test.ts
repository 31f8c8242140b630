import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  parseProcStat,
  parseProcStatus,
  processStartTicks,
  readProcStat,
  readProcStatus,
} from '../../../src/system/procStat.js';

/** Fields 3 to 52 of a real /proc/<pid>/stat line (utime 1234, stime 56, start time 115248). */
const AFTER_COMM =
  'S 23125 23125 15201 0 -1 4194304 99 0 0 0 1234 56 0 0 20 0 1 0 115248 3133440 389 18446744073709551615 ' +
  '94522733510656 94522733530537 140733797957344 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94522733546544 ' +
  '94522733548160 94523483013120 140733797960387 140733797960407 140733797960407 140733797961707 0\n';

const STATUS = [
  'Name:\tnode',
  'State:\tS (sleeping)',
  'VmPeak:\t 1183916 kB',
  'VmSize:\t 1118380 kB',
  'VmHWM:\t  271044 kB',
  'VmRSS:\t  250112 kB',
  'VmSwap:\t       0 kB',
  'Threads:\t11',
  '',
].join('\n');

const hasProc = existsSync('/proc/self/stat');

describe('parseProcStat', () => {
  it('reads state, CPU ticks and start time of a plain line', () => {
    expect(parseProcStat(`4242 (node) ${AFTER_COMM}`)).toEqual({
      comm: 'node',
      state: 'S',
      utimeTicks: 1234,
      stimeTicks: 56,
      startTicks: '115248',
    });
  });

  it('counts the fields from the last parenthesis: a command name may hold spaces and parentheses', () => {
    // A process can name itself anything (prctl): ') R 1 2 3' would shift every field if split naively.
    const stat = parseProcStat(`4242 (my (odd) ) R 1 2 3 name) ${AFTER_COMM}`);
    expect(stat).toEqual({
      comm: 'my (odd) ) R 1 2 3 name',
      state: 'S',
      utimeTicks: 1234,
      stimeTicks: 56,
      startTicks: '115248',
    });
  });

  it('reads a zombie', () => {
    expect(parseProcStat(`7 (sh) Z${AFTER_COMM.slice(1)}`)?.state).toBe('Z');
  });

  it('is null for text that is not a stat line', () => {
    expect(parseProcStat('')).toBeNull();
    expect(parseProcStat('4242 node S 1 2 3')).toBeNull();
    expect(parseProcStat('4242 (node) S 1 2 3')).toBeNull(); // cut short
    expect(parseProcStat(`4242 (node) ${AFTER_COMM.replace('115248', 'x')}`)).toBeNull();
  });
});

describe('parseProcStatus', () => {
  it('reads VmRSS and VmHWM in kB', () => {
    expect(parseProcStatus(STATUS)).toEqual({ vmRssKb: 250_112, vmHwmKb: 271_044 });
  });

  it('has no memory lines for a kernel thread', () => {
    expect(parseProcStatus('Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n')).toEqual({
      vmRssKb: null,
      vmHwmKb: null,
    });
  });
});

describe.runIf(hasProc)('reading /proc of this process', () => {
  it('finds this process running, with a start time and CPU time', () => {
    const stat = readProcStat(process.pid);
    expect(stat?.state).toBe('R'); // it is reading its own stat file
    expect(stat?.startTicks).toMatch(/^\d+$/);
    expect(processStartTicks(process.pid)).toBe(stat?.startTicks);
    // This test process has surely used some CPU (vitest loaded and compiled this file).
    expect((stat?.utimeTicks ?? 0) + (stat?.stimeTicks ?? 0)).toBeGreaterThan(0);
  });

  it('finds its resident memory, within a factor of what node says', () => {
    const status = readProcStatus(process.pid);
    const rssKb = process.memoryUsage().rss / 1024;
    expect(status?.vmRssKb).toBeGreaterThan(rssKb / 2);
    expect(status?.vmRssKb).toBeLessThan(rssKb * 2);
    expect(status?.vmHwmKb).toBeGreaterThanOrEqual(status?.vmRssKb ?? Number.POSITIVE_INFINITY);
  });

  it('is null for a pid that cannot exist (above the kernel maximum)', () => {
    expect(readProcStat(4_194_305)).toBeNull();
    expect(readProcStatus(4_194_305)).toBeNull();
    expect(processStartTicks(4_194_305)).toBeNull();
  });
});
