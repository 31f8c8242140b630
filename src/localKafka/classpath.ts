/**
 * The class path of Apache Kafka's broker jars, resolved by Maven from the repository's pom.xml
 * (jars cached in ~/.m2). Maven takes seconds even when every jar is in ~/.m2, so the class path is
 * kept per user in `$XDG_CACHE_HOME/sdp/` (default ~/.cache/sdp/), keyed by the Kafka version and a
 * hash of pom.xml: a new data dir starts without Maven, a changed pom.xml or a deleted jar asks it
 * again. A copy goes to `<data_dir>/classpath-<version>.txt` for tools that read it there.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, SdpError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { findExecutable } from '../system/processes.js';

/** The repository's pom.xml: two levels above this module, from src/localKafka/ and from dist/localKafka/ alike. */
export const POM_FILE = fileURLToPath(new URL('../../pom.xml', import.meta.url));
/** The log4j configuration of the local brokers. */
export const BROKER_LOG4J_FILE = fileURLToPath(new URL('../../kafka/log4j.properties', import.meta.url));
/** The log4j configuration of the Kafka tools run before a broker starts (storage formatting). */
export const TOOLS_LOG4J_FILE = fileURLToPath(new URL('../../kafka/tools-log4j.properties', import.meta.url));

const MAVEN_TIMEOUT_MS = 10 * 60_000;

/** The copy in the data dir, for tools that read the class path there. */
export function classpathFile(dataDir: string, kafkaVersion: string): string {
  return `${dataDir}/classpath-${kafkaVersion}.txt`;
}

/** The user's cache dir of the platform: $XDG_CACHE_HOME/sdp, else ~/.cache/sdp. */
export function userCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'sdp');
}

/** The cached class path of `kafkaVersion` as resolved from this pom.xml. */
export function cachedClasspathFile(cacheDir: string, kafkaVersion: string, pomFile = POM_FILE): string {
  const pomHash = createHash('sha256').update(readFileSync(pomFile)).digest('hex').slice(0, 16);
  return join(cacheDir, `kafka-classpath-${kafkaVersion}-${pomHash}.txt`);
}

function copyToDataDir(cached: string, dataDir: string, kafkaVersion: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
    copyFileSync(cached, classpathFile(dataDir, kafkaVersion));
  } catch {
    // only a convenience for tools; the start does not need it
  }
}

/** The jars of a class path file, or undefined when the file is missing or names a jar that is gone. */
function readCachedClasspath(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trim();
  const jars = text.split(delimiter).filter((jar) => jar !== '');
  if (jars.length === 0 || !jars.every((jar) => existsSync(jar))) return undefined;
  if (!jars.some((jar) => /[\\/]kafka_2\.13-[^\\/]+\.jar$/.test(jar))) return undefined;
  return jars.join(delimiter);
}

function runMaven(mvn: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: MAVEN_TIMEOUT_MS });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/**
 * Returns the broker class path for `kafkaVersion`, asking Maven only when the user's cached file
 * for this pom.xml is missing or names a jar that is gone. Throws SdpError(LOCAL_KAFKA_JARS) when
 * Maven is absent or fails.
 */
export async function resolveKafkaClasspath(
  dataDir: string,
  kafkaVersion: string,
  logger: Logger,
  options: { cacheDir?: string; pomFile?: string } = {},
): Promise<string> {
  const pomFile = options.pomFile ?? POM_FILE;
  let cacheDir = options.cacheDir ?? userCacheDir();
  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch {
    // no writable home (a service user): the data dir keeps it instead
    cacheDir = dataDir;
  }
  const file = cachedClasspathFile(cacheDir, kafkaVersion, pomFile);
  const cached = readCachedClasspath(file);
  if (cached) {
    copyToDataDir(file, dataDir, kafkaVersion);
    return cached;
  }

  const mvn = findExecutable('mvn');
  if (!mvn) {
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_JARS,
      'Maven (mvn) is not on PATH: it is needed once to fetch the Apache Kafka broker jars',
      ['install Maven 3.8+ (e.g. `apt-get install maven`), or run Kafka with Docker: `make up`'],
    );
  }
  mkdirSync(dirname(file), { recursive: true });
  // Maven writes beside it, renamed into place: a cluster starting at the same time never reads half a file.
  const written = `${file}.${process.pid}.tmp`;
  const startedMs = Date.now();
  logger.info({ kafkaVersion, pom: pomFile }, 'resolving Kafka broker jars with Maven');
  const args = [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    pomFile,
    'dependency:build-classpath',
    `-Dkafka.version=${kafkaVersion}`,
    `-Dmdep.outputFile=${written}`,
  ];
  let result: { code: number | null; output: string };
  try {
    result = await runMaven(mvn, args);
  } catch (err) {
    throw new SdpError(ErrorCodes.LOCAL_KAFKA_JARS, `Maven could not be run (${(err as Error).message})`, [], {
      cause: err,
    });
  }
  if (result.code === 0 && existsSync(written)) renameSync(written, file);
  else rmSync(written, { force: true });
  const resolved = result.code === 0 ? readCachedClasspath(file) : undefined;
  if (!resolved) {
    const tail = result.output.trim().split('\n').slice(-15);
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_JARS,
      `Maven could not resolve org.apache.kafka:kafka_2.13:${kafkaVersion} (exit ${String(result.code)})`,
      [
        `command: mvn ${args.join(' ')}`,
        'is Maven Central reachable? Is kafka.local.kafka_version a released 3.9.x version?',
        ...tail,
      ],
    );
  }
  logger.info({ kafkaVersion, durationMs: Date.now() - startedMs, file }, 'Kafka broker jars resolved');
  copyToDataDir(file, dataDir, kafkaVersion);
  return resolved;
}
