import { describe, expect, it } from 'vitest';
import { unsafeRootReason } from '../../../src/services/volumes.js';
import { atLeast, installCommand, parseVersion } from '../../../src/services/setupChecks.js';

describe('unsafeRootReason: paths never created, marked or deleted as data roots', () => {
  it('refuses /, the home directory, the repository and its parents; accepts a directory inside', () => {
    expect(unsafeRootReason('/', '/work/repo', '/home/u')).toMatch(/root/);
    expect(unsafeRootReason('/home/u/', '/work/repo', '/home/u')).toMatch(/home/);
    expect(unsafeRootReason('/work/repo', '/work/repo', '/home/u')).toMatch(/repository itself/);
    expect(unsafeRootReason('/work/repo/data/..', '/work/repo', '/home/u')).toMatch(/repository itself/);
    expect(unsafeRootReason('/work', '/work/repo', '/home/u')).toMatch(/contains the repository/);
    expect(unsafeRootReason('/work/repo/data/datalake', '/work/repo', '/home/u')).toBeUndefined();
  });
});

describe('setup version checks', () => {
  it('parses and compares versions', () => {
    expect(parseVersion('openjdk version "17.0.15" 2025-04-15')).toEqual([17, 0, 15]);
    expect(parseVersion('Apache Maven 3.8.7')).toEqual([3, 8, 7]);
    expect(atLeast([20, 19, 0], [20, 19])).toBe(true);
    expect(atLeast([20, 18, 9], [20, 19])).toBe(false);
    expect(atLeast([22, 0, 0], [20, 19])).toBe(true);
  });

  it('prints the exact install command for the platform', () => {
    expect(installCommand({ apt: 'maven', brew: 'maven' }, true, false)).toBe('sudo apt-get install -y maven');
    expect(installCommand({ apt: 'openjdk-17-jre-headless', brew: 'openjdk@17' }, false, true)).toBe(
      'brew install openjdk@17',
    );
  });
});
