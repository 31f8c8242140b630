/**
 * `setup`'s checks (architecture.md, "Services and operating"): which tools the platform needs
 * are here, in which version, and the exact command for each one that is missing. Installing
 * system packages asks for root, so setup only prints those commands; what needs no one's
 * permission (npm packages, the Kafka jars in ~/.m2) it installs itself.
 */
import { spawnSync } from 'node:child_process';
import { findExecutable } from '../system/processes.js';

export interface ToolCheck {
  tool: string;
  /** What the platform needs it for. */
  purpose: string;
  required: boolean;
  found: boolean;
  version?: string;
  /** Too old, when `found`. */
  problem?: string;
  /** The command that installs it, when missing or too old. */
  fix?: string;
}

/** The first `major.minor[.patch]` in a version text, as numbers. */
export function parseVersion(text: string): number[] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** True when `version` ≥ `minimum`, comparing part by part. */
export function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const a = version[i] ?? 0;
    const b = minimum[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** `apt-get install` where apt exists, `brew install` on macOS, else the package name alone. */
export function installCommand(packages: { apt: string; brew: string }, hasApt: boolean, hasBrew: boolean): string {
  if (hasApt) return `sudo apt-get install -y ${packages.apt}`;
  if (hasBrew) return `brew install ${packages.brew}`;
  return `install ${packages.apt} with your system's package manager`;
}

function versionOf(command: string, args: string[]): string | undefined {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 15_000 });
  if (r.error) return undefined;
  // eslint-disable-next-line no-control-regex
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
  return /\d+\.\d+(\.\d+)?/.exec(text)?.[0] ?? text.trim().split('\n')[0];
}

export function checkTools(env: NodeJS.ProcessEnv = process.env): ToolCheck[] {
  const hasApt = findExecutable('apt-get', env) !== undefined;
  const hasBrew = findExecutable('brew', env) !== undefined;
  const fix = (apt: string, brew: string) => installCommand({ apt, brew }, hasApt, hasBrew);
  const docker =
    findExecutable('docker', env) !== undefined &&
    spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  const checks: ToolCheck[] = [];

  const node = parseVersion(process.versions.node) ?? [0, 0, 0];
  checks.push({
    tool: 'node',
    purpose: 'runs the platform',
    required: true,
    found: true,
    version: process.versions.node,
    ...(atLeast(node, [20, 19])
      ? {}
      : {
          problem: 'Node.js 20.19 or later is needed',
          fix: 'install Node.js 20.19+ from https://nodejs.org or with nvm: `nvm install 22`',
        }),
  });

  const npm = findExecutable('npm', env) ? versionOf('npm', ['--version']) : undefined;
  checks.push({
    tool: 'npm',
    purpose: 'installs the packages',
    required: true,
    found: npm !== undefined,
    ...(npm ? { version: npm } : { fix: fix('npm', 'node') }),
  });

  const javaText = findExecutable('java', env) ? versionOf('java', ['-version']) : undefined;
  const java = javaText ? parseVersion(javaText) : undefined;
  const javaOld = java !== undefined && !atLeast(java[0] === 1 ? [java[1] ?? 0] : java, [11]);
  checks.push({
    tool: 'java',
    purpose: docker
      ? 'local Kafka brokers (optional: Docker answers)'
      : 'the local Kafka brokers (no Docker engine answers)',
    required: !docker,
    found: javaText !== undefined,
    ...(javaText ? { version: javaText } : {}),
    ...(javaText && !javaOld ? {} : { fix: fix('openjdk-17-jre-headless', 'openjdk@17') }),
    ...(javaOld ? { problem: 'Java 11 or later is needed (17 recommended)' } : {}),
  });

  const mvn = findExecutable('mvn', env) ? versionOf('mvn', ['--version']) : undefined;
  checks.push({
    tool: 'mvn',
    purpose: docker ? 'fetches the Kafka jars (optional: Docker answers)' : 'fetches the Kafka broker jars once',
    required: !docker,
    found: mvn !== undefined,
    ...(mvn ? { version: mvn } : { fix: fix('maven', 'maven') }),
  });

  const kcat = findExecutable('kcat', env) ? versionOf('kcat', ['-V']) : undefined;
  checks.push({
    tool: 'kcat',
    purpose: 'the integration tests (`make test` installs it when it can)',
    required: false,
    found: kcat !== undefined,
    ...(kcat ? { version: kcat } : { fix: fix('kcat', 'kcat') }),
  });

  const python = findExecutable('python3', env) ? versionOf('python3', ['--version']) : undefined;
  checks.push({
    tool: 'python3',
    purpose: 'builds better-sqlite3 where no prebuilt binary fits',
    required: false,
    found: python !== undefined,
    ...(python ? { version: python } : { fix: fix('python3', 'python') }),
  });

  checks.push({
    tool: 'docker',
    purpose: 'optional: the Docker Kafka cluster and Kafka UI',
    required: false,
    found: docker,
    ...(docker
      ? { version: 'engine answers' }
      : { fix: 'optional: https://docs.docker.com/engine/install/ (without it `make up` uses the local brokers)' }),
  });
  return checks;
}

export function checkOk(c: ToolCheck): boolean {
  return c.found && c.problem === undefined;
}
