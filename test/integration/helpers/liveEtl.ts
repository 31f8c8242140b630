import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/config/schema.js';
import type { Logger } from '../../../src/log/logger.js';
import { etlEnv, EtlProcess } from './etlProcess.js';
import { createTestTopics, deleteTestTopics, TestProducer } from './kafkaTestData.js';

/**
 * `etl` reading the test's own new topics while the test produces to them: the topics made, the ETL started on an
 * empty lake and checkpoint store, its clickstream partitions reading, a producer connected. `close` (afterAll) kills
 * what still runs, deletes the topics (the internal ones too) and the directory, whatever `start` got to.
 */
export class LiveEtl {
  private readonly dir: string;
  private etl?: EtlProcess;
  private producer?: TestProducer;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    prefix: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** `extra`: SDP_* overrides of the ETL. */
  async start(extra: Record<string, string>): Promise<{ etl: EtlProcess; producer: TestProducer }> {
    await createTestTopics(this.config, this.logger);
    const etl = EtlProcess.start(
      etlEnv(this.config, { lakeRoot: join(this.dir, 'lake'), checkpointRoot: join(this.dir, 'checkpoints'), extra }),
    );
    this.etl = etl;
    await etl.waitForLog(
      (l) => l.msg === 'partition reading' && l.topic === this.config.topics.clickstream,
      120_000,
      'the clickstream partitions reading',
    );
    const producer = new TestProducer(this.config, this.logger);
    this.producer = producer;
    await producer.connect();
    return { etl, producer };
  }

  async close(): Promise<void> {
    if (this.etl?.running) {
      this.etl.child.kill('SIGKILL');
      await this.etl.exited;
    }
    await this.producer?.disconnect();
    await deleteTestTopics(this.config, this.logger).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
