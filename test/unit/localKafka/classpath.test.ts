import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isSdpError } from '../../../src/errors.js';
import { createLogger } from '../../../src/log/logger.js';
import {
  cachedClasspathFile,
  classpathFile,
  POM_FILE,
  resolveKafkaClasspath,
} from '../../../src/localKafka/classpath.js';

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

  it('a new data dir reuses the class path cached for this pom.xml without Maven, and copies it into the data dir', async () => {
    const jars = [jar('kafka_2.13-3.9.2.jar'), jar('kafka-clients-3.9.2.jar')];
    const cacheDir = join(dir, 'cache');
    mkdirSync(cacheDir);
    writeFileSync(cachedClasspathFile(cacheDir, '3.9.2'), `${jars.join(delimiter)}\n`);
    const dataDir = join(dir, 'new-data-dir');
    await expect(resolveKafkaClasspath(dataDir, '3.9.2', logger, { cacheDir })).resolves.toBe(jars.join(delimiter));
    expect(readFileSync(classpathFile(dataDir, '3.9.2'), 'utf8').trim()).toBe(jars.join(delimiter));
  });

  it('asks Maven again when a jar of the cached class path is gone, and says when Maven is missing', async () => {
    const jars = [jar('kafka_2.13-3.9.2.jar'), join(dir, 'deleted.jar')];
    writeFileSync(cachedClasspathFile(dir, '3.9.2'), jars.join(delimiter));
    const err = await resolveKafkaClasspath(dir, '3.9.2', logger, { cacheDir: dir }).catch((e: unknown) => e);
    expect(isSdpError(err, ErrorCodes.LOCAL_KAFKA_JARS)).toBe(true);
    expect((err as Error).message).toMatch(/Maven \(mvn\) is not on PATH/);
  });

  it('keys the cache by the Kafka version and pom.xml: another pom is a miss', async () => {
    const pom = join(dir, 'pom.xml');
    writeFileSync(pom, '<project>a</project>');
    const a = cachedClasspathFile(dir, '3.9.2', pom);
    writeFileSync(a, jar('kafka_2.13-3.9.2.jar'));
    await expect(resolveKafkaClasspath(dir, '3.9.2', logger, { cacheDir: dir, pomFile: pom })).resolves.toContain(
      'kafka_2.13-3.9.2.jar',
    );
    writeFileSync(pom, '<project>b</project>');
    expect(cachedClasspathFile(dir, '3.9.2', pom)).not.toBe(a);
    expect(cachedClasspathFile(dir, '3.9.1', pom)).not.toBe(cachedClasspathFile(dir, '3.9.2', pom));
    const err = await resolveKafkaClasspath(dir, '3.9.2', logger, { cacheDir: dir, pomFile: pom }).catch(
      (e: unknown) => e,
    );
    expect(isSdpError(err, ErrorCodes.LOCAL_KAFKA_JARS)).toBe(true);
  });

  it('keeps one class path file per Kafka version', () => {
    expect(classpathFile('/d', '3.9.1')).toBe('/d/classpath-3.9.1.txt');
    expect(classpathFile('/d', '3.9.2')).toBe('/d/classpath-3.9.2.txt');
  });
});
