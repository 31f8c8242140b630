import { spawn } from 'node:child_process';
import { CLI, PROJECT_ROOT } from './projectRoot.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/**
 * Runs `node dist/main.js <args>` from the repository root with extra environment (SDP_* overrides),
 * as an operator would; dist must be built (`npm run build` runs before the integration tests).
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 240_000): Promise<CliResult> {
  return runCommand(process.execPath, [CLI, ...args], env, timeoutMs);
}

/** Runs a program from the repository root, its output collected, bounded by `timeoutMs`. */
export function runCommand(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<CliResult> {
  const startedMs = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, elapsedMs: Date.now() - startedMs }));
  });
}
