/**
 * Every failure at start is one `error SDP_ERR_…` line with the cause and the fix, exit 1, no stack
 * trace: Kafka refusing, a checkpoint store that cannot open, a lake root that is a file or lies
 * under one (or has a file where its tables go), a checkpoint root under a file, a disk full.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { etlEnv } from '../helpers/etlProcess.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { runCli, type CliResult } from '../helpers/runCli.js';
import { testLogger } from '../helpers/testLogger.js';

const dir = mkdtempSync(join(tmpdir(), 'sdp-start-failures-'));
const aFile = join(dir, 'a-file');
const fullDisk = join(dir, 'full-disk');
let config: Config;
let mounted = false;

function env(roots: { lake?: string; checkpoints?: string }, extra: Record<string, string> = {}) {
  return etlEnv(config, {
    lakeRoot: roots.lake ?? join(dir, 'lake'),
    checkpointRoot: roots.checkpoints ?? join(dir, `checkpoints-${Math.random().toString(36).slice(2)}`),
    extra: { SDP_UI__KAFKA_UI: 'off', ...extra },
  });
}

function expectOneLine(result: CliResult, code: string, message: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('error'));
  expect(errorLines, result.stderr).toHaveLength(1);
  expect(errorLines[0]).toContain(`error ${code}: `);
  expect(errorLines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stdout).not.toMatch(/\n\s+at /);
}

describe('a failure at start is one line with its cause and fix', () => {
  beforeAll(async () => {
    config = loadTestConfig();
    await createTestTopics(config, testLogger());
    writeFileSync(aFile, 'not a directory\n');
    mkdirSync(fullDisk);
    // A 64 KiB tmpfs filled to the last byte (needs root; the case is skipped without).
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', fullDisk]).status === 0;
    if (mounted) spawnSync('dd', ['if=/dev/zero', `of=${join(fullDisk, 'fill')}`, 'bs=4k']);
  });

  afterAll(() => {
    if (mounted) spawnSync('umount', [fullDisk]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('Kafka refusing connections', async () => {
    const result = await runCli(
      ['etl'],
      env({}, { SDP_KAFKA__BOOTSTRAP_SERVERS: '127.0.0.1:1', SDP_KAFKA__UNREACHABLE_TIMEOUT: '5s' }),
    );
    expectOneLine(result, 'SDP_ERR_KAFKA_UNREACHABLE', /Kafka is unreachable at 127\.0\.0\.1:1/);
  });

  it('a checkpoint store that cannot open', async () => {
    const checkpoints = join(dir, 'corrupt-store');
    mkdirSync(checkpoints);
    writeFileSync(join(checkpoints, 'checkpoints.sqlite'), 'this is not SQLite\n'.repeat(100));
    const result = await runCli(['etl'], env({ checkpoints }));
    expectOneLine(result, 'SDP_ERR_CHECKPOINT_STORE', /cannot open checkpoint store .*file is not a database/);
  });

  it('a lake root that is a file', async () => {
    const result = await runCli(['etl'], env({ lake: aFile }));
    expectOneLine(
      result,
      'SDP_ERR_STORAGE_UNUSABLE',
      new RegExp(`storage\\.datalake_root ${aFile} cannot be used: ${aFile} is a file, not a directory`),
    );
  });

  it('a lake root under a file, and a checkpoint root under a file', async () => {
    const lake = await runCli(['etl'], env({ lake: join(aFile, 'lake') }));
    expectOneLine(lake, 'SDP_ERR_STORAGE_UNUSABLE', new RegExp(`datalake_root .* cannot be used: ${aFile} is a file`));
    const checkpoints = await runCli(['etl'], env({ checkpoints: join(aFile, 'cp') }));
    expectOneLine(
      checkpoints,
      'SDP_ERR_STORAGE_UNUSABLE',
      new RegExp(`checkpoint_root .* cannot be used: ${aFile} is a file`),
    );
  });

  it('a file where the lake keeps its tables', async () => {
    const lake = join(dir, 'lake-with-file');
    mkdirSync(lake);
    writeFileSync(join(lake, 'tables'), '');
    const result = await runCli(['etl'], env({ lake }));
    expectOneLine(result, 'SDP_ERR_STORAGE_UNUSABLE', /tables is a file, not a directory \(ENOTDIR/);
  });

  it('a disk full at start', async (context) => {
    if (!mounted) context.skip();
    const lakeResult = await runCli(['etl'], env({ lake: join(fullDisk, 'lake') }));
    expectOneLine(
      lakeResult,
      'SDP_ERR_STORAGE_UNUSABLE',
      /the disk holding storage\.datalake_root .* is full \(ENOSPC/,
    );
    const storeResult = await runCli(['etl'], env({ checkpoints: join(fullDisk, 'cp') }));
    expect(storeResult.code).toBe(1);
    expect(storeResult.stderr.split('\n').filter((l) => l.startsWith('error'))).toHaveLength(1);
    expect(storeResult.stderr).toMatch(/^error SDP_ERR_(STORAGE_UNUSABLE|CHECKPOINT_STORE): .*(full|ENOSPC)/m);
    expect(storeResult.stderr).not.toMatch(/\n\s+at /);
  });
});
