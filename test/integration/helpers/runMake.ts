import { type CliResult, runCommand } from './runCli.js';

/**
 * Runs `make <args>` from the repository root with extra environment (SDP_* overrides), as an
 * operator would. Its `install` and `build` prerequisites are taken as done (`-o`): dist is built
 * before the integration tests, and a test must never run `npm ci`.
 */
export function runMake(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  return runCommand('make', ['--no-print-directory', '-o', 'install', '-o', 'build', ...args], env, timeoutMs);
}
