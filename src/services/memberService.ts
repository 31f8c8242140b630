/**
 * The local ETL members of `services scale` (architecture.md, "Services and operating"): `etl` detached like
 * the platform of `services up`, each from its own run dir under services.run_dir, found again through its
 * pid file. The rules (which to start or stop, dirs, ports) are in memberLayout.ts and scalePlan.ts.
 */
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { isPortFree } from '../system/processes.js';
import {
  assignStatusPorts,
  candidatePorts,
  memberArgs,
  memberEnv,
  memberPaths,
  membersDirOf,
  parseMemberDirName,
  type MemberPaths,
  type PortChoice,
} from './memberLayout.js';
import { inspectPlatform, runDirOf, startDetached, type StartResult } from './platformService.js';
import type { PidRecord, PidVerdict } from './pidFile.js';
import { platformEnv } from './platformRuntime.js';

export interface LocalMember {
  paths: MemberPaths;
  record?: PidRecord;
  verdict?: PidVerdict;
}

export function memberPathsOf(config: Config, index: number): MemberPaths {
  return memberPaths(runDirOf(config), resolve(config.storage.checkpoint_root), index);
}

/** Every member dir under `<run_dir>/members`, ascending, with what became of its pid file's process. */
export function listLocalMembers(config: Config): LocalMember[] {
  let names: string[];
  try {
    names = readdirSync(membersDirOf(runDirOf(config)));
  } catch {
    return [];
  }
  return names
    .map(parseMemberDirName)
    .filter((i): i is number => i !== undefined)
    .sort((a, b) => a - b)
    .map((index) => {
      const paths = memberPathsOf(config, index);
      return { paths, ...inspectPlatform(paths.runDir) };
    });
}

export function isRunning(member: LocalMember): boolean {
  return member.verdict?.state === 'running';
}

/**
 * A status port for each member to start (memberLayout.ts `assignStatusPorts`): the ports above
 * ui.status_port are probed first; the platform's own two ports are never given to a member.
 */
export async function chooseStatusPorts(config: Config, indexes: readonly number[]): Promise<Map<number, PortChoice>> {
  const base = config.ui.status_port;
  const busy = new Set<number>([base, config.ui.kafka_ui_port]);
  for (const port of candidatePorts(indexes, base)) if (!(await isPortFree(port))) busy.add(port);
  return assignStatusPorts(indexes, base, (port) => busy.has(port));
}

export interface MemberStart {
  paths: MemberPaths;
  port: PortChoice;
  result: StartResult;
}

/**
 * Starts the members at once and waits for each one's /readyz (services.ready_timeout). A member gets the
 * platform's MALLOC_ARENA_MAX (services/platformRuntime.ts) but not its semi-space flag, which costs an ETL
 * catch-up CPU per event.
 */
export async function startMembers(options: {
  config: Config;
  configFile?: string;
  ports: ReadonlyMap<number, PortChoice>;
  say: (line: string) => void;
}): Promise<MemberStart[]> {
  const { config, say } = options;
  const cli = resolve(process.argv[1] ?? 'dist/main.js');
  return Promise.all(
    [...options.ports].map(async ([index, port]) => {
      const paths = memberPathsOf(config, index);
      const result = await startDetached({
        label: `member ${index}`,
        runDir: paths.runDir,
        logFile: paths.logFile,
        outFile: paths.outFile,
        argv: memberArgs(cli, paths.logFile, options.configFile),
        env: { ...platformEnv(process.env), ...memberEnv(paths, port.port, config.kafka.client_id) },
        readyTimeoutMs: config.services.ready_timeout,
        shutdownTimeoutMs: config.etl.shutdown_timeout,
        say,
        progressEveryMs: 10_000,
      });
      return { paths, port, result };
    }),
  );
}
