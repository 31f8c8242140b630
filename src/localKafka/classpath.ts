/**
 * The class path of Apache Kafka's broker jars, resolved by Maven from the repository's pom.xml
 * (jars cached in ~/.m2) and kept in `<data_dir>/classpath-<version>.txt` for the next start.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
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

export function classpathFile(dataDir: string, kafkaVersion: string): string {
  return `${dataDir}/classpath-${kafkaVersion}.txt`;
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
 * Returns the broker class path for `kafkaVersion`, asking Maven only when the cached file is
 * missing or stale. Throws SdpError(LOCAL_KAFKA_JARS) when Maven is absent or fails.
 */
export async function resolveKafkaClasspath(dataDir: string, kafkaVersion: string, logger: Logger): Promise<string> {
  const file = classpathFile(dataDir, kafkaVersion);
  const cached = readCachedClasspath(file);
  if (cached) return cached;

  const mvn = findExecutable('mvn');
  if (!mvn) {
    throw new SdpError(
      ErrorCodes.LOCAL_KAFKA_JARS,
      'Maven (mvn) is not on PATH: it is needed once to fetch the Apache Kafka broker jars',
      ['install Maven 3.8+ (e.g. `apt-get install maven`), or run Kafka with Docker: `make up`'],
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const startedMs = Date.now();
  logger.info({ kafkaVersion, pom: POM_FILE }, 'resolving Kafka broker jars with Maven');
  const args = [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    POM_FILE,
    'dependency:build-classpath',
    `-Dkafka.version=${kafkaVersion}`,
    `-Dmdep.outputFile=${file}`,
  ];
  let result: { code: number | null; output: string };
  try {
    result = await runMaven(mvn, args);
  } catch (err) {
    throw new SdpError(ErrorCodes.LOCAL_KAFKA_JARS, `Maven could not be run (${(err as Error).message})`, [], {
      cause: err,
    });
  }
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
  return resolved;
}
