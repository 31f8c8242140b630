import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from './projectRoot.js';
import type { CliResult } from './runCli.js';

/**
 * Runs `make <args>` from the repository root with extra environment (SDP_* overrides), as an
 * operator would. Its `install` and `build` prerequisites are taken as done (`-o`): dist is built
 * before the integration tests, and a test must never run `npm ci`.
 */
export function runMake(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  const startedMs = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['--no-print-directory', '-o', 'install', '-o', 'build', ...args], {
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
