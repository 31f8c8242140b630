import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { profilingFlags, resolveWorkerFile } from '../../../src/system/workerFile.js';

let project: string;

beforeEach(async () => {
  project = await fs.mkdtemp(path.join(os.tmpdir(), 'sdp-workerfile-'));
});
afterEach(async () => {
  await fs.rm(project, { recursive: true, force: true });
});

async function touch(relative: string, mtimeSec?: number): Promise<string> {
  const file = path.join(project, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, '');
  if (mtimeSec !== undefined) await fs.utimes(file, mtimeSec, mtimeSec);
  return file;
}

const callerIn = (relativeDir: string): string => pathToFileURL(path.join(project, relativeDir, 'pool.js')).href;

function missingError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(isSdpError(err, ErrorCodes.WORKER_FILE_MISSING)).toBe(true);
    return err as Error;
  }
  throw new Error('expected SDP_ERR_WORKER_FILE_MISSING');
}

describe('resolveWorkerFile', () => {
  it('uses the compiled worker next to the caller, without the process flags (workers refuse many)', async () => {
    const js = await touch('dist/lake/x.worker.js');
    expect(resolveWorkerFile(callerIn('dist/lake'), 'x.worker')).toEqual({
      filename: pathToFileURL(js).href,
      execArgv: [],
    });
  });

  it('from TypeScript sources, uses the up-to-date twin under dist/ without the runner flags', async () => {
    await touch('src/lake/x.worker.ts', 1_000);
    await touch('src/lake/pool.ts', 1_000);
    await touch('src/lake/types.d.ts', 9_000); // declarations have no twin
    const twin = await touch('dist/lake/x.worker.js', 2_000);
    await touch('dist/lake/pool.js', 2_000);
    expect(resolveWorkerFile(callerIn('src/lake'), 'x.worker')).toEqual({
      filename: pathToFileURL(twin).href,
      execArgv: [],
    });
  });

  it('tells to build when the twin is missing', async () => {
    await touch('src/lake/x.worker.ts');
    expect(missingError(() => resolveWorkerFile(callerIn('src/lake'), 'x.worker')).message).toMatch(
      /does not exist: run "npx tsc -p \." first/,
    );
  });

  it('refuses a twin older than a source in the same directory', async () => {
    await touch('src/lake/x.worker.ts', 1_000);
    await touch('src/lake/encoder.ts', 3_000);
    await touch('dist/lake/x.worker.js', 2_000);
    await touch('dist/lake/encoder.js', 2_000);
    expect(missingError(() => resolveWorkerFile(callerIn('src/lake'), 'x.worker')).message).toMatch(
      /older than their sources \(encoder\.ts\)/,
    );
  });

  it('fails clearly when there is no worker file at all', async () => {
    expect(missingError(() => resolveWorkerFile(callerIn('src/lake'), 'x.worker')).message).toMatch(
      /x\.worker\.js does not exist/,
    );
    expect(missingError(() => resolveWorkerFile(callerIn('lib'), 'x.worker')).message).toMatch(/does not exist/);
  });
});

describe('profilingFlags', () => {
  it("passes a profiled process's --cpu-prof flags on to its worker threads, and nothing else", () => {
    expect(
      profilingFlags(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--max-old-space-size=256', '--cpu-prof-interval=500']),
    ).toEqual(['--cpu-prof', '--cpu-prof-dir=/tmp/p', '--cpu-prof-interval=500']);
  });

  it('keeps a flag whose value follows as the next argument', () => {
    expect(profilingFlags(['--cpu-prof', '--cpu-prof-dir', '/tmp/p', '--max-semi-space-size=4'])).toEqual([
      '--cpu-prof',
      '--cpu-prof-dir',
      '/tmp/p',
    ]);
  });

  it('gives no flags to the threads of a process that is not profiled', () => {
    expect(profilingFlags(['--cpu-prof-dir=/tmp/p', '--max-semi-space-size=4'])).toEqual([]);
    expect(profilingFlags([])).toEqual([]);
  });
});
