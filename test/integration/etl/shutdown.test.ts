/**
 * architecture.md, "Back-pressure and shutdown": SIGTERM makes a graceful stop with exit 0, whenever it arrives — also
 * while the ETL is still starting (recovering the lake, joining the consumer group), as happens when an orchestrator
 * stops a pod that has just been scheduled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { etlEnv, EtlProcess } from '../helpers/etlProcess.js';
import { createTestTopics } from '../helpers/kafkaTestData.js';
import { tmpFiles } from '../helpers/lakeReader.js';
import { loadTestConfig } from '../helpers/loadTestConfig.js';
import { testLogger } from '../helpers/testLogger.js';

describe('etl shutdown on SIGTERM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdp-etl-shutdown-'));
  afterAll(() => {
    if (process.env.ETL_TEST_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 when SIGTERM arrives during start-up (after lake recovery, before the group is joined)', async () => {
    const config = loadTestConfig();
    await createTestTopics(config, testLogger());
    const env = etlEnv(config, { lakeRoot: join(dir, 'lake'), checkpointRoot: join(dir, 'checkpoints') });
    const etl = EtlProcess.start(env, { logFile: join(dir, 'etl.log') });
    try {
      await etl.waitForLog((l) => l.msg === 'lake recovered from the checkpoint store', 120_000, 'lake recovery');
      const exit = await etl.terminate();
      expect(exit, `log:\n${etl.tail(15)}`).toEqual({ code: 0, signal: null });
      expect(tmpFiles(join(dir, 'lake'))).toEqual([]);
    } finally {
      if (etl.running) await etl.kill9();
    }
  });
});
