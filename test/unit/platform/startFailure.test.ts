import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, SdpError } from '../../../src/errors.js';
import { startFailure } from '../../../src/platform/startFailure.js';
import { parseConfig } from '../../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'sdp-start-failure-'));
const file = join(dir, 'a-file');
writeFileSync(file, '');
const { config } = parseConfig('{}', 'config.yml', {
  SDP_STORAGE__DATALAKE_ROOT: join(file, 'lake'),
  SDP_STORAGE__CHECKPOINT_ROOT: join(dir, 'cp'),
});

function errno(code: string, syscall: string, path?: string): Error {
  return Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, ...(path ? { path } : {}) });
}

describe('startFailure', () => {
  it('names the storage root, the file in the way and the fix', () => {
    const err = startFailure(errno('ENOTDIR', 'mkdir', join(file, 'lake')), config);
    expect(err.code).toBe(ErrorCodes.STORAGE_UNUSABLE);
    expect(err.message).toBe(
      `storage.datalake_root ${join(file, 'lake')} cannot be used: ${file} is a file, not a directory (ENOTDIR: mkdir ${join(file, 'lake')})`,
    );
    expect(err.details[0]).toContain('point storage.datalake_root at a directory');
  });

  it('a full disk under the checkpoint root', () => {
    const err = startFailure(errno('ENOSPC', 'write', join(dir, 'cp', '.sdp-root')), config);
    expect(err.code).toBe(ErrorCodes.STORAGE_UNUSABLE);
    expect(err.message).toMatch(/^the disk holding storage\.checkpoint_root .*cp is full \(ENOSPC: write /);
  });

  it("a query that timed out because the actor it asked crashed reports the actor's error", () => {
    const crashed = { component: 'checkpointer', cause: errno('ENOTDIR', 'scandir', join(file, 'lake')) };
    expect(startFailure(new Error('Query Timeout'), config, crashed).code).toBe(ErrorCodes.STORAGE_UNUSABLE);
    const other = startFailure(new Error('Query Timeout'), config, {
      component: 'checkpointer',
      cause: new Error('boom'),
    });
    expect(other.code).toBe(ErrorCodes.PLATFORM_START_FAILED);
    expect(other.message).toBe('the platform could not start: checkpointer: boom');
    expect(startFailure(new Error('Query Timeout'), config).message).toMatch(/did not answer within its start timeout/);
  });

  it('leaves an SdpError as it is; anything else is PLATFORM_START_FAILED with its message', () => {
    const sdp = new SdpError(ErrorCodes.KAFKA_UNREACHABLE, 'x');
    expect(startFailure(sdp, config)).toBe(sdp);
    expect(startFailure(new TypeError('bad'), config).message).toBe('the platform could not start: bad');
    expect(startFailure(errno('ENOENT', 'open', '/elsewhere/x'), config).code).toBe(ErrorCodes.PLATFORM_START_FAILED);
  });
});
