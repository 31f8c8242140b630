import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log/logger.js';
import { classpathFile, POM_FILE, resolveKafkaClasspath } from '../../../src/localKafka/classpath.js';

const logger = createLogger({ level: 'silent', format: 'json' });

describe('resolveKafkaClasspath', () => {
  let dir: string;
  let savedPath: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sdp-classpath-'));
    savedPath = process.env.PATH;
    // No Maven anywhere: a hit on the cache must not need it, a miss must say so.
    process.env.PATH = join(dir, 'no-such-bin');
  });

  afterEach(() => {
    process.env.PATH = savedPath;
  });

  function jar(name: string): string {
    const path = join(dir, name);
    writeFileSync(path, '');
    return path;
  }

  it('finds the pom.xml of the repository', () => {
    expect(existsSync(POM_FILE)).toBe(true);
  });

  it('reuses the class path file when every jar in it exists', async () => {
    const jars = [jar('kafka_2.13-3.9.2.jar'), jar('kafka-clients-3.9.2.jar')];
    writeFileSync(classpathFile(dir, '3.9.2'), `${jars.join(delimiter)}\n`);
    await expect(resolveKafkaClasspath(dir, '3.9.2', logger)).resolves.toBe(jars.join(delimiter));
  });

  it('asks Maven again when a jar of the cached class path is gone, and says when Maven is missing', async () => {
    const jars = [jar('kafka_2.13-3.9.2.jar'), join(dir, 'deleted.jar')];
    writeFileSync(classpathFile(dir, '3.9.2'), jars.join(delimiter));
    const err = await resolveKafkaClasspath(dir, '3.9.2', logger).catch((e: unknown) => e);
    expect(isSdpError(err, ErrorCodes.LOCAL_KAFKA_JARS)).toBe(true);
    expect((err as Error).message).toMatch(/Maven \(mvn\) is not on PATH/);
  });

  it('keeps one class path file per Kafka version', () => {
    expect(classpathFile('/d', '3.9.1')).toBe('/d/classpath-3.9.1.txt');
    expect(classpathFile('/d', '3.9.2')).toBe('/d/classpath-3.9.2.txt');
  });
});
