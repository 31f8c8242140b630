import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/defaults.js';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { ErrorCodes } from '../../../src/errors.js';
import { readRootMarker, writeRootMarker } from '../../../src/storage/rootMarker.js';
import { initMemberCheckpointRoot, unsafeRootReason } from '../../../src/services/volumes.js';
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

describe("initMemberCheckpointRoot: an ETL member's checkpoint store, a marked root inside the checkpoint root", () => {
  const base = mkdtempSync(join(tmpdir(), 'sdp-member-root-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const configFor = (name: string): Config =>
    configSchema.parse({
      ...DEFAULT_CONFIG,
      storage: { datalake_root: join(base, name, 'lake'), checkpoint_root: join(base, name, 'checkpoints') },
      services: { ...DEFAULT_CONFIG.services, run_dir: join(base, name) },
    });

  it('creates and marks the checkpoint root and members/<i> (kind checkpoints); a second call changes nothing', () => {
    const config = configFor('fresh');
    const first = initMemberCheckpointRoot(config, 2, base);
    const path = join(base, 'fresh', 'checkpoints', 'members', '2');
    expect(first).toMatchObject({ root: { path, kind: 'checkpoints' }, created: true, markerWritten: true });
    expect(readRootMarker(join(base, 'fresh', 'checkpoints'))).toMatchObject({ marker: { kind: 'checkpoints' } });
    expect(readRootMarker(path)).toMatchObject({ marker: { kind: 'checkpoints' } });
    const marker = readFileSync(join(path, '.sdp-root'), 'utf8');
    expect(initMemberCheckpointRoot(config, 2, base)).toMatchObject({ created: false, markerWritten: false });
    expect(readFileSync(join(path, '.sdp-root'), 'utf8')).toBe(marker);
  });

  it('refuses a checkpoint root that holds files but no marker: nothing is created inside it', () => {
    const config = configFor('foreign');
    mkdirSync(join(base, 'foreign', 'checkpoints'), { recursive: true });
    writeFileSync(join(base, 'foreign', 'checkpoints', 'notes.txt'), 'not ours');
    expect(() => initMemberCheckpointRoot(config, 1, base)).toThrowError(
      expect.objectContaining({ code: ErrorCodes.SERVICES_UNSAFE_PATH }),
    );
    expect(existsSync(join(base, 'foreign', 'checkpoints', 'members'))).toBe(false);
  });

  it('refuses a members/ that is a symlink, and a member dir marked as another kind', () => {
    const linked = configFor('linked');
    mkdirSync(join(base, 'elsewhere'), { recursive: true });
    mkdirSync(join(base, 'linked', 'checkpoints'), { recursive: true });
    writeRootMarker(join(base, 'linked', 'checkpoints'), 'checkpoints');
    symlinkSync(join(base, 'elsewhere'), join(base, 'linked', 'checkpoints', 'members'));
    expect(() => initMemberCheckpointRoot(linked, 1, base)).toThrowError(/symbolic link: refused/);
    expect(existsSync(join(base, 'elsewhere', '1'))).toBe(false);

    const other = configFor('other');
    const path = join(base, 'other', 'checkpoints', 'members', '1');
    initMemberCheckpointRoot(other, 1, base);
    writeFileSync(join(path, '.sdp-root'), JSON.stringify({ kind: 'datalake', created: new Date().toISOString() }));
    expect(() => initMemberCheckpointRoot(other, 1, base)).toThrowError(
      expect.objectContaining({ code: ErrorCodes.STORAGE_ROOT_KIND }),
    );
  });
});
