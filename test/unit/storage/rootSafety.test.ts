import { describe, expect, it } from 'vitest';
import { parseRootMarker } from '../../../src/storage/rootMarker.js';
import { isWithin, refusalsFor, type RootFacts } from '../../../src/storage/rootSafety.js';

const HOME = '/home/op';
const REPO = '/home/op/sdp';

function facts(path: string, over: Partial<RootFacts> = {}): RootFacts {
  return {
    configured: path,
    resolved: path,
    real: path,
    exists: true,
    isSymlink: false,
    isDirectory: true,
    marker: { status: 'ok', marker: { kind: 'datalake', created: '2026-12-01T00:00:00.000Z' } },
    homeDir: HOME,
    repoDir: REPO,
    otherRoots: [],
    ...over,
  };
}

describe('refusalsFor: the roots a clean command must never empty', () => {
  it('accepts a marked directory of the right kind, inside the repository or anywhere else', () => {
    expect(refusalsFor('datalake', facts('/home/op/sdp/data/datalake'))).toEqual([]);
    expect(refusalsFor('datalake', facts('/tmp/lake'))).toEqual([]);
  });

  it('refuses / even when marked', () => {
    expect(refusalsFor('datalake', facts('/')).join('\n')).toMatch(/file-system root/);
  });

  it('refuses the home directory and anything that contains it', () => {
    expect(refusalsFor('datalake', facts(HOME)).join('\n')).toMatch(/home directory/);
    expect(refusalsFor('datalake', facts('/home')).join('\n')).toMatch(/home directory/);
  });

  it('refuses the repository and its parents', () => {
    const reasons = refusalsFor('datalake', facts(REPO, { homeDir: '/root' }));
    expect(reasons.join('\n')).toMatch(/is the repository/);
  });

  it("refuses a configured path with a '..' segment, even one that resolves somewhere harmless", () => {
    expect(
      refusalsFor('datalake', facts('/tmp/x/../lake', { resolved: '/tmp/lake', real: '/tmp/lake' })).join('\n'),
    ).toMatch(/'\.\.' segment/);
    expect(refusalsFor('datalake', facts('./data/../../etc', { resolved: '/etc', real: '/etc' })).join('\n')).toMatch(
      /'\.\.' segment/,
    );
  });

  it('refuses a symlink, and a path whose real location differs (symlinked parent) — judged on both paths', () => {
    expect(refusalsFor('datalake', facts('/tmp/lake', { isSymlink: true, real: '/home/op' })).join('\n')).toMatch(
      /symlink[\s\S]*home directory|home directory[\s\S]*symlink/,
    );
    expect(refusalsFor('datalake', facts('/tmp/link/lake', { real: '/srv/lake' })).join('\n')).toMatch(
      /symlinked parent/,
    );
  });

  it('refuses a missing, invalid or other-kind marker', () => {
    expect(refusalsFor('datalake', facts('/tmp/lake', { marker: { status: 'missing' } })).join('\n')).toMatch(
      /no \.sdp-root marker/,
    );
    expect(
      refusalsFor('datalake', facts('/tmp/lake', { marker: { status: 'invalid', reason: 'not JSON' } })).join('\n'),
    ).toMatch(/not a valid marker \(not JSON\)/);
    expect(refusalsFor('checkpoints', facts('/tmp/lake')).join('\n')).toMatch(
      /marked as the platform's datalake root, not its checkpoints root/,
    );
  });

  it('refuses a root that contains another storage root of the platform', () => {
    expect(
      refusalsFor('datalake', facts('/tmp/data', { otherRoots: ['/tmp/data', '/tmp/data/checkpoints'] })).join('\n'),
    ).toMatch(/contains another storage root/);
  });

  it('refuses a file where a directory is expected; a root that does not exist yet has nothing to delete', () => {
    expect(refusalsFor('datalake', facts('/tmp/f', { isDirectory: false })).join('\n')).toMatch(/not a directory/);
    expect(
      refusalsFor('datalake', facts('/tmp/none', { exists: false, real: undefined, marker: { status: 'missing' } })),
    ).toEqual([]);
  });
});

describe('isWithin', () => {
  it('is true for the path itself and below, false for siblings sharing a prefix', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b', '/a/b/c')).toBe(true);
    expect(isWithin('/a/b', '/a/bc')).toBe(false);
    expect(isWithin('/a/b', '/a')).toBe(false);
  });
});

describe('parseRootMarker', () => {
  it('reads the agreed JSON and rejects anything else', () => {
    expect(parseRootMarker('{"kind":"kafka","created":"2026-12-01T10:00:00Z"}')).toEqual({
      status: 'ok',
      marker: { kind: 'kafka', created: '2026-12-01T10:00:00Z' },
    });
    expect(parseRootMarker('datalake').status).toBe('invalid');
    expect(parseRootMarker('{"kind":"home","created":"2026-12-01T10:00:00Z"}').status).toBe('invalid');
    expect(parseRootMarker('{"kind":"datalake","created":"yesterday"}').status).toBe('invalid');
  });
});
