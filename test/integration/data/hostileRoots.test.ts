/**
 * The clean commands delete only inside a marked storage root. Every hostile
 * root is refused with a clear message and nothing deleted anywhere — not the target, not the
 * other (valid) root of the same command, not a canary file next to the target — and a symlink
 * inside a valid root is removed without its target being touched.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/projectRoot.js';
import { runCli } from '../helpers/runCli.js';

const dirs: string[] = [];

function marker(root: string, kind: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, '.sdp-root'), JSON.stringify({ kind, created: new Date().toISOString() }));
}

/** A base dir with a canary, a valid marked checkpoint root holding a file, and a marked lake `real` holding a file. */
function scene() {
  const base = mkdtempSync(join(tmpdir(), 'sdp-hostile-'));
  dirs.push(base);
  writeFileSync(join(base, 'canary.txt'), 'canary');
  const checkpoints = join(base, 'checkpoints');
  marker(checkpoints, 'checkpoints');
  writeFileSync(join(checkpoints, 'keep.txt'), 'checkpoint data');
  const real = join(base, 'real-lake');
  marker(real, 'datalake');
  mkdirSync(join(real, 'tables', 'iot', 'dt=2026-12-01'), { recursive: true });
  writeFileSync(join(real, 'tables', 'iot', 'dt=2026-12-01', 'part-0-1-2.parquet'), 'lake data');
  const intact = () => {
    expect(readFileSync(join(base, 'canary.txt'), 'utf8')).toBe('canary');
    expect(readFileSync(join(checkpoints, 'keep.txt'), 'utf8')).toBe('checkpoint data');
    expect(readFileSync(join(real, 'tables', 'iot', 'dt=2026-12-01', 'part-0-1-2.parquet'), 'utf8')).toBe('lake data');
  };
  return { base, checkpoints, real, intact };
}

async function cleanAll(lakeRoot: string, checkpointRoot: string) {
  return runCli(['data', 'clean', '--all', '--yes'], {
    SDP_STORAGE__DATALAKE_ROOT: lakeRoot,
    SDP_STORAGE__CHECKPOINT_ROOT: checkpointRoot,
    SDP_LOG__LEVEL: 'error',
  });
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('data clean refuses hostile roots and deletes nothing', () => {
  it('a symlink to a marked lake', async () => {
    const s = scene();
    const link = join(s.base, 'lake');
    symlinkSync(s.real, link);
    const r = await cleanAll(link, s.checkpoints);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/SDP_ERR_STORAGE_UNSAFE_ROOT: refusing to clean: nothing was deleted/);
    expect(r.stderr).toMatch(/is a symlink/);
    s.intact();
  });

  it("a path that goes through '..'", async () => {
    const s = scene();
    mkdirSync(join(s.base, 'x'));
    const r = await cleanAll(`${s.base}/x/../real-lake`, s.checkpoints);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/contains a '\.\.' segment/);
    s.intact();
  });

  it('/', async () => {
    const s = scene();
    const r = await cleanAll('/', s.checkpoints);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is the file-system root/);
    s.intact();
  });

  it('the home directory', async () => {
    const s = scene();
    const r = await cleanAll(homedir(), s.checkpoints);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is the home directory .* or contains it/);
    s.intact();
  });

  it('the repository itself', async () => {
    const s = scene();
    const r = await cleanAll(PROJECT_ROOT, s.checkpoints);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is the repository .* or contains it/);
    expect(existsSync(join(PROJECT_ROOT, 'package.json'))).toBe(true);
    s.intact();
  });

  it('a directory without the marker', async () => {
    const s = scene();
    const unmarked = join(s.base, 'unmarked');
    mkdirSync(unmarked);
    writeFileSync(join(unmarked, 'precious.txt'), 'precious');
    const r = await cleanAll(unmarked, s.checkpoints);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no \.sdp-root marker/);
    expect(readFileSync(join(unmarked, 'precious.txt'), 'utf8')).toBe('precious');
    s.intact();
  });

  it('a root marked for another kind (the checkpoint root given as the lake)', async () => {
    const s = scene();
    const r = await runCli(['data', 'clean', '--lake', '--yes'], {
      SDP_STORAGE__DATALAKE_ROOT: s.checkpoints,
      SDP_STORAGE__CHECKPOINT_ROOT: join(s.base, 'other'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/marked as the platform's checkpoints root, not its datalake root/);
    s.intact();
  });
});

describe('data clean on marked roots', () => {
  it('empties them, keeps their markers and the canary beside them, and unlinks a symlink without touching its target', async () => {
    const s = scene();
    const outside = join(s.base, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'target.txt'), 'target');
    symlinkSync(outside, join(s.real, 'tables', 'link-to-outside'));
    symlinkSync(join(outside, 'target.txt'), join(s.real, 'file-link'));
    const r = await cleanAll(s.real, s.checkpoints);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/datalake: deleted 3 files/);
    expect(r.stdout).toMatch(/checkpoints: deleted 1 files/);
    expect(existsSync(join(s.real, 'tables'))).toBe(false);
    expect(existsSync(join(s.real, '.sdp-root'))).toBe(true);
    expect(existsSync(join(s.checkpoints, 'keep.txt'))).toBe(false);
    expect(existsSync(join(s.checkpoints, '.sdp-root'))).toBe(true);
    expect(readFileSync(join(outside, 'target.txt'), 'utf8')).toBe('target');
    expect(readFileSync(join(s.base, 'canary.txt'), 'utf8')).toBe('canary');
  });
});
